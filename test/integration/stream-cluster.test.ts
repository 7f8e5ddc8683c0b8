import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCATIONS, findLocation } from '../../src/sky/locations.ts';
import { startApiNode, startWorker, uniquePrefix, waitUntil, type ApiNode, type LogLine, type ProjectProcess } from '../../scripts/processes.ts';
import { startRedisCluster, type RedisCluster } from '../setup/redis-cluster.ts';
import { openStream, snapshotOf, type SseMessage, type SseStream } from '../../scripts/sse-client.ts';

// The live path on a real three-master Redis Cluster: `npm run worker` and an `npm start` API node, both with
// REDIS_CLUSTER_NODES, streaming locations whose slots sit on three different masters. Then one master crashes and
// comes back on its port.

const TICK_MS = 500;
const prefix = uniquePrefix('cluster-stream');

let cluster: RedisCluster;
let worker: ProjectProcess;
let api: ApiNode;
/** One location per master: [location id, owning master port]. */
let spread: { id: string; port: number }[];
const open: SseStream[] = [];

const stream = async (path: string, headers?: Record<string, string>): Promise<SseStream> => {
  const s = await openStream(`${api.url}${path}`, { headers });
  open.push(s);
  expect(s.status).toBe(200);
  return s;
};
const updateIds = (s: SseStream): number[] => s.updates().map((m) => Number(m.id));
const nUpdates = (n: number) => (ms: SseMessage[]) => ms.filter((m) => m.event === 'update').length >= n;
const shardNumSub = async (port: number, channel: string): Promise<number> =>
  ((await cluster.command(port, ['PUBSUB', 'SHARDNUMSUB', channel])) as [string, number])[1];
const sky = (id: string): string => `${prefix}sky:{${id}}`;
const history = (id: string): string => `${prefix}history:{${id}}`;
const crashed = (l: LogLine): boolean => (l.level ?? 0) >= 50 || /unhandled|uncaught/i.test(String(l.msg));

beforeAll(async () => {
  cluster = await startRedisCluster();
  // The first grid locations that fall on each master, asked of the cluster itself (CLUSTER KEYSLOT + CLUSTER SHARDS).
  const byPort = new Map<number, string>();
  for (const { id } of LOCATIONS.slice(0, 40)) {
    const port = await cluster.ownerOf(`{${id}}`);
    if (!byPort.has(port)) byPort.set(port, id);
    if (byPort.size === 3) break;
  }
  spread = [...byPort].map(([port, id]) => ({ id, port }));
  expect(new Set(spread.map((s) => s.port)).size).toBe(3);
  const env = { REDIS_CLUSTER_NODES: cluster.seeds, REDIS_PREFIX: prefix, LOG_LEVEL: 'info' };
  [worker, api] = await Promise.all([
    startWorker({ ...env, TICK_MS: String(TICK_MS), WORKER_LOCATIONS: spread.map((s) => s.id).join(','), HISTORY_SECONDS: '60' }),
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

describe('worker → Redis Cluster (sharded pub/sub) → API node → SSE', () => {
  it('the API node and the worker run on the cluster broker', () => {
    expect(api.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('listening'))).toMatchObject({ broker: 'redis-cluster' });
  });

  it('streams locations whose channels live on three different masters', async () => {
    const clients = await Promise.all(spread.map(({ id }) => stream(`/stream/${id}`)));
    await Promise.all(clients.map((c) => c.waitFor(nUpdates(3), 20_000, '3 updates')));
    spread.forEach(({ id }, i) => {
      const c = clients[i]!;
      for (const m of c.updates()) {
        const snap = snapshotOf(m);
        expect(snap.location).toEqual(findLocation(id));
        expect(Date.parse(snap.time)).toBe(Number(m.id));
      }
      const ids = updateIds(c);
      expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
    });
    // Each location's history is on its own master; the others redirect.
    for (const { id, port } of spread) {
      const len = await cluster.command(port, ['XLEN', history(id)]);
      expect(len, `${history(id)} on ${port}`).toBeGreaterThan(0);
      const elsewhere = spread.filter((s) => s.port !== port)[0]!.port;
      const moved = await cluster.command(elsewhere, ['XLEN', history(id)]);
      expect(String(moved)).toMatch(/^Error: MOVED \d+ 127\.0\.0\.1:\d+$/);
    }
    for (const c of clients) c.close();
  });

  it('Last-Event-ID replays exactly the missed ids from the shard’s history, then goes live', async () => {
    const { id, port } = spread[1]!;
    const first = await stream(`/stream/${id}`);
    await first.waitFor(nUpdates(2), 20_000, '2 updates');
    first.close();
    const resumeFrom = updateIds(first)[1]!;
    await new Promise((r) => setTimeout(r, TICK_MS * 3));
    const resumed = await stream(`/stream/${id}`, { 'Last-Event-ID': String(resumeFrom) });
    await resumed.waitFor(
      (ms) => ms.some((m) => m.event === 'update' && Number(m.id) >= resumeFrom + TICK_MS * 6),
      20_000,
      'replay and live updates',
    );
    resumed.close();
    const ids = updateIds(resumed);
    expect(ids[0]).toBeGreaterThan(resumeFrom);
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
    const stored = (await cluster.command(port, ['XRANGE', history(id), `(${resumeFrom}-0`, `${ids.at(-1)}-0`])) as [string, string[]][];
    expect(ids).toEqual(stored.map(([entry]) => Number(entry.split('-')[0])));
  });

  it('the last client of a location releases its sharded subscription on the owning master', async () => {
    const { id, port } = spread[2]!;
    await expect.poll(() => shardNumSub(port, sky(id))).toBe(0); // earlier clients are gone
    const a = await stream(`/stream/${id}`);
    const b = await stream(`/stream/${id}`);
    await Promise.all([a, b].map((s) => s.waitFor(nUpdates(1), 20_000, 'an update')));
    expect(await shardNumSub(port, sky(id))).toBe(1); // one SSUBSCRIBE for the node, however many clients
    a.close();
    await new Promise((r) => setTimeout(r, 300));
    expect(await shardNumSub(port, sky(id))).toBe(1);
    b.close();
    await expect.poll(() => shardNumSub(port, sky(id))).toBe(0);
  });

  it('a master crashes and restarts on its port: other locations keep streaming, its own resume, nothing crashes', async () => {
    const [down, ...others] = spread as [{ id: string; port: number }, ...{ id: string; port: number }[]];
    const clients = await Promise.all(spread.map(({ id }) => stream(`/stream/${id}`)));
    await Promise.all(clients.map((c) => c.waitFor(nUpdates(2), 20_000, '2 updates')));
    const [downClient, ...otherClients] = clients as [SseStream, ...SseStream[]];

    await cluster.kill(down.port);
    const killedAt = Date.now();
    // The other shards keep serving their locations during the outage.
    await Promise.all(
      otherClients.map((c, i) =>
        c.waitFor((ms) => ms.some((m) => m.event === 'update' && m.receivedAt > killedAt + 3 * TICK_MS), 20_000, `${others[i]!.id} during the outage`),
      ),
    );

    await cluster.restart(down.port);
    const restartedAt = Date.now();
    // The client of the crashed shard's location stayed connected (heartbeats) and gets live updates again.
    await downClient.waitFor(
      (ms) => ms.some((m) => m.event === 'update' && m.receivedAt > restartedAt),
      15_000,
      `${down.id} updates after the restart`,
    );
    const ids = updateIds(downClient);
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
    expect(downClient.messages.some((m) => m.comments.includes('heartbeat'))).toBe(true);

    // A client that resumes now gets what the restarted (empty) shard has stored since, then live.
    const resumed = await stream(`/stream/${down.id}`, { 'Last-Event-ID': String(ids.at(-1)) });
    await resumed.waitFor(nUpdates(2), 15_000, 'updates on a resumed stream');
    expect(Math.min(...updateIds(resumed))).toBeGreaterThan(ids.at(-1)!);

    // No process died or logged a crash; the node is ready again.
    expect(api.child.exitCode).toBeNull();
    expect(worker.child.exitCode).toBeNull();
    expect([...api.logs, ...worker.logs].filter(crashed)).toEqual([]);
    expect(api.text() + worker.text()).not.toMatch(/unhandled|uncaught/i);
    expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
    for (const c of clients) c.close();
  });
});
