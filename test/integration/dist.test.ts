import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { buildDist } from '../../scripts/build.ts';
import { startApiNode, startTogether, startWorker, uniquePrefix, type ApiNode, type ProjectProcess } from '../../scripts/processes.ts';
import { openStream, snapshotOf, type SseStream } from '../../scripts/sse-client.ts';
import { createApp } from '../../src/http/app.ts';
import { BODY_NAMES } from '../../src/sky/types.ts';

// Production runs the bundles of `npm run build` (dist/server.js, dist/ephemeris-worker.js), not the TypeScript
// sources through tsx: build them here and run the live path and the on-demand API on them, against a real Redis.

const env = { REDIS_URL: inject('redisUrl'), REDIS_PREFIX: uniquePrefix('dist'), WORKER_LOCATIONS: 'paris', TICK_MS: '1000', LOG_LEVEL: 'info' };
let worker: ProjectProcess;
let api: ApiNode;
let stream: SseStream | undefined;

beforeAll(async () => {
  await buildDist();
  [worker, api] = await startTogether<[ProjectProcess, ApiNode]>(
    startWorker(env, { runtime: 'dist' }),
    startApiNode(env, { runtime: 'dist' }),
  );
});
afterAll(async () => {
  stream?.close();
  await Promise.all([worker?.stop(), api?.stop()]);
});

it('writes its streams through the native fan-out writer the build made', () => {
  expect(api.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('fan-out:'))).toMatchObject({ fanoutWriter: 'native' });
});

it('does not report the presence store unreachable when Redis answers from the start', async () => {
  // The first status round runs at start-up (before 'listening', which startApiNode waited for), while the presence
  // connection is still being made; give its outcome time to be logged.
  await new Promise((r) => setTimeout(r, 500));
  const presence = api.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('presence store'));
  expect(presence).toEqual([]);
});

it('streams the worker’s snapshots', async () => {
  stream = await openStream(`${api.url}/stream/paris`);
  expect(stream.status).toBe(200);
  await stream.waitFor((ms) => ms.filter((m) => m.event === 'update').length >= 2, 10_000, 'two updates');
  const [a, b] = stream.updates().map(snapshotOf);
  expect(a!.location.id).toBe('paris');
  expect(a!.bodies.map((x) => x.name)).toEqual([...BODY_NAMES]);
  expect(Date.parse(b!.time)).toBeGreaterThan(Date.parse(a!.time));
});

it('answers GET /planets exactly as the sources do', async () => {
  const path = '/planets/moon?lat=-33.86&lon=151.21&elevation=58&time=2026-03-20T10:00:00Z';
  const [built, sources] = await Promise.all([fetch(`${api.url}${path}`), createApp().request(path)]);
  expect(built.status).toBe(200);
  expect(await built.text()).toBe(await sources.text());
  const bad = await fetch(`${api.url}/planets/moon?lat=91`);
  expect(bad.status).toBe(400);
  expect(await bad.json()).toMatchObject({ error: 'invalid_parameter' });
});

it('serves the page from web/', async () => {
  const res = await fetch(`${api.url}/`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/html/);
  expect(await res.text()).toContain('<title>');
});
