// bench:sky — what the sky engine costs, on the on-demand path and on the worker's grid path.
//
//   npm run bench:sky [-- --locations=1000 --naive-locations=20 --ticks=120 --calls=100000]
//
// 1. Per call: computeBody on one PositionCalculator, as GET /planets keeps one (time ≈ now, random
//    body and observer every call, rise/transit/set included)
//    against computeBodyNaive (astronomy-engine's own functions); computeBody at random instants 1900–2100
//    (its interpolation spans are mostly cold there); computeAll.
// 2. One tick of the grid, N locations (deterministic Fibonacci sphere) × 10 bodies:
//    - naive: computeBodyNaive per pair, measured on --naive-locations locations and scaled to N (it is
//      far too slow to run in full: its per-call row above gives the cost of a pair);
//    - grid, every rise/set/transit searched afresh (the first tick, or after time jumps);
//    - steady state: --ticks one-second ticks, measured after the event cache has been through a whole
//      entry lifetime (DEFAULT_EVENT_MAX_AGE_MINUTES of simulated ticks first): the grid tick, then the
//      tick's per-location Snapshot JSON, with JSON.stringify and with grid.bodiesJson (same bytes).
// Wall-clock figures on a shared machine are noisy: the process CPU time (all threads, GC included)
// is printed beside them.
// The last line is the speed-up of the grid tick over the naive per-pair tick.

import { parseArgs } from 'node:util';
import { createSkyGrid, DEFAULT_EVENT_MAX_AGE_MINUTES } from '../src/sky/grid.ts';
import { PositionCalculator } from '../src/sky/fast-path.ts';
import { computeBodyNaive } from '../src/sky/reference-path.ts';
import { loadavg } from 'node:os';
import { BODY_NAMES, type Location, type Observer, type Snapshot } from '../src/sky/types.ts';

const { values: args } = parseArgs({
  options: {
    locations: { type: 'string', default: '1000' },
    'naive-locations': { type: 'string', default: '20' },
    ticks: { type: 'string', default: '120' },
    calls: { type: 'string', default: '100000' },
  },
});
const N = Number(args.locations);
const N_NAIVE = Math.min(N, Number(args['naive-locations']));
const TICKS = Number(args.ticks);
const CALLS = Number(args.calls);

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

/** N points spread evenly over the globe (Fibonacci sphere), elevations 0..2999 m. */
function fibonacciLocations(n: number): Location[] {
  const golden = Math.PI * (3 - Math.sqrt(5));
  return Array.from({ length: n }, (_, i) => {
    const z = 1 - (2 * i + 1) / n;
    const lon = ((((i * golden * 180) / Math.PI) % 360) + 360) % 360 - 180;
    return {
      id: `fib-${i}`,
      name: `Fibonacci point ${i}`,
      country: 'AQ',
      lat: (Math.asin(z) * 180) / Math.PI,
      lon,
      elevation: (i * 37) % 3000,
      timezone: 'UTC',
    };
  });
}

interface Timing {
  wallMs: number;
  cpuMs: number;
}

function time(fn: () => void): Timing {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  fn();
  const wallMs = performance.now() - w0;
  const c = process.cpuUsage(c0);
  return { wallMs, cpuMs: (c.user + c.system) / 1000 };
}

const rows: [string, string, string, string][] = [];
function row(what: string, t: Timing, per: number, unit: 'µs' | 'ms', note = ''): void {
  const k = unit === 'µs' ? 1000 : 1;
  rows.push([what, `${((t.wallMs * k) / per).toFixed(unit === 'µs' ? 2 : 1)} ${unit}`, `${((t.cpuMs * k) / per).toFixed(unit === 'µs' ? 2 : 1)} ${unit}`, note]);
}

// ---- 1. per call ------------------------------------------------------------------------------------
const r = rng(20240611);
const observers: Observer[] = Array.from({ length: 4096 }, () => ({
  lat: (Math.asin(2 * r() - 1) * 180) / Math.PI,
  lon: 360 * r() - 180,
  elevation: Math.round(3000 * r()),
}));
const names = Array.from({ length: 4096 }, () => BODY_NAMES[Math.floor(r() * BODY_NAMES.length)]!);
const base = Date.now();
const calc = new PositionCalculator();

for (let i = 0; i < 20_000; i++) calc.computeBody(names[i & 4095]!, observers[i & 4095]!, new Date(base + i));
row(
  'computeBody, time ≈ now, random body/observer',
  time(() => {
    for (let i = 0; i < CALLS; i++) calc.computeBody(names[i & 4095]!, observers[i & 4095]!, new Date(base + 20_000 + i));
  }),
  CALLS,
  'µs',
  `${CALLS} calls`,
);
const NAIVE_CALLS = 300;
computeBodyNaive('moon', observers[0]!, new Date(base));
row(
  'computeBodyNaive, same',
  time(() => {
    for (let i = 0; i < NAIVE_CALLS; i++) computeBodyNaive(names[i & 4095]!, observers[i & 4095]!, new Date(base + i));
  }),
  NAIVE_CALLS,
  'µs',
  `${NAIVE_CALLS} calls`,
);
const T_MIN = Date.UTC(1900, 0, 1);
const T_MAX = Date.UTC(2100, 11, 31);
const RANDOM_CALLS = 2000;
row(
  'computeBody, random instant 1900–2100',
  time(() => {
    for (let i = 0; i < RANDOM_CALLS; i++) calc.computeBody(names[i & 4095]!, observers[i & 4095]!, new Date(T_MIN + r() * (T_MAX - T_MIN)));
  }),
  RANDOM_CALLS,
  'µs',
  'cold interpolation spans',
);
const ALL_CALLS = 5000;
row(
  'computeAll (10 bodies), time ≈ now',
  time(() => {
    for (let i = 0; i < ALL_CALLS; i++) calc.computeAll(observers[i & 4095]!, new Date(base + i));
  }),
  ALL_CALLS,
  'µs',
  `${ALL_CALLS} calls`,
);

// ---- 2. one grid tick -------------------------------------------------------------------------------
const locations = fibonacciLocations(N);
const tick0 = Date.UTC(2026, 5, 21, 12, 0, 0);

const naive = time(() => {
  for (let l = 0; l < N_NAIVE; l++) for (const name of BODY_NAMES) computeBodyNaive(name, locations[l]!, new Date(tick0));
});
const naiveScaled: Timing = { wallMs: (naive.wallMs * N) / N_NAIVE, cpuMs: (naive.cpuMs * N) / N_NAIVE };
row(`naive tick: computeBodyNaive per pair`, naiveScaled, 1, 'ms', `measured on ${N_NAIVE} locations, ×${N / N_NAIVE}`);

const grid = createSkyGrid(locations);
row('grid tick, first (cold caches, JIT)', time(() => grid.compute(new Date(tick0))), 1, 'ms');
// Time going backwards invalidates every event entry: a tick with every search redone, JIT warm.
grid.compute(new Date(tick0 + 1000));
row('grid tick, all events searched afresh', time(() => grid.compute(new Date(tick0 - 1000))), 1, 'ms');

// Steady state: one-second ticks, measured once the cache has been through a full entry lifetime.
// Each measured tick is computed, then serialised both ways (interleaved, same data, so garbage from
// one does not land on the other's account more than on its own).
const warmTicks = DEFAULT_EVENT_MAX_AGE_MINUTES * 60;
const measured = TICKS;
let last: ReturnType<typeof grid.compute> = [];
for (let s = 0; s < warmTicks; s++) last = grid.compute(new Date(tick0 + s * 1000));
const locationJson = last.map((sky) => JSON.stringify(sky.location));
const cpuSince = (c0: NodeJS.CpuUsage): number => {
  const c = process.cpuUsage(c0);
  return c.user + c.system;
};
const phases = { compute: [] as number[], stringify: [] as number[], cached: [] as number[], total: [] as number[] };
const cpu = { compute: 0, stringify: 0, cached: 0 };
let bytes = 0;
let same = true;
for (let s = warmTicks; s < warmTicks + measured; s++) {
  const tick = new Date(tick0 + s * 1000);
  let c0 = process.cpuUsage();
  let w0 = performance.now();
  last = grid.compute(tick);
  const tc = performance.now() - w0;
  cpu.compute += cpuSince(c0);

  // What a publisher sends per location: the Snapshot JSON.
  const iso = tick.toISOString();
  const publishedAt = Date.now();
  c0 = process.cpuUsage();
  w0 = performance.now();
  const head = `,"time":"${iso}","bodies":`;
  const tail = `,"publishedAt":${publishedAt}}`;
  const fast: string[] = new Array(last.length);
  for (let i = 0; i < last.length; i++) fast[i] = `{"location":${locationJson[i]}${head}${grid.bodiesJson(i)}${tail}`;
  const tf = performance.now() - w0;
  cpu.cached += cpuSince(c0);

  c0 = process.cpuUsage();
  w0 = performance.now();
  bytes = 0;
  const slow: string[] = new Array(last.length);
  for (let i = 0; i < last.length; i++) {
    const snap: Snapshot = { location: last[i]!.location, time: iso, bodies: last[i]!.bodies, publishedAt };
    slow[i] = JSON.stringify(snap);
    bytes += slow[i]!.length;
  }
  const tj = performance.now() - w0;
  cpu.stringify += cpuSince(c0);
  if (s % 20 === 0) for (let i = 0; i < last.length; i++) same &&= fast[i] === slow[i];

  phases.compute.push(tc);
  phases.cached.push(tf);
  phases.stringify.push(tj);
  phases.total.push(tc + tf);
}
if (!same) throw new Error('grid.bodiesJson output differs from JSON.stringify');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const phaseRow = (what: string, xs: number[], cpuUs: number, note = ''): void => {
  rows.push([
    what,
    `${median(xs).toFixed(1)} ms`,
    `${(cpuUs / 1000 / measured).toFixed(1)} ms`,
    `mean ${mean(xs).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms${note ? '; ' + note : ''}`,
  ]);
};

rows.push(['— steady state, per 1 s tick (wall = median) —', '', '', `${measured} ticks after ${warmTicks} warm-up ticks`]);
phaseRow('grid tick (compute)', phases.compute, cpu.compute);
phaseRow(`serialise: ${N} × JSON.stringify(Snapshot)`, phases.stringify, cpu.stringify, `${(bytes / 1024).toFixed(0)} KiB`);
phaseRow('serialise: grid.bodiesJson + cached location JSON', phases.cached, cpu.cached, 'same bytes (checked)');
phaseRow('compute + serialise (grid.bodiesJson)', phases.total, cpu.compute + cpu.cached);
const steadyMs = median(phases.compute);

// ---- report -------------------------------------------------------------------------------------------
const header: [string, string, string, string] = ['what', 'wall', 'cpu', 'note'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((rw) => rw[i]!.length)));
const line = (cells: string[]): string => cells.map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
console.log(
  `bench:sky — Node ${process.version}, ${N} locations × ${BODY_NAMES.length} bodies; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} (shared machine: wall times are inflated by other processes, see the cpu column)`,
);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const rw of rows) console.log(line(rw));
const perCall = (Number(rows[1]![1].split(' ')[0]) / Number(rows[0]![1].split(' ')[0])).toFixed(0);
console.log(`computeBody is ${perCall}× faster than computeBodyNaive per call`);
console.log(
  `speed-up: grid tick ${steadyMs.toFixed(1)} ms (median) vs naive per-pair tick ${naiveScaled.wallMs.toFixed(0)} ms = ${(naiveScaled.wallMs / steadyMs).toFixed(0)}× faster`,
);
