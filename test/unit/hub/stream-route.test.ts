import { describe, expect, it } from 'vitest';
import type { Broker } from '../../../src/broker/broker.ts';
import { createMemoryBroker } from '../../../src/broker/memory.ts';
import { createApp } from '../../../src/http/app.ts';
import { Hub } from '../../../src/hub/hub.ts';
import { silentLogger } from '../../../src/log.ts';
import { PositionCalculator } from '../../../src/sky/fast-path.ts';
import { LOCATIONS } from '../../../src/sky/locations.ts';
import { frameItem } from '../../../src/spots/channel.ts';
import { SpotBroker } from '../../../src/spots/spot-broker.ts';
import { parseTrustedProxies } from '../../../src/http/client-ip.ts';
import { createSpotLimiter } from '../../../src/http/spot-limit.ts';

// The stream routes through app.request() (web-stream sink): refusals as JSON before any stream, redirects, framing.

const loc = LOCATIONS[0]!;
const T = Date.UTC(2026, 10, 22, 1, 0, 0);
const snapshot = (id: number, locationId = loc.id): string =>
  JSON.stringify({ location: { id: locationId }, time: new Date(id).toISOString(), bodies: [], publishedAt: id });

function setup(broker: Broker = createMemoryBroker({ historyLimit: 100 })) {
  const hub = new Hub(broker, silentLogger);
  const app = createApp({ ready: () => broker.ready(), stream: { hub, heartbeatMs: 60_000 } });
  return { app, hub, broker };
}

/** Reads the body until `until` holds over the text so far. */
async function readUntil(res: Response, until: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + timeoutMs;
  while (!until(text)) {
    const next = await Promise.race([
      reader.read(),
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`timeout; got ${JSON.stringify(text)}`)), deadline - Date.now())),
    ]);
    if (next.done) break;
    text += decoder.decode(next.value, { stream: true });
  }
  await reader.cancel();
  return text;
}

describe('GET /stream/:location', () => {
  it('404 unknown_location as JSON, without touching the broker', async () => {
    let touched = false;
    const inner = createMemoryBroker({ historyLimit: 1 });
    const spy: Broker = {
      ...inner,
      kind: inner.kind,
      subscribe: (...a) => ((touched = true), inner.subscribe(...a)),
      latest: (...a) => ((touched = true), inner.latest(...a)),
      history: (...a) => ((touched = true), inner.history(...a)),
    };
    const { app } = setup(spy);
    for (const path of ['/stream/atlantis', '/stream/LONDON', '/stream/..%2Fsecret', `/stream/${'x'.repeat(300)}`]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error).toBe('unknown_location');
      expect(body.message).toMatch(/location/);
    }
    expect(touched).toBe(false);
  });

  it('400 for an invalid lastEventId (query or header) or an unknown query parameter', async () => {
    const { app } = setup();
    const cases: [string, Record<string, string>][] = [
      [`/stream/${loc.id}?lastEventId=abc`, {}],
      [`/stream/${loc.id}?lastEventId=-5`, {}],
      [`/stream/${loc.id}?lastEventId=1e3`, {}],
      [`/stream/${loc.id}?lastEventId=99999999999999999999`, {}],
      [`/stream/${loc.id}`, { 'Last-Event-ID': 'yesterday' }],
      [`/stream/${loc.id}?foo=1`, {}],
      [`/stream/${loc.id}?lastEventId=1&lastEventId=2`, {}],
    ];
    for (const [path, headers] of cases) {
      const res = await app.request(path, { headers });
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_parameter');
    }
  });

  it('redirects a browser navigation to the page, streams for curl and EventSource', async () => {
    const { app } = setup();
    const nav = await app.request(`/stream/${loc.id}`, {
      headers: { Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
    });
    expect(nav.status).toBe(302);
    expect(nav.headers.get('location')).toBe(`/?location=${loc.id}`);
    for (const accept of ['*/*', 'text/event-stream', 'text/html, text/event-stream']) {
      const res = await app.request(`/stream/${loc.id}`, { headers: { Accept: accept } });
      expect(res.status, accept).toBe(200);
      await res.body?.cancel();
    }
  });

  it('streams: SSE headers, retry hint, the latest snapshot at once, then live updates', async () => {
    const { app, broker } = setup();
    await broker.publish([{ channel: loc.id, id: T, data: snapshot(T) }]);
    const res = await app.request(`/stream/${loc.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    setTimeout(() => void broker.publish([{ channel: loc.id, id: T + 1000, data: snapshot(T + 1000) }]), 50);
    const text = await readUntil(res, (t) => t.includes(`id: ${T + 1000}\n`));
    expect(text).toBe(
      `retry: 2000\n\nid: ${T}\nevent: update\ndata: ${snapshot(T)}\n\n` +
        `id: ${T + 1000}\nevent: update\ndata: ${snapshot(T + 1000)}\n\n`,
    );
  });

  it('resumes after Last-Event-ID (header over query) with exactly the missed ids, in order', async () => {
    const { app, broker } = setup();
    for (let i = 0; i < 5; i++) await broker.publish([{ channel: loc.id, id: T + i * 1000, data: snapshot(T + i * 1000) }]);
    const res = await app.request(`/stream/${loc.id}?lastEventId=${T}`, { headers: { 'Last-Event-ID': String(T + 2000) } });
    const text = await readUntil(res, (t) => t.includes(`id: ${T + 4000}\n`));
    expect([...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))).toEqual([T + 3000, T + 4000]);
    const viaQuery = await app.request(`/stream/${loc.id}?lastEventId=${T + 3000}`);
    const text2 = await readUntil(viaQuery, (t) => t.includes(`id: ${T + 4000}\n`));
    expect([...text2.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))).toEqual([T + 4000]);
  });

  it('HEAD answers with the stream headers and no body', async () => {
    const { app, hub } = setup();
    const res = await app.request(`/stream/${loc.id}`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(hub.stats().clients).toBe(0);
  });

  it('a client that goes away leaves the hub', async () => {
    const { app, hub } = setup();
    const res = await app.request(`/stream/${loc.id}`);
    await readUntil(res, (t) => t.includes('retry'));
    await expect.poll(() => hub.stats().clients).toBe(0);
  });
});

describe('GET /stream?lat=&lon=', () => {
  it('streams the exact spot, computed from the latest geocentric frame', async () => {
    const broker = createMemoryBroker({ historyLimit: 100 });
    const { app } = setup(new SpotBroker(broker, { log: silentLogger, spreadMs: 900 }));
    await broker.publish([frameItem(T, T, new PositionCalculator())]);
    const res = await app.request('/stream?lat=48.9&lon=2.4');
    const text = await readUntil(res, (t) => t.includes('data: '));
    expect(text).toContain(`id: ${T}\nevent: update\n`);
    expect(text).toContain('"observer":{"latitude":48.9,"longitude":2.4,"elevation":0},"cell":{"id":"48.9000,2.4000,0"');
    const nav = await app.request('/stream?lat=48.9&lon=2.4', { headers: { Accept: 'text/html' } });
    expect(nav.headers.get('location')).toBe('/');
  });

  it('gives a spot back to MAX_SPOTS_PER_CLIENT when the answer is not a stream (HEAD, a bad Last-Event-ID)', async () => {
    const broker = createMemoryBroker({ historyLimit: 100 });
    const spots = new SpotBroker(broker, { log: silentLogger, spreadMs: 900 });
    const hub = new Hub(spots, silentLogger);
    const limiter = createSpotLimiter({ max: 1, trusted: parseTrustedProxies('127.0.0.1') });
    const app = createApp({ ready: () => true, stream: { hub, heartbeatMs: 60_000, admitSpot: limiter.admit } });
    await broker.publish([frameItem(T, T, new PositionCalculator())]);
    const from = { incoming: { socket: { remoteAddress: '9.9.9.9' } } };
    const head = await app.request('/stream?lat=1&lon=1', { method: 'HEAD' }, from);
    expect(head.status).toBe(200);
    const bad = await app.request('/stream?lat=2&lon=2', { headers: { 'Last-Event-ID': 'yesterday' } }, from);
    expect(bad.status).toBe(400);
    // Neither held the address's one spot: a stream of a third cell is admitted, and then a fourth is not.
    const res = await app.request('/stream?lat=3&lon=3', {}, from);
    expect(res.status).toBe(200);
    const over = await app.request('/stream?lat=4&lon=4', {}, from);
    expect(over.status).toBe(429);
    // Reading it to its first update and going away gives the spot back too.
    await readUntil(res, (t) => t.includes('data: '));
    await expect.poll(async () => (await app.request('/stream?lat=4&lon=4', { method: 'HEAD' }, from)).status).toBe(200);
  });

  it.each([
    ['/stream', /lat and lon are required/],
    ['/stream?lat=10', /lon is missing/],
    ['/stream?lat=0&lon=0&elevation=x', /elevation/],
    ['/stream?lon=10', /lat/],
    ['/stream?lat=91&lon=0', /lat/],
    ['/stream?lat=0&lon=-181', /lon/],
    ['/stream?lat=abc&lon=0', /lat/],
    ['/stream?lat=0&lon=0&lastEventId=x', /lastEventId/],
  ])('400 naming the parameter: %s', async (path, named) => {
    const { app } = setup();
    const res = await app.request(path);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe('invalid_parameter');
    expect(body.message).toMatch(named);
  });
});
