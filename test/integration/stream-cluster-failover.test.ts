import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCATIONS } from '../../src/sky/locations.ts';
import { startApiNode, startWorker, uniquePrefix, waitUntil, type ApiNode, type ProjectProcess } from '../../scripts/processes.ts';
import { startRedisCluster, type RedisCluster } from '../setup/redis-cluster.ts';
import { openStream, type SseMessage, type SseStream } from '../../scripts/sse-client.ts';

// Failover on a real Redis Cluster with replicas (3 masters + 3 replicas, cluster-node-timeout 2 s): the master that
// owns one location's slot is SIGKILLed, its replica is promoted, and the worker and the API node must follow the
// promotion by themselves: the location's open stream gets live updates again, on the same connection, and its
// history goes on on the new master. The other shards' locations are not disturbed.

const TICK_MS = 500;
/**
 * The promise (README, docs/operating-limits.md) is that streams resume within 10 s of a master kill: Redis needs
 * cluster-node-timeout plus an election to promote the replica, then the clients find it at their next slot refresh.
 * The wait below is that promise with room for a loaded machine; the time actually taken is printed.
 */
const RESUME_WAIT_MS = 30_000;
const prefix = uniquePrefix('cluster-failover');

let cluster: RedisCluster;
let worker: ProjectProcess;
let api: ApiNode;
let spread: { id: string; port: number }[];
const open: SseStream[] = [];

const nUpdates = (n: number) => (ms: SseMessage[]) => ms.filter((m) => m.event === 'update').length >= n;
const history = (id: string): string => `${prefix}history:{${id}}`;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicas: 1 });
  const byPort = new Map<number, string>();
  for (const { id } of LOCATIONS.slice(0, 40)) {
    const port = await cluster.ownerOf(`{${id}}`);
    if (!byPort.has(port)) byPort.set(port, id);
    if (byPort.size === 3) break;
  }
  spread = [...byPort].map(([port, id]) => ({ id, port }));
  expect(spread).toHaveLength(3);
  const env = { REDIS_CLUSTER_NODES: cluster.seeds, REDIS_PREFIX: prefix, LOG_LEVEL: 'info' };
  [worker, api] = await Promise.all([
    startWorker({ ...env, TICK_MS: String(TICK_MS), WORKER_LOCATIONS: spread.map((s) => s.id).join(','), HISTORY_SECONDS: '60' }),
    startApiNode({ ...env, HEARTBEAT_MS: '1000' }),
  ]);
  await waitUntil('the API node ready', async () => (await fetch(`${api.url}/readyz`)).status === 200, { timeoutMs: 30_000 });
}, 120_000);

afterAll(async () => {
  for (const s of open) s.close();
  const exits = await Promise.all([worker, api].filter(Boolean).map((p) => p.stop()));
  await cluster?.stop();
  expect(exits.map((e) => e.code)).toEqual(exits.map(() => 0));
});

describe('Redis Cluster failover (3 masters + 3 replicas)', () => {
  it('a master is killed: its replica is promoted and the location’s open stream resumes on the same connection, history included', async () => {
    const clients = await Promise.all(
      spread.map(async ({ id }) => {
        const s = await openStream(`${api.url}/stream/${id}`);
        open.push(s);
        expect(s.status).toBe(200);
        return s;
      }),
    );
    await Promise.all(clients.map((c) => c.waitFor(nUpdates(2), 30_000, '2 updates')));
    const [down] = spread as [{ id: string; port: number }];
    const [downClient, ...otherClients] = clients as [SseStream, ...SseStream[]];

    await cluster.kill(down.port);
    const killedAt = Date.now();
    const after = (c: SseStream, t: number) => c.messages.some((m) => m.event === 'update' && m.receivedAt > t);

    await downClient.waitFor((ms) => ms.some((m) => m.event === 'update' && m.receivedAt > killedAt + TICK_MS), RESUME_WAIT_MS, `${down.id} after the failover`);
    const resumedAt = downClient.messages.find((m) => m.event === 'update' && m.receivedAt > killedAt + TICK_MS)!.receivedAt;
    console.log(`failover: ${down.id}'s stream resumed ${resumedAt - killedAt} ms after its master was killed`);
    // openStream never reconnects: updates after the kill came on the same connection. The ids only go forward.
    const ids = downClient.updates().map((m) => Number(m.id));
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
    // The others went on.
    for (const c of otherClients) expect(after(c, killedAt + TICK_MS)).toBe(true);

    // A new master owns the slot, and the worker writes the history there again.
    const owner = await cluster.ownerOf(`{${down.id}}`);
    expect(owner).not.toBe(down.port);
    await waitUntil(
      'history written on the promoted master after the kill',
      async () => {
        const newest = (await cluster.command(owner, ['XREVRANGE', history(down.id), '+', '-', 'COUNT', '1'])) as [string, string[]][];
        return newest.length === 1 && Number(newest[0]![0].split('-')[0]) > killedAt;
      },
      { timeoutMs: RESUME_WAIT_MS },
    );
    // A client resuming now with Last-Event-ID gets what the new master stored, then live.
    const resumed = await openStream(`${api.url}/stream/${down.id}`, { headers: { 'Last-Event-ID': String(ids.at(-1)) } });
    open.push(resumed);
    await resumed.waitFor(nUpdates(2), 30_000, 'updates on a resumed stream');
    expect(api.child.exitCode).toBeNull();
    expect(worker.child.exitCode).toBeNull();
  }, 180_000);
});
