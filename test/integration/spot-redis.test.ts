import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startApiNode, startTogether, startWorker, uniquePrefix, type ApiNode, type ProjectProcess } from '../../scripts/processes.ts';
import { numsub, redisCommand } from '../../scripts/resp.ts';
import { openStream, type SseMessage, type SseStream } from '../../scripts/sse-client.ts';

// Exact spots with a real Redis, one worker and two API nodes: the worker publishes one geocentric frame per tick; each
// node computes the cells its own clients watch, once per tick whatever the number of viewers (shown by its
// orrery_spot_cell_computations_total), and Redis carries the frame only: no spot channel ever reaches it.

const url = inject('redisUrl');
const prefix = uniquePrefix('spots');
const TICK_MS = 1000;
const env = { REDIS_URL: url, REDIS_PREFIX: prefix, LOG_LEVEL: 'info' };
let worker: ProjectProcess;
let api1: ApiNode;
let api2: ApiNode;
const open: SseStream[] = [];

const stream = async (node: ApiNode, path: string): Promise<SseStream> => {
  const s = await openStream(`${node.url}${path}`);
  open.push(s);
  expect(s.status).toBe(200);
  return s;
};
const nUpdates = (n: number) => (ms: SseMessage[]) => ms.filter((m) => m.event === 'update').length >= n;
const metric = async (node: ApiNode, name: string): Promise<number> => {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
};

beforeAll(async () => {
  [worker, api1, api2] = await startTogether<[ProjectProcess, ApiNode, ApiNode]>(
    startWorker({ ...env, TICK_MS: String(TICK_MS), WORKER_LOCATIONS: 'london', HISTORY_SECONDS: '60' }),
    startApiNode({ ...env, HEARTBEAT_MS: '1000' }),
    startApiNode({ ...env, HEARTBEAT_MS: '1000' }),
  );
});

afterAll(async () => {
  for (const s of open) s.close();
  const exits = await Promise.all([worker, api1, api2].filter(Boolean).map((p) => p.stop()));
  expect(exits.map((e) => e.code)).toEqual(exits.map(() => 0));
});

describe('exact spots on Redis with two API nodes', () => {
  it('viewers of one spot on both nodes cost one computation per tick per node, and Redis carries only the frame', async () => {
    const alice = '/stream?lat=-23.70&lon=133.88';
    const [a1, a2, b1, b2] = await Promise.all([stream(api1, alice), stream(api1, alice), stream(api2, alice), stream(api2, alice)]);
    // A second spot on node 1 only, two observers in one cell.
    const [p1, p2] = await Promise.all([stream(api1, '/stream?lat=0&lon=-150'), stream(api1, '/stream?lat=0.00002&lon=-150.00001')]);
    await Promise.all([a1, a2, b1, b2, p1, p2].map((s) => s.waitFor(nUpdates(2), 20_000, '2 updates')));
    expect(await metric(api1, 'orrery_spot_cells_active')).toBe(2);
    expect(await metric(api2, 'orrery_spot_cells_active')).toBe(1);

    const before = await Promise.all([api1, api2].map((n) => metric(n, 'orrery_spot_cell_computations_total')));
    const seen0 = b1.updates().length;
    await b1.waitFor(nUpdates(seen0 + 6), 20_000, '6 more updates');
    const after = await Promise.all([api1, api2].map((n) => metric(n, 'orrery_spot_cell_computations_total')));
    const ticks = b1.updates().length - seen0;
    const d1 = after[0]! - before[0]!;
    const d2 = after[1]! - before[1]!;
    console.info(`over ~${ticks} ticks: node 1 (2 cells, 4 viewers) ${d1} computations, node 2 (1 cell, 2 viewers) ${d2}`);
    // Once per cell per tick per node (the reads straddle a tick or two), never once per viewer.
    expect(d2).toBeGreaterThanOrEqual(ticks - 2);
    expect(d2).toBeLessThanOrEqual(ticks + 2);
    expect(d1).toBeGreaterThanOrEqual(2 * (ticks - 2));
    expect(d1).toBeLessThanOrEqual(2 * (ticks + 2));

    // Both nodes streamed the same bytes for the same tick (the same frame, the same cell).
    const byId = (s: SseStream): Map<string, string> => new Map(s.updates().map((m) => [m.id!, m.data!]));
    const n1 = byId(a1);
    let same = 0;
    for (const [id, data] of byId(b1)) {
      if (!n1.has(id)) continue;
      expect(data).toBe(n1.get(id));
      same++;
    }
    expect(same).toBeGreaterThan(3);

    // Redis: one frame subscription per node, no spot channel, one frame history.
    expect(await numsub(url, `${prefix}sky:_frame`)).toBe(2);
    expect(await redisCommand(url, 'PUBSUB', 'CHANNELS', `${prefix}sky:spot*`)).toEqual([]);
    expect(Number(await redisCommand(url, 'XLEN', `${prefix}history:_frame`))).toBeGreaterThan(3);

    for (const s of open) s.close();
    for (const n of [api1, api2]) await expect.poll(() => metric(n, 'orrery_spot_cells_active'), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => numsub(url, `${prefix}sky:_frame`), { timeout: 10_000 }).toBe(0);
  });

  it('resumes a spot on the other node from the frames Redis keeps', async () => {
    const s1 = await stream(api1, '/stream?lat=70&lon=25');
    await s1.waitFor(nUpdates(2), 20_000, '2 updates');
    s1.close();
    const last = s1.updates().at(-1)!;
    await new Promise((r) => setTimeout(r, 2500));
    const s2 = await openStream(`${api2.url}/stream?lat=70&lon=25`, { headers: { 'Last-Event-ID': last.id! } });
    open.push(s2);
    await s2.waitFor(nUpdates(3), 20_000, '3 updates');
    const ids = s2.updates().map((m) => Number(m.id));
    ids.forEach((id, i) => expect(id).toBe(Number(last.id) + TICK_MS * (i + 1)));
    s2.close();
  });
});
