// bench:sky — what the sky engine costs, on the on-demand path and on the worker's grid path.
//
//   npm run bench:sky [-- --locations=1000 --naive-locations=20 --ticks=120 --calls=100000]
//
// 1. Per call: computeBody (time ≈ now, random body and observer every call, rise/transit/set included)
//    against computeBodyNaive (astronomy-engine's own functions); computeBody at random instants 1900–2100
//    (its interpolation spans are mostly cold there); computeAll.
// 2. One tick of the grid, N locations (deterministic Fibonacci sphere) × 10 bodies:
//    - naive: computeBodyNaive per pair, measured on --naive-locations locations and scaled to N (it is
//      far too slow to run in full: ~3 ms per pair);
//    - grid, every rise/set/transit searched afresh (the first tick, or after time jumps);
//    - grid, steady state: --ticks one-second ticks, measured after the event cache has been through a
//      whole entry lifetime (DEFAULT_EVENT_MAX_AGE_MINUTES of simulated ticks first);
//    - serialising the tick: JSON.stringify of one Snapshot per location.
// Wall-clock figures on a shared machine are noisy: the process CPU time is printed beside them.
// The last line is the speed-up of the grid tick over the naive per-pair tick.

import { parseArgs } from 'node:util';
import { createGridComputer, DEFAULT_EVENT_MAX_AGE_MINUTES } from '../src/sky/batch.ts';
import { computeAll, computeBody, computeBodyNaive } from '../src/sky/ephemeris.ts';
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

for (let i = 0; i < 20_000; i++) computeBody(names[i & 4095]!, observers[i & 4095]!, new Date(base + i));
row(
  'computeBody, time ≈ now, random body/observer',
  time(() => {
    for (let i = 0; i < CALLS; i++) computeBody(names[i & 4095]!, observers[i & 4095]!, new Date(base + 20_000 + i));
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
    for (let i = 0; i < RANDOM_CALLS; i++) computeBody(names[i & 4095]!, observers[i & 4095]!, new Date(T_MIN + r() * (T_MAX - T_MIN)));
  }),
  RANDOM_CALLS,
  'µs',
  'cold interpolation spans',
);
const ALL_CALLS = 5000;
row(
  'computeAll (10 bodies), time ≈ now',
  time(() => {
    for (let i = 0; i < ALL_CALLS; i++) computeAll(observers[i & 4095]!, new Date(base + i));
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

const grid = createGridComputer(locations);
row('grid tick, first (cold caches, JIT)', time(() => grid.compute(new Date(tick0))), 1, 'ms');
// Time going backwards invalidates every event entry: a tick with every search redone, JIT warm.
grid.compute(new Date(tick0 + 1000));
row('grid tick, all events searched afresh', time(() => grid.compute(new Date(tick0 - 1000))), 1, 'ms');

// Steady state: one-second ticks; measure once the cache has been through a full entry lifetime.
const warmTicks = DEFAULT_EVENT_MAX_AGE_MINUTES * 60;
const measured = TICKS;
let last: ReturnType<typeof grid.compute> = [];
for (let s = 0; s < warmTicks; s++) last = grid.compute(new Date(tick0 + s * 1000));
const perTick: number[] = []; // wall ms per tick, sorted below
const steady = time(() => {
  for (let s = warmTicks; s < warmTicks + measured; s++) {
    const w0 = performance.now();
    last = grid.compute(new Date(tick0 + s * 1000));
    perTick.push(performance.now() - w0);
  }
});
perTick.sort((a, b) => a - b);
row(
  'grid tick, steady state (1 s ticks)',
  steady,
  measured,
  'ms',
  `mean of ${measured}; p50 ${perTick[perTick.length >> 1]!.toFixed(1)} ms, max ${perTick[perTick.length - 1]!.toFixed(1)} ms`,
);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
let bytes = 0;
const SER = 30;
const serEach: number[] = [];
const ser = time(() => {
  for (let k = 0; k < SER; k++) {
    const w0 = performance.now();
    bytes = 0;
    const iso = new Date(tick0).toISOString();
    for (const sky of last) {
      const snap: Snapshot = { location: sky.location, time: iso, bodies: sky.bodies, publishedAt: Date.now() };
      bytes += JSON.stringify(snap).length;
    }
    serEach.push(performance.now() - w0);
  }
});
row(`serialise a tick: ${N} × JSON.stringify(Snapshot)`, ser, SER, 'ms', `${(bytes / 1024).toFixed(0)} KiB per tick; p50 ${median(serEach).toFixed(1)} ms`);
// The same bytes built the way a publisher can: location JSON serialised once, bodies with the grid's
// cached serialiser (grid.bodiesJson(i), see src/sky/wire.ts).
const locationJson = last.map((sky) => JSON.stringify(sky.location));
let same = true;
const fastEach: number[] = [];
const fast = time(() => {
  for (let k = 0; k < SER; k++) {
    const w0 = performance.now();
    const head = `,"time":"${new Date(tick0).toISOString()}","bodies":`;
    const tail = `,"publishedAt":${Date.now()}}`;
    for (let i = 0; i < last.length; i++) {
      const msg = `{"location":${locationJson[i]}${head}${grid.bodiesJson(i)}${tail}`;
      if (k === 0 && i < 50) same &&= msg === JSON.stringify({ location: last[i]!.location, time: new Date(tick0).toISOString(), bodies: last[i]!.bodies, publishedAt: JSON.parse(msg).publishedAt });
    }
    fastEach.push(performance.now() - w0);
  }
});
if (!same) throw new Error('bodiesJson output differs from JSON.stringify');
row(`serialise a tick: cached location JSON + grid.bodiesJson`, fast, SER, 'ms', `same bytes as JSON.stringify (checked); p50 ${median(fastEach).toFixed(1)} ms`);
const both: Timing = { wallMs: steady.wallMs / measured + fast.wallMs / SER, cpuMs: steady.cpuMs / measured + fast.cpuMs / SER };
row('grid tick + serialise (steady state, grid.bodiesJson)', both, 1, 'ms', `p50s: ${(perTick[perTick.length >> 1]! + median(fastEach)).toFixed(1)} ms`);

// ---- report -------------------------------------------------------------------------------------------
const head: [string, string, string, string] = ['what', 'wall', 'cpu', 'note'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((rw) => rw[i]!.length)));
const line = (cells: string[]): string => cells.map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
console.log(
  `bench:sky — Node ${process.version}, ${N} locations × ${BODY_NAMES.length} bodies; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} (shared machine: wall times are inflated by other processes, see the cpu column)`,
);
console.log(line(head));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const rw of rows) console.log(line(rw));
const perCall = (Number(rows[1]![1].split(' ')[0]) / Number(rows[0]![1].split(' ')[0])).toFixed(0);
console.log(`computeBody is ${perCall}× faster than computeBodyNaive per call`);
console.log(
  `speed-up: grid tick ${(steady.wallMs / measured).toFixed(1)} ms vs naive per-pair tick ${naiveScaled.wallMs.toFixed(0)} ms = ${(naiveScaled.wallMs / (steady.wallMs / measured)).toFixed(0)}× faster`,
);
