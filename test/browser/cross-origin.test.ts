import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { freePort, launchChromium, startApp, type App } from './harness.ts';

// A third-party page, served on another origin, uses Orrery in real Chromium: fetch (GET, and POST with JSON, which
// needs a preflight) and EventSource on location streams (on a fresh connection and on a kept-alive one) and on the
// status stream. With an allow-list, a listed
// origin works and any other is refused by the browser (the server answers 403 without CORS headers).
// The third-party server answers every path with an empty page, reachable as http://localhost:P and
// http://127.0.0.1:P: two origins, one server. The apps listen on 127.0.0.1 on ports of their own.

let thirdParty: Server;
let port: number;
let open: App;
let listed: App;
let browser: Browser;

beforeAll(async () => {
  thirdParty = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>someone else</title><p>a page on another site</p>');
  });
  await new Promise<void>((resolve) => thirdParty.listen(0, '127.0.0.1', resolve));
  port = (thirdParty.address() as AddressInfo).port;
  const env = { TICK_MS: '1000', WORKER_LOCATIONS: 'london,paris' };
  [open, listed, browser] = await Promise.all([
    startApp({ env }),
    startApp({ port: await freePort(), env: { ...env, CORS_ORIGINS: `http://localhost:${port}` } }),
    launchChromium(),
  ]);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([open?.stop(), listed?.stop()]);
  await new Promise((resolve) => thirdParty?.close(resolve));
});

async function pageAt(origin: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${origin}/`);
  return page;
}

interface Outcome {
  planet?: { name: string; status: number };
  geo?: { status: number; lat: number; stream: string };
  stream?: { id: string; name: string };
  nearest?: string;
  status?: boolean;
  errors: string[];
}

/** Runs in the third-party page: fetch GET, fetch POST JSON, an EventSource on a location and on the status stream. */
function useOrrery(page: Page, api: string): Promise<Outcome> {
  return page.evaluate(async (api) => {
    const out: Outcome = { errors: [] };
    const attempt = async (what: string, f: () => Promise<void>): Promise<void> => {
      try {
        await f();
      } catch (err) {
        out.errors.push(`${what}: ${String(err)}`);
      }
    };
    const firstEvent = (url: string, type: string): Promise<MessageEvent> =>
      new Promise((resolve, reject) => {
        const es = new EventSource(url);
        const timer = setTimeout(() => {
          es.close();
          reject(new Error(`no ${type} event within 10 s`));
        }, 10_000);
        es.addEventListener(type, (e) => {
          clearTimeout(timer);
          es.close();
          resolve(e as MessageEvent);
        });
        es.onerror = () => {
          // A refused stream is not retried by the browser: readyState goes to CLOSED.
          if (es.readyState === EventSource.CLOSED) {
            clearTimeout(timer);
            reject(new Error('EventSource failed'));
          }
        };
      });
    // First, on a fresh connection: the stream is served on its bare socket (fastpath/stream-front.ts).
    await attempt('stream', async () => {
      const e = await firstEvent(`${api}/stream/london`, 'update');
      out.stream = { id: e.lastEventId, name: JSON.parse(e.data).location.id };
    });
    await attempt('fetch', async () => {
      const res = await fetch(`${api}/planets/mars?time=2026-03-20T12:00:00Z`);
      out.planet = { name: (await res.json()).name, status: res.status };
    });
    await attempt('post', async () => {
      const res = await fetch(`${api}/geo_location`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ lat: 48.93, lon: 2.45 }),
      });
      const body = await res.json();
      out.geo = { status: res.status, lat: body.lat, stream: body.stream };
    });
    // After the fetches, on a kept-alive connection: served through Node's ServerResponse.
    await attempt('spot stream', async () => {
      const e = await firstEvent(`${api}/stream?lat=48.9&lon=2.4`, 'update');
      out.nearest = JSON.parse(e.data).cell.id;
    });
    await attempt('status', async () => {
      await firstEvent(`${api}/status/stream`, 'status');
      out.status = true;
    });
    return out;
  }, api);
}

describe('a page on another origin', () => {
  it('with the default CORS_ORIGINS=* uses fetch (GET and JSON POST) and EventSource', async () => {
    const page = await pageAt(`http://localhost:${port}`);
    const out = await useOrrery(page, open.url);
    expect(out.errors).toEqual([]);
    expect(out.planet).toEqual({ name: 'mars', status: 200 });
    expect(out.geo).toEqual({ status: 200, lat: 48.93, stream: '/stream/paris' });
    expect(out.stream?.name).toBe('london');
    expect(out.stream?.id).toMatch(/^\d+$/);
    expect(out.nearest).toBe('48.9000,2.4000,0');
    expect(out.status).toBe(true);
  });

  it('on the allow-list works', async () => {
    const page = await pageAt(`http://localhost:${port}`);
    const out = await useOrrery(page, listed.url);
    expect(out.errors).toEqual([]);
    expect(out.planet?.status).toBe(200);
    expect(out.stream?.name).toBe('london');
  });

  it('off the allow-list is refused: every fetch and EventSource fails in the browser', async () => {
    const page = await pageAt(`http://127.0.0.1:${port}`);
    const out = await useOrrery(page, listed.url);
    expect(out.errors).toHaveLength(5);
    expect(out.errors.join('\n')).toMatch(/fetch: TypeError/);
    expect(out.errors.join('\n')).toMatch(/stream: Error: EventSource failed/);
    // what the server said, seen without a browser
    const res = await fetch(`${listed.url}/planets/mars`, { headers: { Origin: `http://127.0.0.1:${port}` } });
    expect(res.status).toBe(403);
    expect((await res.json()).error).toBe('origin_not_allowed');
  });
});
