import { parseArgs } from 'node:util';
import { startApiNode, startWorker, uniquePrefix, type ProjectProcess } from '../scripts/processes.ts';
import { startRedisServer, type RedisServer } from '../test/setup/redis.ts';
import { openStream, snapshotOf, type SseStream } from '../scripts/sse-client.ts';

// Publish-to-receive latency of the live path: worker → Redis → API node(s) → SSE clients, all on loopback.
// Latency = client receive time − the snapshot's publishedAt (stamped by the worker just before its publish).
//
//   node --import tsx bench/stream-latency.ts [--clients 10] [--seconds 15] [--nodes 1] [--locations all|london,paris]
//
// The worker computes the whole grid (--locations all, the default) or only the locations listed; clients are spread
// over the first five locations (or those listed).
//
// Uses REDIS_URL when set, else starts a redis-server of its own. Bounded in clients and time; loopback only.

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '15' },
    nodes: { type: 'string', default: '1' },
    locations: { type: 'string', default: 'all' },
    tick: { type: 'string', default: '1000' },
  },
});
const clients = Math.min(Number(values.clients), 2000);
const seconds = Math.min(Number(values.seconds), 120);
const nodes = Math.min(Number(values.nodes), 4);
const whole = values.locations === 'all';
const locations = whole ? ['london', 'paris', 'tokyo', 'new-york', 'sydney'] : values.locations!.split(',');

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

async function main(): Promise<void> {
  let redis: RedisServer | undefined;
  const url = process.env.REDIS_URL || (redis = await startRedisServer()).url;
  const env = { REDIS_URL: url, REDIS_PREFIX: uniquePrefix('bench'), LOG_LEVEL: 'warn' };
  const procs: ProjectProcess[] = [];
  try {
    const worker = await startWorker({ ...env, LOG_LEVEL: 'info', TICK_MS: values.tick, WORKER_LOCATIONS: whole ? '' : locations.join(',') });
    procs.push(worker);
    const apis = await Promise.all(Array.from({ length: nodes }, () => startApiNode({ ...env, LOG_LEVEL: 'info' })));
    procs.push(...apis);
    const streams: SseStream[] = [];
    for (let i = 0; i < clients; i++) {
      streams.push(await openStream(`${apis[i % nodes]!.url}/stream/${locations[i % locations.length]}`));
    }
    const start = Date.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    for (const s of streams) s.close();
    // The first update of each connection is the stored latest (not a live delivery): leave it out.
    const latencies: number[] = [];
    for (const s of streams) {
      for (const m of s.updates().slice(1)) {
        if (m.receivedAt < start) continue;
        latencies.push(m.receivedAt - snapshotOf(m).publishedAt);
      }
    }
    latencies.sort((a, b) => a - b);
    const out = {
      clients,
      nodes,
      gridLocations: whole ? 'all' : locations.length,
      seconds,
      tickMs: Number(values.tick),
      deliveries: latencies.length,
      latencyMs: latencies.length
        ? {
            min: latencies[0],
            p50: percentile(latencies, 0.5),
            p90: percentile(latencies, 0.9),
            p99: percentile(latencies, 0.99),
            max: latencies.at(-1),
            mean: Math.round((latencies.reduce((a, b) => a + b, 0) / latencies.length) * 10) / 10,
          }
        : null,
      redis: redis ? 'redis-server (own)' : 'REDIS_URL',
    };
    console.log(JSON.stringify(out, null, 2));
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await redis?.stop();
  }
}

await main();
