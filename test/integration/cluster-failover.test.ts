import { afterAll, beforeAll, expect, it } from 'vitest';
import { LOCATIONS } from '../../src/sky/locations.ts';
import { startApiNode, startWorker, uniquePrefix, waitUntil, type ApiNode, type ProjectProcess } from '../../scripts/processes.ts';
import { startRedisCluster, type RedisCluster } from '../setup/redis-cluster.ts';
import { openStream, type SseStream } from '../../scripts/sse-client.ts';

// Redis Cluster failover (issue 14, point 1): 3 masters + 3 replicas (cluster-node-timeout 2000), the worker and an
// API node on REDIS_CLUSTER_NODES. SIGKILL the master owning {london}'s slot: its replica is promoted, and the stream
// of london must go on within FAILOVER_BOUND_MS without the client reconnecting, and its history on the new master.
// (A master killed without a replica and brought back: test/integration/stream-cluster.test.ts.)

const TICK_MS = 500;
const FAILOVER_BOUND_MS = 10_000;
const prefix = uniquePrefix('failover');
let cluster: RedisCluster;
let worker: ProjectProcess;
let api: ApiNode;
const open: SseStream[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster({ replicas: 1 });
  const env = { REDIS_CLUSTER_NODES: cluster.seeds, REDIS_PREFIX: prefix, LOG_LEVEL: 'info' };
  const londonPort = await cluster.ownerOf('{london}');
  const other = [];
  for (const { id } of LOCATIONS.slice(0, 40)) if ((await cluster.ownerOf(`{${id}}`)) !== londonPort) other.push(id);
  [worker, api] = await Promise.all([
    startWorker({ ...env, TICK_MS: String(TICK_MS), WORKER_LOCATIONS: `london,${other[0]}`, HISTORY_SECONDS: '60' }),
    startApiNode({ ...env, HEARTBEAT_MS: '1000' }),
  ]);
  await waitUntil('the API node ready', async () => (await fetch(`${api.url}/readyz`)).status === 200, { timeoutMs: 10_000 });
}, 90_000);
afterAll(async () => {
  for (const s of open) s.close();
  await Promise.all([worker, api].filter(Boolean).map((p) => p.stop('SIGKILL')));
  await cluster?.stop();
}, 30_000);

it(`the stream of a location whose master is killed resumes within ${FAILOVER_BOUND_MS} ms, on the same connection`, async () => {
  const london = await openStream(`${api.url}/stream/london`);
  open.push(london);
  await london.waitFor(() => london.updates().length >= 2, 10_000, 'london updates');
  const master = await cluster.ownerOf('{london}');
  const killedAt = Date.now();
  await cluster.kill(master);
  const before = london.updates().length;
  await london.waitFor(
    () => london.updates().some((m, i) => i >= before && Number(m.id) > killedAt + 500),
    FAILOVER_BOUND_MS + 20_000,
    'a london update after the failover',
  );
  const resumed = london.updates().find((m, i) => i >= before && Number(m.id) > killedAt + 500)!;
  const took = resumed.receivedAt - killedAt;
  console.log(`cluster failover: london updates resumed ${took} ms after its master was killed`);
  expect(took).toBeLessThan(FAILOVER_BOUND_MS);
  // The history of {london} goes on on the promoted master, so a client resuming after the failover finds it.
  const promoted = await cluster.ownerOf('{london}');
  expect(promoted).not.toBe(master);
  const last = (await cluster.command(promoted, ['XREVRANGE', `${prefix}history:{london}`, '+', '-', 'COUNT', '1'])) as [string, string[]][];
  expect(Number(last[0]![0].split('-')[0])).toBeGreaterThan(killedAt);
}, 60_000);
