// bench:happenings — what happenings cost: computing them (per location-day, per kind) and the worker's tick at the
// full grid with and without them, in one run (ratios against the baseline of the same run).
//
//   npm run bench:happenings [-- --ticks=300 --warmup-ticks=60]
//
// 1. Precompute: the whole grid (src/sky/locations.json), one day each, in the worker's 6 h chunks; then one 6 h chunk
//    of one location per kind, to show where the time goes; then each kind over GET /events' longest span for it,
//    and GET /tonight's plan for one night.
// 2. Tick at the grid (memory broker, simulated one-second clock, the tick function the worker runs):
//    - baseline: snapshots only;
//    - steady state: happenings 36 h ahead already known, each tick taking what falls due and topping up;
//    - warm-up: a worker's first ticks, every location's queue empty, the top-up bounded by its 10 ms budget.
// Wall-clock on a shared machine is noisy; the process CPU time is printed beside it, and the ratio is of CPU time.

import { parseArgs } from 'node:util';
import { createMemoryBroker } from '../src/broker/memory.ts';
import { silentLogger } from '../src/log.ts';
import { HAPPENING_KINDS, HAPPENING_SPAN_LIMIT_DAYS, happenings } from '../src/sky/happenings.ts';
import { LOCATIONS } from '../src/sky/locations.ts';
import { tonight } from '../src/sky/tonight.ts';
import { HappeningsAhead } from '../src/worker/happenings-ahead.ts';
import { createSkyTick } from '../src/worker/sky-publisher.ts';

const { values: args } = parseArgs({
  options: { ticks: { type: 'string', default: '300' }, 'warmup-ticks': { type: 'string', default: '60' } },
});
const TICKS = Number(args.ticks);
const WARMUP = Number(args['warmup-ticks']);
const TICK_MS = 1000;
const HOUR = 3_600_000;
const START = Date.UTC(2026, 2, 20, 0, 0, 0);

const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

// ---- 1. precompute ----
{
  // Warm the engine's caches and the JIT on another day first.
  for (const l of LOCATIONS.slice(0, 10)) happenings(l, START - 2 * 24 * HOUR, START - 2 * 24 * HOUR + 6 * HOUR);
  const w0 = performance.now();
  const c0 = cpu();
  let count = 0;
  for (const l of LOCATIONS) for (let h = 0; h < 24; h += 6) count += happenings(l, START + h * HOUR, START + (h + 6) * HOUR).length;
  const wall = performance.now() - w0;
  const c = cpu() - c0;
  console.log(
    `precompute: ${LOCATIONS.length} locations × 1 day in 6 h chunks: ${wall.toFixed(0)} ms wall, ${c.toFixed(0)} ms CPU; ` +
      `${(wall / LOCATIONS.length).toFixed(1)} ms per location-day; ${count} happenings (${(count / LOCATIONS.length).toFixed(1)} per location-day)`,
  );
  const l = LOCATIONS[0]!;
  const parts = HAPPENING_KINDS.map((k) => {
    const t0 = performance.now();
    for (let h = 0; h < 24; h += 6) happenings(l, START + h * HOUR, START + (h + 6) * HOUR, new Set([k]));
    return `${k} ${((performance.now() - t0) / 4).toFixed(2)}`;
  });
  console.log(`one 6 h chunk by kind (ms, ${l.id}): ${parts.join(', ')}`);
  // GET /events' longest span per kind, one location: what a request at the limit costs.
  const spans = HAPPENING_KINDS.map((k) => {
    const days = HAPPENING_SPAN_LIMIT_DAYS[k];
    const t0 = performance.now();
    happenings(l, START, START + days * 24 * HOUR, new Set([k]));
    return `${k} ${days} d ${(performance.now() - t0).toFixed(0)}`;
  });
  console.log(`GET /events at each kind's span limit (ms, ${l.id}): ${spans.join(', ')}`);
  tonight(l, '2026-03-19');
  const tw = performance.now();
  const tc = cpu();
  for (const d of ['2026-03-20', '2026-03-21', '2026-03-22']) tonight(l, d);
  console.log(`GET /tonight's plan (${l.id}): ${((performance.now() - tw) / 3).toFixed(0)} ms wall, ${((cpu() - tc) / 3).toFixed(0)} ms CPU per night`);
}

// ---- 2. tick ----
async function run(label: string, ticks: number, ahead: HappeningsAhead | undefined, from: number): Promise<number> {
  const broker = createMemoryBroker({ historyLimit: 10 });
  const tick = createSkyTick({ broker, locations: LOCATIONS, log: silentLogger, happenings: ahead });
  await tick(from - TICK_MS); // first-tick work (rise/set cache) is not the steady state
  const times: number[] = [];
  let events = 0;
  let chunks = 0;
  const c0 = cpu();
  for (let i = 0; i < ticks; i++) {
    const t0 = performance.now();
    const r = (await tick(from + i * TICK_MS)) as { events?: number; aheadChunks?: number };
    times.push(performance.now() - t0);
    events += r.events ?? 0;
    chunks += r.aheadChunks ?? 0;
  }
  const c = cpu() - c0;
  await broker.close();
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const p = (q: number): string => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(1);
  console.log(
    `tick, ${label}: ${ticks} ticks × ${LOCATIONS.length} locations: mean ${mean.toFixed(1)} ms, p50 ${p(0.5)}, p99 ${p(0.99)}, ` +
      `max ${times[times.length - 1]!.toFixed(1)} ms; CPU ${(c / ticks).toFixed(1)} ms/tick; happenings published ${events}, chunks computed ${chunks}`,
  );
  return c / ticks;
}

const base = await run('baseline (snapshots only)', TICKS, undefined, START + 1000 * TICK_MS);
const steady = new HappeningsAhead({ locations: LOCATIONS, tickMs: TICK_MS, startMs: START });
const f0 = performance.now();
steady.topUp(START, Infinity);
console.log(`fill 36 h ahead for the grid at once (not done by the worker, which spreads it): ${(performance.now() - f0).toFixed(0)} ms, ${steady.pending()} happenings`);
const withEvents = await run('steady state (happenings 36 h ahead)', TICKS, steady, START + 1000 * TICK_MS);
const cold = new HappeningsAhead({ locations: LOCATIONS, tickMs: TICK_MS, startMs: START + 2000 * TICK_MS - TICK_MS });
await run(`warm-up (first ${WARMUP} ticks of a worker, 10 ms top-up budget)`, WARMUP, cold, START + 2000 * TICK_MS);
console.log(`  after warm-up: every location known up to ${new Date(cold.knownUntil()).toISOString()}; late (dropped) happenings: ${cold.late}`);
console.log(`steady-state tick CPU / baseline tick CPU (same run): ${(withEvents / base).toFixed(2)}`);
