import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type HttpAnswer, httpGet } from '../../scripts/http-get.ts';
import { respCommand } from '../../scripts/resp.ts';
import { startStack, type Stack } from '../../scripts/stack.ts';
import { isHostNetworkChange, launchChromium } from '../browser/harness.ts';
import type { Browser, Page } from 'playwright-core';
import { openSse, servedBy, type SseClient, type SseEvent } from '../../scripts/sse-client.ts';

// The production topology as processes (redis-server, worker, two API nodes, nginx with the repo's
// template), started by the same launcher as `npm run stack`. Everything goes through nginx, the way a
// browser would reach it.

const TICK_MS = 500;
const STREAMS_PER_CLIENT = 6;

let stack: Stack;
const clients: SseClient[] = [];

function client(path: string, options?: Parameters<typeof openSse>[1]): SseClient {
  const c = openSse(`${stack.url}${path}`, options);
  clients.push(c);
  return c;
}

function closeAll(): void {
  for (const c of clients.splice(0)) c.close();
}

interface Snapshot {
  location: { id: string };
  time: string;
  bodies: { name: string }[];
  publishedAt: number;
}

const snapshot = (e: SseEvent): Snapshot => JSON.parse(e.data) as Snapshot;
const ids = (events: readonly SseEvent[]): number[] => events.map((e) => Number(e.id));

/** Plain GET through nginx: status, headers, body. */
const get = (path: string, headers: Record<string, string> = {}): Promise<HttpAnswer> => httpGet(`${stack.url}${path}`, headers);

/**
 * The snapshot ids the worker actually published for a location between two ids (inclusive), read from
 * its Redis history. Under load the worker may skip a tick slot; a client must then skip it too, and
 * nothing else.
 */
async function publishedIds(location: string, from: number, to: number): Promise<number[]> {
  const redis = new URL(stack.redisUrl);
  const reply = await respCommand(Number(redis.port), redis.hostname, ['XRANGE', `${stack.redisPrefix}history:${location}`, `${from}-0`, `${to}-0`]);
  if (!Array.isArray(reply)) throw new Error(`XRANGE answered ${String(reply)}`);
  return reply.map((entry) => Number(String((entry as unknown[])[0]).split('-')[0]));
}

const nodeAddress = (i: number): string => new URL(stack.apiUrls[i]!).host;

beforeAll(async () => {
  stack = await startStack({
    streamsPerClient: STREAMS_PER_CLIENT,
    env: { TICK_MS: String(TICK_MS), HISTORY_SECONDS: '60', LOG_LEVEL: 'warn', WORKER_LOCATIONS: 'london,paris,tokyo', STATUS_INTERVAL_MS: '500' },
  });
});

afterEach(async () => {
  closeAll();
  // Let nginx see the closed streams before the next test counts streams per client.
  await new Promise((r) => setTimeout(r, 200));
});

afterAll(async () => {
  closeAll();
  await stack?.stop();
});

describe('the stack through nginx', () => {
  it('serves the page from web/ and the JSON routes from the API nodes', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toMatch(/<html/i);
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers.server).toBe('nginx');

    const mars = await get('/planets/mars');
    expect(mars.status).toBe(200);
    expect(mars.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(mars.body)).toMatchObject({ name: 'mars' });
    expect([nodeAddress(0), nodeAddress(1)]).toContain(String(mars.headers['x-upstream']).split(',').at(-1)!.trim());

    const bad = await get('/planets/mars?lat=abc&lon=0');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: 'invalid_parameter' });
  });

  it('passes CORS and caching through: ETags revalidate to 304 (gzip or not), preflights and streams carry CORS', async () => {
    const origin = { Origin: 'https://elsewhere.example' };
    for (const path of ['/planets/mars?time=2026-03-20T12:00:00Z', '/locations', '/openapi.json']) {
      for (const encoding of [{}, { 'Accept-Encoding': 'gzip' }] as Record<string, string>[]) {
        const first = await get(path, { ...origin, ...encoding });
        expect(first.status, path).toBe(200);
        expect(first.headers['access-control-allow-origin'], path).toBe('*');
        const etag = String(first.headers.etag);
        // nginx's gzip weakens a strong ETag (W/"…"); the node compares weakly, so both revalidate.
        expect(etag, path).toMatch(/^(W\/)?"[\w-]+"$/);
        const again = await get(path, { ...origin, ...encoding, 'If-None-Match': etag });
        expect(again.status, `${path} ${JSON.stringify(encoding)}`).toBe(304);
        expect(again.body).toBe('');
      }
    }
    const fixed = await get('/planets?time=2026-03-20T12:00:00Z');
    expect(fixed.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await get('/planets')).headers['cache-control']).toBe('public, max-age=1');

    const preflight = await fetch(`${stack.url}/geo_location`, {
      method: 'OPTIONS',
      headers: { ...origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');

    for (const path of ['/stream/london', '/status/stream']) {
      const head = await new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
        const req = request(`${stack.url}${path}`, { headers: { ...origin, Accept: 'text/event-stream' }, agent: false }, (res) => {
          resolve(res.headers);
          res.destroy();
        });
        req.on('error', reject);
        req.end();
      });
      expect(head['content-type'], path).toBe('text/event-stream');
      expect(head['access-control-allow-origin'], path).toBe('*');
    }
  });

  it('runs the live page through nginx under its Content-Security-Policy', async () => {
    const browser = await launchChromium();
    try {
      const { page, problems } = await openWatchedPage(browser);
      const res = await page.goto(`${stack.url}/?location=london`);
      expect(res?.status()).toBe(200);
      // Two successive live snapshots in the table: the EventSource went through nginx and stays open.
      const liveTime = async (after: string): Promise<string> => {
        await page.waitForFunction(
          (prev) => {
            const t = document.getElementById('bodies');
            return document.getElementById('status')?.dataset.state === 'live' && t?.dataset.source === 'live' && !!t.dataset.time && t.dataset.time > prev;
          },
          after,
          { timeout: 10_000 },
        );
        return (await page.locator('#bodies').getAttribute('data-time')) ?? '';
      };
      const first = await liveTime('');
      await liveTime(first);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('renders the API reference (/docs, Swagger UI from the package) through nginx under the CSP, without errors', async () => {
    const browser = await launchChromium();
    try {
      const { page, problems } = await openWatchedPage(browser);
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const res = await page.goto(`${stack.url}/docs`);
      expect(res?.status()).toBe(200);
      expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
      // Every route of the document is rendered as an operation.
      const doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
      const operations = Object.values(doc.paths).reduce((n, p) => n + Object.keys(p).length, 0);
      await page.waitForFunction((n) => document.querySelectorAll('.opblock').length === n, operations, { timeout: 15_000 });
      expect(await page.locator('.opblock-summary-path').allTextContents()).toContain('/planets/{name}');
      expect(requests.filter((u) => !u.startsWith(stack.url)), 'requests to other origins').toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('runs the status page through nginx under the CSP: both nodes, subscribers across nodes, worker health, live', async () => {
    const cs = Array.from({ length: 4 }, () => client('/stream/paris'));
    await Promise.all(cs.map((c, i) => c.waitFor(`client ${i} first event`, (ev) => ev.length >= 1, 10_000)));
    const json = await get('/status');
    expect(json.status).toBe(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    // /metrics stays per node, never through the proxy.
    expect((await get('/metrics')).status).toBe(404);

    const browser = await launchChromium();
    try {
      const { page, problems } = await openWatchedPage(browser);
      const res = await page.goto(`${stack.url}/status.html`);
      expect(res?.status()).toBe(200);
      expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
      // Live over /status/stream through nginx, with paris watched by 4 clients spread over both nodes.
      await page.waitForFunction(() => document.getElementById('conn')?.dataset.state === 'live', undefined, { timeout: 10_000 });
      await page.waitForFunction(
        () => {
          const row = document.querySelector('#locations tr[data-location="paris"]');
          return !!row && row.children[1]?.textContent === '4' && document.querySelectorAll('#nodes tr').length === 2;
        },
        undefined,
        { timeout: 10_000 },
      );
      await page.waitForFunction(() => document.querySelector('#workers .ok')?.textContent === 'healthy', undefined, { timeout: 10_000 });
      const perNode = (await page.locator('#locations tr[data-location="paris"] td').nth(2).textContent()) ?? '';
      expect(perNode.split(',')).toHaveLength(2);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  // How fast a tick gets through is measured, not asserted: scripts/stack-latency.ts, figures in BENCHMARKS.md.
  it('delivers every tick as event: update, in order, once, after the worker published it', async () => {
    const c = client('/stream/london', { reconnect: false });
    // The first event is the latest snapshot, replayed on connect; the live ones follow it.
    await c.waitFor('7 events', (ev) => ev.length >= 7, 15_000);
    const live = c.events.slice(1, 7);
    expect(live.every((e) => e.event === 'update')).toBe(true);
    expect(c.connections).toHaveLength(1);
    expect(c.connections[0]!.headers['content-type']).toMatch(/^text\/event-stream/);

    // Every snapshot published in that span, in order, once: one tick apart unless the worker skipped a slot.
    const liveIds = ids(live);
    expect(liveIds, stack.logs('worker')).toEqual(await publishedIds('london', liveIds[0]!, liveIds.at(-1)!));
    const delays = live.map((e) => {
      const s = snapshot(e);
      expect(s.location.id).toBe('london');
      expect(s.time).toBe(new Date(Number(e.id)).toISOString());
      expect(s.bodies).toHaveLength(10);
      return e.receivedAt - s.publishedAt;
    });
    console.info(`delivery through nginx (ms): ${delays.join(', ')}`);
    // Received after it was published (one machine, one clock): a live delivery, not a stale copy.
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(0);
  });

  it('spreads streams over both API nodes', async () => {
    const cs = Array.from({ length: 4 }, () => client('/stream/paris'));
    await Promise.all(cs.map((c, i) => c.waitFor(`client ${i} first event`, (ev) => ev.length >= 1, 10_000)));
    const nodes = new Set(cs.map((c) => servedBy(c.connections[0]!)));
    expect([...nodes].sort()).toEqual([nodeAddress(0), nodeAddress(1)].sort());
  });

  it('serves streams through nginx on the nodes\' bare sockets, even while nginx keeps idle keep-alive connections to them', async () => {
    // What each node says it opened, by how (its /metrics; nginx does not expose that route).
    const opened = async (): Promise<Record<string, number>> => {
      const sums: Record<string, number> = {};
      for (const url of stack.apiUrls) {
        const text = await (await fetch(`${url}/metrics`)).text();
        for (const m of text.matchAll(/^orrery_streams_opened_total\{[^}]*served="(\w+)"[^}]*\} (\d+)$/gm)) sums[m[1]!] = (sums[m[1]!] ?? 0) + Number(m[2]);
      }
      return sums;
    };
    const before = await opened();
    // API requests leave upstream connections idle in nginx's keep-alive pool…
    for (let i = 0; i < 6; i++) expect((await get('/planets/mars')).status).toBe(200);
    // …which a stream must not be sent over: a node serves a stream on a reused connection through Node's
    // ServerResponse (twice the memory per stream, and one write per client instead of the batched one).
    const cs = Array.from({ length: 4 }, () => client('/stream/paris'));
    await Promise.all(cs.map((c, i) => c.waitFor(`client ${i} first event`, (ev) => ev.length >= 1, 10_000)));
    const after = await opened();
    expect((after.socket ?? 0) - (before.socket ?? 0)).toBe(4);
    expect((after.response ?? 0) - (before.response ?? 0)).toBe(0);
  });

  it(`answers stream number ${STREAMS_PER_CLIENT + 1} from one address with 429 JSON and Retry-After`, async () => {
    const cs = Array.from({ length: STREAMS_PER_CLIENT }, () => client('/stream/tokyo'));
    await Promise.all(cs.map((c, i) => c.waitFor(`client ${i} first event`, (ev) => ev.length >= 1, 10_000)));
    const refused = await get('/stream/tokyo', { Accept: 'text/event-stream' });
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    const body = JSON.parse(refused.body) as { error: string; message: string };
    expect(body.error).toBe('too_many_streams');
    expect(body.message.length).toBeGreaterThan(0);

    // One closes: the next may come in.
    cs[0]!.close();
    await new Promise((r) => setTimeout(r, 200));
    const again = client('/stream/tokyo');
    await again.waitFor('a stream after one closed', (ev) => ev.length >= 1, 10_000);
  });

  it('moves the clients of a killed API node to the other one, resuming with Last-Event-ID without a gap', async () => {
    const a = client('/stream/london');
    const b = client('/stream/london');
    await Promise.all([a, b].map((c) => c.waitFor('first event', (ev) => ev.length >= 2, 10_000)));
    const victim = stack.apiUrls.findIndex((u) => new URL(u).host === servedBy(a.connections[0]!));
    expect(victim).toBeGreaterThanOrEqual(0);
    const survivor = nodeAddress(1 - victim);

    const killedAt = Date.now();
    await stack.killApiNode(victim);
    // EventSource-like: the stream ends, the client waits `retry` (2 s) and comes back with Last-Event-ID.
    await a.waitFor(
      'events after reconnecting',
      (ev) => {
        const resumed = ev.filter((e) => e.connection >= 1);
        return resumed.length >= 3 && resumed.some((e) => Number(e.id) > killedAt + 2 * TICK_MS);
      },
      30_000,
    );

    expect(a.connections.length).toBeGreaterThanOrEqual(2);
    const resumed = a.connections.at(-1)!;
    expect(resumed.status).toBe(200);
    expect(servedBy(resumed)).toBe(survivor);
    expect(resumed.lastEventId).toBeDefined();

    // No snapshot missed, none repeated, across the failover: exactly the ids the worker published,
    // and those run one tick apart (unless the loaded machine made the worker skip a slot, shown in its log).
    const all = ids(a.events);
    const published = await publishedIds('london', all[0]!, all.at(-1)!);
    expect(all, `client ids ${all.join(', ')}`).toEqual(published);
    const gaps = published.slice(1).map((id, i) => id - published[i]!).filter((d) => d !== TICK_MS);
    if (gaps.length > 0) expect(stack.logs('worker'), `gaps ${gaps.join(', ')} in what the worker published`).toMatch(/skip/i);

    // A client the failure did not concern was not disturbed (unless it was on the same node).
    if (servedBy(b.connections[0]!) === survivor) expect(b.connections).toHaveLength(1);

    // Back again: a restarted node takes new streams (least_conn sends them to the emptiest node),
    // once nginx's fail_timeout for it has passed.
    await stack.restartApiNode(victim);
    // nginx holds the node out for its fail_timeout (10 s by default) after the failures; room for that, twice over.
    const deadline = Date.now() + 45_000;
    let landed = false;
    while (!landed && Date.now() < deadline) {
      const probe = openSse(`${stack.url}/stream/london`, { reconnect: false });
      try {
        await probe.waitFor('probe event', (ev) => ev.length >= 1, 5000);
        landed = servedBy(probe.connections[0]!) === nodeAddress(victim);
      } finally {
        probe.close();
      }
      if (!landed) await new Promise((r) => setTimeout(r, 500));
    }
    expect(landed, `no stream reached the restarted api${victim + 1}`).toBe(true);
  });
});

/** A new page that records console errors, page errors and CSP violations in `problems`. */
async function openWatchedPage(browser: Browser): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !isHostNetworkChange(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // CSP violations do not always reach the console; the DOM event always fires.
  await page.exposeFunction('reportViolation', (v: string) => problems.push(`csp: ${v}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { reportViolation(v: string): void }).reportViolation(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`);
    });
  });
  return { page, problems };
}
