// bench:spots-design — the two designs for exact-spot streams (issue 16), measured against each other on this machine.
//
//   npm run bench:spots-design [-- --cells=10000 --steady-ticks=5 --sim-cells=200 --sim-minutes=20 --redis-cells=1000 --redis-ticks=5]
//
// A "worker cells": API nodes register the cells their clients watch; the worker computes every demanded cell like a
//   grid location (createGridComputer) and publishes one full snapshot per cell per tick through the broker.
// B "node frames": the worker publishes one geocentric frame per tick (computeGeoFrame); each API node turns it into
//   every watched cell's snapshot itself (SpotSky: a rotation per body, Moon parallax included, rise/set/transit
//   searched once per cell and body and again when due).
//
// 1. CPU per spot-tick (process CPU time, GC included), --cells cells: the first tick (every rise/set/transit
//    searched) and steady one-second ticks; A's figure is the worker's, B's the node's (plus the once-per-tick frame).
// 2. The same amortised over --sim-minutes of one-second ticks for --sim-cells cells: the slow fields' re-searches
//    (each entry lives 5–10 min, and is searched again when one of its events passes) included as they fall.
// 3. Through a real Redis (a redis-server started here on a free loopback port): bytes into Redis and out of it to one
//    subscribed API node per tick, the history memory, for --redis-cells cells (A) and the one frame (B), using the
//    project's own RedisBroker; A's demand registration (a sorted set of cells scored by expiry, refreshed by the
//    node, read by the worker every tick) counted too. Then everything is scaled to --cells.

import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createRedisBroker } from '../src/broker/redis.ts';
import { decodeMessage, type PublishItem } from '../src/broker/broker.ts';
import { createLogger } from '../src/log.ts';
import { BodiesJsonWriter } from '../src/sky/bodies-json.ts';
import { cellLocation, cellOf, type Cell } from '../src/sky/cell.ts';
import { PositionCalculator } from '../src/sky/fast-path.ts';
import { computeGeoFrame, decodeGeoFrame, encodeGeoFrame } from '../src/sky/geo-frame.ts';
import { createSkyGrid } from '../src/sky/grid.ts';
import { SpotSky } from '../src/sky/spot-sky.ts';
import { startRedisServer } from '../test/setup/redis.ts';

const { values: args } = parseArgs({
  options: {
    cells: { type: 'string', default: '10000' },
    'steady-ticks': { type: 'string', default: '5' },
    'sim-cells': { type: 'string', default: '200' },
    'sim-minutes': { type: 'string', default: '20' },
    'redis-cells': { type: 'string', default: '1000' },
    'redis-ticks': { type: 'string', default: '5' },
    'history-seconds': { type: 'string', default: '300' },
  },
});
const N = Number(args.cells);
const STEADY = Number(args['steady-ticks']);
const SIM_N = Number(args['sim-cells']);
const SIM_TICKS = Number(args['sim-minutes']) * 60;
const REDIS_N = Number(args['redis-cells']);
const REDIS_TICKS = Number(args['redis-ticks']);
const HISTORY_SECONDS = Number(args['history-seconds']);

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

/** n distinct cells spread over the globe, random within each latitude band (exact spots, not grid cities). */
function spots(n: number, seed: number): Cell[] {
  const r = rng(seed);
  const seen = new Map<string, Cell>();
  while (seen.size < n) {
    const c = cellOf({ lat: (Math.asin(2 * r() - 1) * 180) / Math.PI, lon: 360 * r() - 180, elevation: Math.round(2000 * r()) });
    seen.set(c.id, c);
  }
  return [...seen.values()];
}

const cpuMs = (fn: () => void): number => {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};

const rows: string[][] = [];
const row = (...cells: (string | number)[]): void => {
  rows.push(cells.map(String));
};
const us = (ms: number, per: number): string => `${((ms * 1000) / per).toFixed(2)} µs`;

const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);

// ---- 1. CPU per spot-tick, N cells -----------------------------------------------------------------------------
function cpuDesignA(cells: Cell[], ticks: number, startMs: number): { first: number; steady: number } {
  const locations = cells.map(cellLocation);
  const grid = createSkyGrid(locations);
  const locationJson = locations.map((l) => JSON.stringify(l));
  // What the worker does per tick per cell: compute, serialise the bodies, assemble the snapshot.
  const tick = (ms: number): void => {
    const time = new Date(ms);
    const skies = grid.compute(time);
    const head = `,"time":"${time.toISOString()}","bodies":`;
    const tail = `,"publishedAt":${ms}}`;
    for (let i = 0; i < skies.length; i++) {
      const s = `{"location":${locationJson[i]}${head}${grid.bodiesJson(i)}${tail}`;
      if (s.length === 0) throw new Error('empty');
    }
  };
  const first = cpuMs(() => tick(startMs));
  const steady = cpuMs(() => {
    for (let k = 1; k <= ticks; k++) tick(startMs + k * 1000);
  });
  return { first, steady };
}

function cpuDesignB(cells: Cell[], ticks: number, startMs: number): { first: number; steady: number; frameWorker: number; frameNode: number } {
  const skies = cells.map((c) => new SpotSky(c));
  // As on an API node: one calculator and one serialiser for every cell; the worker has its own calculator.
  const calc = new PositionCalculator();
  const worker = new PositionCalculator();
  const writer = new BodiesJsonWriter();
  const heads = cells.map((c) => `{"location":${JSON.stringify(cellLocation(c))},"cell":${JSON.stringify(c)}`);
  let frameWorker = 0;
  let frameNode = 0;
  const tick = (ms: number): void => {
    let json = '';
    frameWorker += cpuMs(() => {
      json = encodeGeoFrame(computeGeoFrame(new Date(ms), worker), ms);
    });
    let frame = decodeGeoFrame(json, calc.constellations)!.frame;
    frameNode += cpuMs(() => {
      frame = decodeGeoFrame(json, calc.constellations)!.frame;
    });
    const head = `,"time":"${new Date(ms).toISOString()}","bodies":`;
    const tail = `,"publishedAt":${ms}}`;
    for (let i = 0; i < skies.length; i++) {
      const s = `${heads[i]}${head}${writer.write(skies[i]!.compute(frame, calc), i)}${tail}`;
      if (s.length === 0) throw new Error('empty');
    }
  };
  const first = cpuMs(() => tick(startMs));
  const steady = cpuMs(() => {
    for (let k = 1; k <= ticks; k++) tick(startMs + k * 1000);
  });
  return { first, steady, frameWorker: frameWorker / (ticks + 1), frameNode: frameNode / (ticks + 1) };
}

// Warm the interpolation spans and constellation cells first, so neither design pays for them.
cpuDesignB(spots(50, 1), 2, T0 - 60_000);
cpuDesignA(spots(50, 1), 2, T0 - 60_000);

const cells = spots(N, 20261203);
const a = cpuDesignA(cells, STEADY, T0);
const b = cpuDesignB(cells, STEADY, T0 + 3_600_000);
row('1', `first tick, ${N} cells (every rise/set/transit searched)`, `A worker ${us(a.first, N)}`, `B node ${us(b.first, N)}`);
row('1', `steady tick, ${N} cells × ${STEADY} ticks`, `A worker ${us(a.steady, N * STEADY)}`, `B node ${us(b.steady, N * STEADY)}`);
row('1', 'B: the frame, once per tick', `worker compute+encode ${b.frameWorker.toFixed(3)} ms`, `node decode ${b.frameNode.toFixed(3)} ms`);

// ---- 2. amortised over many ticks ------------------------------------------------------------------------------
const simCells = spots(SIM_N, 77);
const aSim = cpuDesignA(simCells, SIM_TICKS - 1, T0 + 7_200_000);
const bSim = cpuDesignB(simCells, SIM_TICKS - 1, T0 + 7_200_000);
const perA = (aSim.first + aSim.steady) / (SIM_N * SIM_TICKS);
const perB = (bSim.first + bSim.steady) / (SIM_N * SIM_TICKS);
row('2', `amortised, ${SIM_N} cells × ${SIM_TICKS} one-second ticks, searches included`, `A worker ${(perA * 1000).toFixed(2)} µs`, `B node ${(perB * 1000).toFixed(2)} µs`);

// ---- 3. bytes through a real Redis -----------------------------------------------------------------------------
const redis = await startRedisServer();
const log = createLogger('silent');
const info = async (r: Redis): Promise<{ inB: number; outB: number; mem: number }> => {
  const text = await r.info();
  const num = (k: string): number => Number(new RegExp(`^${k}:(\\d+)`, 'm').exec(text)![1]);
  return { inB: num('total_net_input_bytes'), outB: num('total_net_output_bytes'), mem: num('used_memory') };
};
const probe = new Redis(redis.url);
try {
  const options = { url: redis.url, prefix: 'bench:', historyLength: HISTORY_SECONDS, historyTtlMs: HISTORY_SECONDS * 1000, log };
  const worker = createRedisBroker({ ...options, clientName: 'bench-worker' });
  const node = createRedisBroker({ ...options, clientName: 'bench-node' });
  await new Promise((r) => setTimeout(r, 300));
  const rc = spots(REDIS_N, 99);
  const locations = rc.map(cellLocation);
  const grid = createSkyGrid(locations);
  const locationJson = locations.map((l) => JSON.stringify(l));
  let received = 0;
  const unsubA = await Promise.all(rc.map((c) => node.subscribe(c.id, () => received++)));
  // Demand registration (A): the node keeps its cells in a sorted set scored by expiry; the worker reads the live ones.
  const demand = 'bench:demand';
  const nodeConn = new Redis(redis.url);
  const workerConn = new Redis(redis.url);
  const a0 = await info(probe);
  let nodeDecodeMs = 0;
  for (let k = 0; k < REDIS_TICKS; k++) {
    const ms = T0 + 86_400_000 + k * 1000;
    if (k === 0) await nodeConn.zadd(demand, ...rc.flatMap((c) => [String(ms + 30_000), c.id]));
    const ids = await workerConn.zrangebyscore(demand, ms, '+inf');
    if (ids.length !== REDIS_N) throw new Error(`demand read ${ids.length}`);
    const time = new Date(ms);
    const skies = grid.compute(time);
    const head = `,"time":"${time.toISOString()}","bodies":`;
    const items: PublishItem[] = skies.map((_, i) => ({ channel: rc[i]!.id, id: ms, data: `{"location":${locationJson[i]}${head}${grid.bodiesJson(i)},"publishedAt":${Date.now()}}` }));
    await worker.publish(items);
    nodeDecodeMs += cpuMs(() => {
      for (const it of items) decodeMessage(it.data);
    });
  }
  await new Promise((r) => setTimeout(r, 500));
  const a1 = await info(probe);
  if (received !== REDIS_N * REDIS_TICKS) console.warn(`A: received ${received} of ${REDIS_N * REDIS_TICKS}`);
  for (const u of unsubA) u();
  // B: one frame channel.
  const frameCalc = new PositionCalculator();
  let frames = 0;
  const unsubB = await node.subscribe('_frame', () => frames++);
  const b0 = await info(probe);
  for (let k = 0; k < REDIS_TICKS; k++) {
    const ms = T0 + 2 * 86_400_000 + k * 1000;
    await worker.publish([{ channel: '_frame', id: ms, data: encodeGeoFrame(computeGeoFrame(new Date(ms), frameCalc), Date.now()) }]);
  }
  await new Promise((r) => setTimeout(r, 500));
  const b1 = await info(probe);
  unsubB();
  if (frames !== REDIS_TICKS) console.warn(`B: received ${frames} of ${REDIS_TICKS}`);
  const perTickA = { inB: (a1.inB - a0.inB) / REDIS_TICKS, outB: (a1.outB - a0.outB) / REDIS_TICKS, mem: (a1.mem - a0.mem) / REDIS_TICKS };
  const perTickB = { inB: (b1.inB - b0.inB) / REDIS_TICKS, outB: (b1.outB - b0.outB) / REDIS_TICKS, mem: (b1.mem - b0.mem) / REDIS_TICKS };
  const scale = N / REDIS_N;
  const mb = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} MB` : `${(x / 1e3).toFixed(2)} kB`);
  row('3', `into Redis per tick (worker's publishes; A also its demand read), scaled to ${N} cells`, `A ${mb(perTickA.inB * scale)}`, `B ${mb(perTickB.inB)}`);
  row('3', 'out of Redis per tick to ONE subscribed API node (× nodes)', `A ${mb(perTickA.outB * scale)}`, `B ${mb(perTickB.outB)}`);
  row('3', `history memory (per tick kept × ${HISTORY_SECONDS} s)`, `A ${mb(perTickA.mem * scale * HISTORY_SECONDS)}`, `B ${mb(perTickB.mem * HISTORY_SECONDS)}`);
  row('3', `A: node decoding what it receives (JSON.parse for the id), per spot-tick`, us(nodeDecodeMs, REDIS_N * REDIS_TICKS), '');
  await Promise.all([worker.close(), node.close()]);
  nodeConn.disconnect();
  workerConn.disconnect();
} finally {
  probe.disconnect();
  await redis.stop();
}

console.log(`bench:spots-design on ${new Date().toISOString()}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (const r of rows) console.log(r.join(' | '));
