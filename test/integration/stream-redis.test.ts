import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BODY_NAMES, type BodyPosition } from '../../src/sky/types.ts';
import { findLocation } from '../../src/sky/locations.ts';
import {
  startApiNode,
  startTogether,
  startWorker,
  uniquePrefix,
  type ApiNode,
  type ProjectProcess,
} from '../../scripts/processes.ts';
import { numsub, redisCommand } from '../../scripts/resp.ts';
import { openStream, snapshotOf, type SseMessage, type SseStream } from '../../scripts/sse-client.ts';

// The live path with real processes: `npm run worker` publishes to a real Redis, two `npm start` API nodes
// (REDIS_URL set) stream it. One worker and two nodes serve every test in this file.

const url = inject('redisUrl');
const prefix = uniquePrefix('stream');
// The naive placeholder grid path takes ~100 ms per location on a loaded machine; 1 s ticks leave room.
const TICK_MS = 1000;
const CHANNELS = ['london', 'paris'] as const;
const env = { REDIS_URL: url, REDIS_PREFIX: prefix, LOG_LEVEL: 'info' };

let worker: ProjectProcess;
let api1: ApiNode;
let api2: ApiNode;
const open: SseStream[] = [];

const stream = async (node: ApiNode, path: string, headers?: Record<string, string>): Promise<SseStream> => {
  const s = await openStream(`${node.url}${path}`, { headers });
  open.push(s);
  return s;
};
const updateIds = (s: SseStream): number[] => s.updates().map((m) => Number(m.id));
const nUpdates = (n: number) => (ms: SseMessage[]) => ms.filter((m) => m.event === 'update').length >= n;

beforeAll(async () => {
  for (const id of CHANNELS) expect(findLocation(id), id).toBeDefined();
  [worker, api1, api2] = await startTogether<[ProjectProcess, ApiNode, ApiNode]>(
    startWorker({ ...env, TICK_MS: String(TICK_MS), WORKER_LOCATIONS: CHANNELS.join(','), HISTORY_SECONDS: '120' }),
    startApiNode({ ...env, HEARTBEAT_MS: '1000' }),
    startApiNode({ ...env, HEARTBEAT_MS: '1000' }),
  );
});

afterAll(async () => {
  for (const s of open) s.close();
  const exits = await Promise.all([worker, api1, api2].filter(Boolean).map((p) => p.stop()));
  // SIGTERM is a clean exit for both kinds of process.
  expect(exits.map((e) => e.code)).toEqual(exits.map(() => 0));
  expect(worker?.logs.some((l) => l.msg === 'worker stopped')).toBe(true);
});

describe('worker → Redis → API nodes → SSE', () => {
  it('two clients on each of two API nodes receive the same valid snapshots', async () => {
    const clients = await Promise.all([api1, api1, api2, api2].map((n) => stream(n, '/stream/london')));
    for (const c of clients) {
      expect(c.status).toBe(200);
      expect(c.headers['content-type']).toBe('text/event-stream');
      expect(c.headers['cache-control']).toBe('no-cache');
      expect(c.headers['x-accel-buffering']).toBe('no');
    }
    await Promise.all(clients.map((c) => c.waitFor(nUpdates(4), 15_000, '4 updates')));
    const byId = new Map<string, string>();
    for (const c of clients) {
      expect(c.messages[0]).toMatchObject({ retry: 2000 });
      const updates = c.updates();
      const ids = updates.map((m) => Number(m.id));
      expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
      for (const m of updates) {
        const snap = snapshotOf(m);
        expect(snap.location).toEqual(findLocation('london'));
        expect(Date.parse(snap.time)).toBe(Number(m.id));
        expect(Number(m.id) % TICK_MS).toBe(0);
        expect(snap.bodies.map((b) => b.name)).toEqual([...BODY_NAMES]);
        for (const b of snap.bodies) {
          expect(b).toMatchObject({ az: expect.any(Number), alt: expect.any(Number), constellation: expect.any(String) });
        }
        expect(snap.publishedAt).toBeGreaterThanOrEqual(Number(m.id));
        expect(snap.publishedAt).toBeLessThanOrEqual(m.receivedAt + 50);
        // Every node and client sees the very same bytes for an id.
        const seen = byId.get(m.id!);
        if (seen) expect(m.data).toBe(seen);
        else byId.set(m.id!, m.data!);
      }
    }
    // Both nodes delivered the ticks published while everyone was connected.
    const common = updateIds(clients[0]!).filter((id) => updateIds(clients[3]!).includes(id));
    expect(common.length).toBeGreaterThanOrEqual(2);
  });

  it('an EventSource (eventsource package) receives update events with ids', async () => {
    const es = new EventSource(`${api2.url}/stream/paris`);
    try {
      const events = await new Promise<MessageEvent[]>((resolve, reject) => {
        const got: MessageEvent[] = [];
        const timer = setTimeout(() => reject(new Error(`only ${got.length} events`)), 15_000);
        es.addEventListener('update', (e) => {
          got.push(e);
          if (got.length === 3) {
            clearTimeout(timer);
            resolve(got);
          }
        });
      });
      for (const e of events) {
        const snap = JSON.parse(e.data as string) as { location: { id: string }; time: string };
        expect(snap.location.id).toBe('paris');
        expect(e.lastEventId).toBe(String(Date.parse(snap.time)));
      }
      expect(es.readyState).toBe(EventSource.OPEN);
    } finally {
      es.close();
    }
  });

  it('streamed values equal GET /planets/:name for the same location and instant', async () => {
    const s = await stream(api1, '/stream/paris');
    await s.waitFor(nUpdates(1), 15_000, 'an update');
    s.close();
    const snap = snapshotOf(s.updates()[0]!) as unknown as {
      location: { lat: number; lon: number; elevation: number };
      time: string;
      bodies: BodyPosition[];
    };
    const ARCSEC = 1 / 3600;
    for (const body of snap.bodies) {
      const q = new URLSearchParams({
        lat: String(snap.location.lat),
        lon: String(snap.location.lon),
        elevation: String(snap.location.elevation),
        time: snap.time,
      });
      const res = await fetch(`${api2.url}/planets/${body.name}?${q}`);
      expect(res.status).toBe(200);
      const p = (await res.json()) as BodyPosition & { time: string };
      expect(p.time).toBe(snap.time);
      const what = `${body.name} at ${snap.time}`;
      expect(Math.abs(p.alt - body.alt), `${what} alt`).toBeLessThan(ARCSEC);
      if (Math.abs(body.alt) < 89.9) {
        const dAz = Math.abs(((p.az - body.az + 540) % 360) - 180);
        expect(dAz * Math.cos((body.alt * Math.PI) / 180), `${what} az`).toBeLessThan(ARCSEC);
      }
      expect(Math.abs(p.ra - body.ra) * 15, `${what} ra`).toBeLessThan(ARCSEC);
      expect(Math.abs(p.dec - body.dec), `${what} dec`).toBeLessThan(ARCSEC);
      expect(Math.abs(p.distance - body.distance) / body.distance, `${what} distance`).toBeLessThan(1e-7);
      expect(Math.abs(p.magnitude - body.magnitude), `${what} magnitude`).toBeLessThan(0.01);
      expect(Math.abs(p.phase - body.phase), `${what} phase`).toBeLessThan(1e-4);
      expect(p.constellation, what).toBe(body.constellation);
      for (const k of ['rise', 'transit', 'set'] as const) {
        if (body[k] === null || p[k] === null) expect(p[k], `${what} ${k}`).toBe(body[k]);
        else expect(Math.abs(Date.parse(p[k]!) - Date.parse(body[k]!)), `${what} ${k}`).toBeLessThan(5000);
      }
    }
  });

  it('Last-Event-ID replays exactly the missed ids, in order, without duplicates, then goes live', async () => {
    const first = await stream(api1, '/stream/london');
    await first.waitFor(nUpdates(3), 15_000, '3 updates');
    first.close();
    const resumeFrom = updateIds(first)[1]!;
    // Miss a few ticks.
    await new Promise((r) => setTimeout(r, TICK_MS * 4));
    for (const [node, headers, path] of [
      [api2, { 'Last-Event-ID': String(resumeFrom) }, '/stream/london'],
      [api1, {}, `/stream/london?lastEventId=${resumeFrom}`],
    ] as const) {
      const resumed = await stream(node, path, headers);
      await resumed.waitFor(
        (ms) => ms.some((m) => m.event === 'update' && Number(m.id) >= resumeFrom + TICK_MS * 8),
        20_000,
        'replay and live updates',
      );
      resumed.close();
      const ids = updateIds(resumed);
      expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
      expect(ids[0]).toBeGreaterThan(resumeFrom);
      // Exactly what the history holds after resumeFrom, no gap: compare with the stream in Redis.
      const last = ids.at(-1)!;
      const stored = (await redisCommand(url, 'XRANGE', `${prefix}history:london`, `(${resumeFrom}-0`, `${last}-0`)) as [
        string,
        string[],
      ][];
      expect(ids).toEqual(stored.map(([id]) => Number(id.split('-')[0])));
    }
  });

  it('after the last client of a channel disconnects, PUBSUB NUMSUB drops to 0', async () => {
    const channel = `${prefix}sky:paris`;
    await expect.poll(() => numsub(url, channel), { timeout: 10_000 }).toBe(0); // earlier tests' clients are gone
    const a = await stream(api2, '/stream/paris');
    const b = await stream(api2, '/stream/paris');
    await Promise.all([a, b].map((s) => s.waitFor(nUpdates(1), 15_000, 'an update')));
    expect(await numsub(url, channel)).toBe(1); // one SUBSCRIBE for the node, however many clients
    const c = await stream(api1, '/stream/paris');
    await c.waitFor(nUpdates(1), 15_000, 'an update');
    expect(await numsub(url, channel)).toBe(2); // one per node
    a.close();
    await new Promise((r) => setTimeout(r, 300));
    expect(await numsub(url, channel)).toBe(2);
    b.close();
    c.close();
    await expect.poll(() => numsub(url, channel)).toBe(0);
  });

  it('refuses unknown locations and bad parameters as JSON before streaming; /readyz is ready', async () => {
    const res = await fetch(`${api1.url}/stream/atlantis`, { headers: { Accept: 'text/event-stream' } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'unknown_location' });
    const bad = await fetch(`${api1.url}/stream?lat=100&lon=0`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_parameter' });
    expect(await numsub(url, `${prefix}sky:atlantis`)).toBe(0);
    const ready = await fetch(`${api1.url}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('an idle stream gets heartbeat comments', async () => {
    // A grid location the worker does not compute: nothing but heartbeats (HEARTBEAT_MS=1000 on the nodes).
    const s = await stream(api1, '/stream/berlin');
    await s.waitFor((ms) => ms.filter((m) => m.comments.includes('heartbeat')).length >= 2, 15_000, '2 heartbeats');
    expect(s.updates()).toEqual([]);
  });
});
