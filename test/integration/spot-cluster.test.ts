import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiNode, startWorker, uniquePrefix, waitUntil, type ApiNode, type ProjectProcess } from '../../scripts/processes.ts';
import { openStream, type SseMessage, type SseStream } from '../../scripts/sse-client.ts';
import { startRedisCluster, type RedisCluster } from '../setup/redis-cluster.ts';

// Exact spots on a real three-master Redis Cluster: the frame travels as `SPUBLISH` on its own slot
// (`<prefix>sky:{_frame}`), its history beside it; an API node streams a spot from it and resumes from that history.

const TICK_MS = 1000;
const prefix = uniquePrefix('spot-cluster');
let cluster: RedisCluster;
let worker: ProjectProcess;
let api: ApiNode;
const open: SseStream[] = [];
const nUpdates = (n: number) => (ms: SseMessage[]) => ms.filter((m) => m.event === 'update').length >= n;

beforeAll(async () => {
  cluster = await startRedisCluster();
  const env = { REDIS_CLUSTER_NODES: cluster.seeds, REDIS_PREFIX: prefix, LOG_LEVEL: 'info' };
  [worker, api] = await Promise.all([
    startWorker({ ...env, TICK_MS: String(TICK_MS), WORKER_LOCATIONS: 'london', HISTORY_SECONDS: '60' }),
    startApiNode({ ...env, HEARTBEAT_MS: '1000' }),
  ]);
  await waitUntil('the API node ready', async () => (await fetch(`${api.url}/readyz`)).status === 200, { timeoutMs: 30_000 });
});

afterAll(async () => {
  for (const s of open) s.close();
  const exits = await Promise.all([worker, api].filter(Boolean).map((p) => p.stop()));
  await cluster?.stop();
  expect(exits.map((e) => e.code)).toEqual(exits.map(() => 0));
});

it('streams and resumes a spot through the frame on its shard', async () => {
  const s = await openStream(`${api.url}/stream?lat=-23.70&lon=133.88`);
  open.push(s);
  expect(s.status).toBe(200);
  await s.waitFor(nUpdates(3), 20_000, '3 updates');
  // One sharded subscription (the node's), on the master owning the frame's slot; the frame's history beside it.
  const port = await cluster.ownerOf('{_frame}');
  const shardSubs = async (): Promise<number> =>
    Number(((await cluster.command(port, ['PUBSUB', 'SHARDNUMSUB', `${prefix}sky:{_frame}`])) as [string, number])[1]);
  expect(await shardSubs()).toBe(1);
  expect(Number(await cluster.command(port, ['XLEN', `${prefix}history:{_frame}`]))).toBeGreaterThan(2);
  s.close();
  await expect.poll(shardSubs, { timeout: 10_000 }).toBe(0);
  const ids = s.updates().map((m) => Number(m.id));
  ids.slice(1).forEach((id, i) => expect(id).toBe(ids[i]! + TICK_MS));
  const resumed = await openStream(`${api.url}/stream?lat=-23.70&lon=133.88`, { headers: { 'Last-Event-ID': String(ids[0]) } });
  open.push(resumed);
  await resumed.waitFor(nUpdates(3), 20_000, '3 updates after resuming');
  resumed.updates().forEach((m, i) => expect(Number(m.id)).toBe(ids[0]! + TICK_MS * (i + 1)));
  resumed.close();
});
