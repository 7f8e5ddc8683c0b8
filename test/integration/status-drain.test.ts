import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startApiNode, startTogether, startWorker, uniquePrefix, type ApiNode, type ProjectProcess } from '../../scripts/processes.ts';
import { openStream, type SseStream } from '../../scripts/sse-client.ts';
import type { ClusterStatus } from '../../src/presence/cluster-status.ts';

// Observability and drain with real processes: a worker and two API nodes on a real Redis. Each node's /status reports
// the whole cluster (presence shared through Redis), /status/stream pushes it live and resumes, /metrics is Prometheus
// text with the documented series; SIGTERM drains an API node (event: reconnect, exit within seconds, gone from the
// status) and the worker (the tick in progress finishes, exit 0).

const redisUrl = inject('redisUrl');
const INTERVAL = 300;
let worker: ProjectProcess;
let a: ApiNode;
let b: ApiNode;
const streams: SseStream[] = [];

beforeAll(async () => {
  const env = {
    REDIS_URL: redisUrl,
    REDIS_PREFIX: uniquePrefix('status'),
    TICK_MS: '500',
    WORKER_LOCATIONS: 'london,paris,tokyo',
    STATUS_INTERVAL_MS: String(INTERVAL),
    HEARTBEAT_MS: '1000',
    LOG_LEVEL: 'debug',
  };
  [worker, a, b] = await startTogether<[ProjectProcess, ApiNode, ApiNode]>(
    startWorker({ ...env, METRICS_PORT: '0', HOST: '127.0.0.1' }),
    startApiNode(env),
    startApiNode(env),
  );
});
afterAll(async () => {
  for (const s of streams) s.close();
  await Promise.all([worker?.stop('SIGKILL'), a?.stop('SIGKILL'), b?.stop('SIGKILL')]);
});

const status = async (node: ApiNode): Promise<ClusterStatus> => (await fetch(`${node.url}/status`)).json() as Promise<ClusterStatus>;
const open = async (url: string): Promise<SseStream> => {
  const s = await openStream(url);
  streams.push(s);
  await s.waitFor((ms) => ms.some((m) => m.event === 'update'), 10_000, 'a first update');
  return s;
};
const subscribers = (s: ClusterStatus, id: string): number => s.locations.find((l) => l.id === id)?.subscribers ?? 0;

describe('status, metrics and drain across processes', () => {
  it('every node reports the whole cluster: nodes, subscribers per location across nodes, worker health, activity', async () => {
    await open(`${a.url}/stream/london`);
    await open(`${a.url}/stream/london`);
    await open(`${b.url}/stream/london`);
    const leaving = await open(`${b.url}/stream/paris`);

    for (const node of [a, b]) {
      await expect
        .poll(async () => {
          const s = await status(node);
          return { nodes: s.nodes.length, london: subscribers(s, 'london'), paris: subscribers(s, 'paris'), clients: s.totals.clients };
        }, { timeout: 10_000, interval: 200 })
        .toEqual({ nodes: 2, london: 3, paris: 1, clients: 4 });
    }
    const s = await status(a);
    const london = s.locations.find((l) => l.id === 'london')!;
    expect(Object.values(london.byNode).sort()).toEqual([1, 2]);
    expect(s.workers).toHaveLength(1);
    expect(s.workers[0]).toMatchObject({ healthy: true, brokerReady: true, tickMs: 500, failed: 0 });
    expect(s.workers[0]!.ticks).toBeGreaterThan(0);
    expect(s.nodes.every((n) => n.ready)).toBe(true);
    expect(s.activity.some((e) => e.location === 'london' && e.joins > 0)).toBe(true);
    await expect.poll(async () => (await status(a)).totals.messagesPerSecond).toBeGreaterThan(0);

    // A leave on node b shows up in node a's feed.
    leaving.close();
    await expect
      .poll(async () => (await status(a)).activity.some((e) => e.location === 'paris' && e.leaves > 0), { timeout: 10_000 })
      .toBe(true);
    expect(subscribers(await status(a), 'paris')).toBe(0);
  });

  it('streams the status live as event: status, and resumes from Last-Event-ID', async () => {
    const live = await openStream(`${a.url}/status/stream`);
    streams.push(live);
    expect(live.status).toBe(200);
    expect(live.headers['content-type']).toMatch(/^text\/event-stream/);
    await live.waitFor((ms) => ms.filter((m) => m.event === 'status').length >= 3, 10_000, '3 status events');
    const events = live.messages.filter((m) => m.event === 'status');
    const ids = events.map((m) => Number(m.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    const doc = JSON.parse(events.at(-1)!.data!) as ClusterStatus;
    expect(doc.nodes.find((n) => n.id === doc.reportedBy)?.statusClients).toBeGreaterThanOrEqual(0);
    expect(doc.totals.nodes).toBe(2);

    const resumed = await openStream(`${a.url}/status/stream`, { headers: { 'Last-Event-ID': String(ids[0]) } });
    streams.push(resumed);
    await resumed.waitFor((ms) => ms.filter((m) => m.event === 'status').length >= 2, 15_000, 'replayed status events');
    const replayed = resumed.messages.filter((m) => m.event === 'status').map((m) => Number(m.id));
    expect(replayed[0]).toBe(ids[1]);
    live.close();
    resumed.close();
  });

  it('serves Prometheus metrics per node', async () => {
    const res = await fetch(`${a.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    const value = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
    expect(value(/^orrery_clients_connected\{location="london",node="[^"]+"\} (\d+)$/m)).toBe(2);
    expect(value(/^orrery_messages_dispatched_total\{node="[^"]+"\} (\d+)$/m)).toBeGreaterThan(0);
    expect(value(/^orrery_messages_fanned_out_total\{node="[^"]+"\} (\d+)$/m)).toBeGreaterThan(0);
    expect(value(/^orrery_publish_to_send_seconds_count\{node="[^"]+"\} (\d+)$/m)).toBeGreaterThan(0);
    expect(value(/^orrery_redis_reconnects_total\{node="[^"]+"\} (\d+)$/m)).toBe(0);
    expect(value(/^orrery_broker_ready\{node="[^"]+"\} (\d+)$/m)).toBe(1);
    for (const name of ['orrery_frames_conflated_total', 'orrery_frames_dropped_total', 'orrery_slow_client_closes_total', 'orrery_worker_tick_seconds', 'process_resident_memory_bytes']) {
      expect(text).toContain(`# TYPE ${name}`);
    }
  });

  it('the worker serves its own metrics on METRICS_PORT: tick duration, skips, Redis', async () => {
    const line = await worker.waitForLog((l) => l.msg === 'worker metrics listening', 15_000);
    const text = await (await fetch(`http://127.0.0.1:${line.port as number}/metrics`)).text();
    expect(Number(/^orrery_worker_tick_seconds_count\{[^}]*\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/^orrery_worker_ticks_skipped_total\{[^}]*\} \d+$/m);
    expect(text).toMatch(/^orrery_broker_ready\{[^}]*\} 1$/m);
    expect((await fetch(`http://127.0.0.1:${line.port as number}/other`)).status).toBe(404);
    const health = await fetch(`http://127.0.0.1:${line.port as number}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
  });

  it('SIGTERM drains an API node: streams get event: reconnect, it exits within seconds and leaves the status', async () => {
    const s = await open(`${b.url}/stream/tokyo`);
    const started = Date.now();
    const exit = b.stop('SIGTERM');
    await s.ended;
    const last = s.messages.at(-1)!;
    expect(last.event).toBe('reconnect');
    expect(last.retry).toBeGreaterThan(0);
    expect(last.retry).toBeLessThanOrEqual(2000);
    expect((await exit).code).toBe(0);
    const tookMs = Date.now() - started;
    console.info(`API node drained and exited ${tookMs} ms after SIGTERM`);
    // The promise (README): a draining node exits within a few seconds. Five seconds is its own last resort (after
    // its grace for open streams it exits with code 1); under load the drain takes a small fraction of it.
    expect(tookMs).toBeLessThan(5000);
    await expect.poll(async () => (await status(a)).nodes.length).toBe(1);
    expect(b.text()).toBe('');
  });

  it('SIGTERM lets the worker finish its tick, then exit 0', async () => {
    // Right after a tick begins (its debug line comes at the end, so wait for one and stop within the next period).
    const ticks = (): number => worker.logs.filter((l) => l.msg === 'tick').length;
    const before = ticks();
    await expect.poll(ticks, { interval: 20 }).toBeGreaterThan(before);
    const started = Date.now();
    const exit = await worker.stop('SIGTERM');
    expect(exit.code).toBe(0);
    const tookMs = Date.now() - started;
    console.info(`worker finished its tick and exited ${tookMs} ms after SIGTERM`);
    // The promise: the tick in progress finishes, then the worker exits; so within a tick's compute (three locations
    // here) and closing its connections. Five seconds is ten of this test's tick periods, many times what a tick and
    // the close take under load.
    expect(tookMs).toBeLessThan(5000);
    const stopped = worker.logs.find((l) => l.msg === 'worker stopped')!;
    expect(stopped).toBeDefined();
    // every tick started was finished and logged
    expect(stopped.ticks).toBe(ticks());
    expect(worker.logs.some((l) => l.msg === 'tick failed')).toBe(false);
    await expect.poll(async () => (await status(a)).workers.length).toBe(0);
  });
});
