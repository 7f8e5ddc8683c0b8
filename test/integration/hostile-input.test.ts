import { request } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startApiNode, uniquePrefix, type ApiNode } from '../../scripts/processes.ts';
import { LOCATIONS } from '../../src/sky/locations.ts';

// Hostile input against REAL server processes on a real Redis, over raw node:http and raw sockets: oversized heads get a
// 431 JSON, the per-client stream limit answers 429 JSON with Retry-After (X-Forwarded-For believed only from a trusted
// proxy), random paths/queries/headers/bodies never produce a 5xx or a crash, and no request names a Redis channel or
// key outside the grid (checked with MONITOR on the Redis the node uses).

const redisUrl = inject('redisUrl');
const prefix = uniquePrefix('hostile');
const MAX_STREAMS = 3;
let node: ApiNode;
let strict: ApiNode;
let monitor: { text: () => string; close: () => void };

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One raw request; a stream response is cut after its headers (its status and type are what matter). */
function raw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const all = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const req = request(`${base}${path}`, { method, headers: all, agent: false, timeout: 15_000 }, (res) => {
      let text = '';
      const done = (): void => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        res.destroy();
        done();
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', done);
      res.on('error', done);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout ${method} ${path}`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Raw bytes on a socket; resolves with whatever comes back until the server closes (or, against a hang, 15 s pass). */
function rawBytes(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    let out = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(bytes));
    s.on('data', (d: string) => (out += d));
    const t = setTimeout(() => s.destroy(), 15_000);
    s.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
    s.on('error', () => {});
  });
}

/** MONITOR on the test Redis: every command any client sends, as text. */
function startMonitor(url: string): Promise<{ text: () => string; close: () => void }> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = connect({ port: Number(u.port), host: u.hostname });
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      const first = out === '';
      out += d;
      if (first) resolve({ text: () => out, close: () => s.destroy() });
    });
    s.on('connect', () => s.write('MONITOR\r\n'));
    s.on('error', () => {});
  });
}

beforeAll(async () => {
  monitor = await startMonitor(redisUrl);
  const env = { REDIS_URL: redisUrl, REDIS_PREFIX: prefix, HEARTBEAT_MS: '1000', MAX_STREAMS_PER_CLIENT: String(MAX_STREAMS), MAX_HEADER_BYTES: '8192' };
  // `node`: loopback is a trusted proxy (the default), as behind nginx; `strict`: nobody is.
  [node, strict] = await Promise.all([startApiNode(env), startApiNode({ ...env, TRUSTED_PROXIES: '10.255.255.1' })]);
});
afterAll(async () => {
  monitor?.close();
  await Promise.all([node?.stop('SIGKILL'), strict?.stop('SIGKILL')]);
});

describe('hostile input against a real process', () => {
  it('answers an oversized request head with 431 JSON, and a malformed request with 400 JSON', async () => {
    const big = await rawBytes(node.port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(10_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    expect(big).toMatch(/content-type: application\/json/i);
    expect(JSON.parse(big.slice(big.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: 'header_too_large' });
    const garbage = await rawBytes(node.port, 'GARBAGE\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: 'bad_request' });
    // A header with a bare CR is refused by the parser, never echoed anywhere.
    const cr = await rawBytes(node.port, 'GET /stream/london HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 1\rid: 9\r\n\r\n');
    expect(cr).toMatch(/^HTTP\/1\.1 400 /);
    expect((await raw(node.url, 'GET', '/healthz')).status).toBe(200);
  });

  it('limits concurrent streams per client address: 429 JSON with Retry-After, X-Forwarded-For only from a trusted proxy', async () => {
    const open: { close(): void }[] = [];
    const stream = (base: string, xff?: string): Promise<Reply & { close(): void }> =>
      new Promise((resolve, reject) => {
        const headers: Record<string, string> = { Accept: 'text/event-stream', ...(xff ? { 'X-Forwarded-For': xff } : {}) };
        const req = request(`${base}/stream/london`, { headers, agent: false }, (res) => {
          const close = (): void => {
            req.destroy();
          };
          if (res.statusCode === 200) {
            open.push({ close });
            res.resume();
            resolve({ status: 200, headers: res.headers, body: '', close });
            return;
          }
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, close }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      // Behind a trusted proxy, the client is the forwarded address: 203.0.113.7 gets its own MAX_STREAMS.
      for (let i = 0; i < MAX_STREAMS; i++) expect((await stream(node.url, '203.0.113.7')).status).toBe(200);
      const refused = await stream(node.url, '203.0.113.7');
      expect(refused.status).toBe(429);
      expect(refused.headers['content-type']).toMatch(/^application\/json/);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(JSON.parse(refused.body)).toMatchObject({ error: 'too_many_streams', message: expect.stringContaining('MAX_STREAMS_PER_CLIENT') });
      // Another forwarded client is not affected; a spoofed chain is read from the right (the proxy's own view).
      expect((await stream(node.url, '198.51.100.1')).status).toBe(200);
      expect((await stream(node.url, '203.0.113.7, 198.51.100.2')).status).toBe(200);
      // The status channel counts against the same budget.
      const status = await raw(node.url, 'GET', '/status/stream', { 'X-Forwarded-For': '203.0.113.7', Accept: 'text/event-stream' });
      expect(status.status).toBe(429);

      // Not from a trusted proxy: X-Forwarded-For is ignored, every request is the socket's address.
      for (let i = 0; i < MAX_STREAMS; i++) expect((await stream(strict.url, `192.0.2.${i}`)).status).toBe(200);
      const spoofed = await stream(strict.url, '192.0.2.200');
      expect(spoofed.status).toBe(429);

      // Closing one frees a slot.
      open.pop()!.close();
      // Once the node has seen the close (polled: a busy machine may take a moment), a new stream is let in.
      await expect.poll(async () => (await stream(strict.url)).status).toBe(200);
      const metrics = (await raw(strict.url, 'GET', '/metrics')).body;
      expect(metrics).toMatch(/orrery_requests_refused_total\{reason="too_many_streams"[^}]*\} [1-9]/);
    } finally {
      for (const o of open) o.close();
    }
  });

  it('fuzz: random paths, queries, headers and bodies never produce a 5xx, and the process stays up', async () => {
    const segment = fc.oneof(
      fc.constantFrom(
        'planets', 'mars', 'stream', 'london', 'status', 'metrics', 'locations', 'nearest', 'geo_location', 'readyz',
        'healthz', 'debug', 'gc', '..', '%2e%2e', '%00', '%0d%0a', '%0D%0Aevent:%20x', 'sky:london', '*', '%zz',
        'london%0d%0aid:%201', 'LONDON', 'status.html', 'js', 'status.js',
      ),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
    );
    const path = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => `/${s.join('/')}`);
    const query = fc
      .array(
        fc.tuple(
          fc.constantFrom('lat', 'lon', 'lastEventId', 'time', 'x', '__proto__', 'lat[]'),
          fc.oneof(fc.constantFrom('0', '51.5', '-0.1', '1e400', 'NaN', '%0d%0a', '99999999999999999', '-1', ''), fc.string({ maxLength: 20 }).map(encodeURIComponent)),
        ),
        { maxLength: 4 },
      )
      .map((p) => (p.length ? `?${p.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));
    const headers = fc.record(
      {
        accept: fc.constantFrom('*/*', 'text/event-stream', 'text/html', 'application/json', 'x'),
        'last-event-id': fc.oneof(fc.constantFrom('1', '0', '-1', '1e3', '9'.repeat(30), 'abc'), fc.stringMatching(/^[\x21-\x7e]{0,20}$/)),
        'x-forwarded-for': fc.constantFrom('1.2.3.4', 'garbage', '1.2.3.4, 5.6.7.8', '::1', ''),
        'content-type': fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data'),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      fc.constant(undefined),
      fc.string({ maxLength: 200 }),
      fc.constantFrom('{"lat":1,"lon":2}', 'lat=1&lon=2', '{', '[]', 'null', 'x'.repeat(20_000)),
    );
    const method = fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH');
    const seen: string[] = [];
    await fc.assert(
      fc.asyncProperty(method, path, query, headers, body, async (m, p, q, h, b) => {
        const send = m === 'GET' || m === 'HEAD' ? undefined : b;
        const hs = Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined && v !== '')) as Record<string, string>;
        const r = await raw(node.url, m, `${p}${q}`, hs, send);
        seen.push(`${r.status}`);
        expect(r.status, `${m} ${p}${q} ${JSON.stringify(hs)}`).toBeLessThan(500);
        if (r.status >= 400 && m !== 'HEAD') expect(JSON.parse(r.body)).toMatchObject({ error: expect.any(String), message: expect.any(String) });
      }),
      { numRuns: 400 },
    );
    expect(seen.length).toBe(400);
    expect(node.child.exitCode).toBeNull();
    expect((await raw(node.url, 'GET', '/healthz')).body).toBe('{"status":"ok"}');
    expect(node.logs.filter((l) => (l.level ?? 0) >= 50)).toEqual([]);
    expect(node.text()).toBe('');
  });

  it('never lets a request name a Redis channel or key outside the grid', () => {
    const grid = new Set(LOCATIONS.map((l) => l.id));
    const named = [...monitor.text().matchAll(new RegExp(`"${prefix.replace(/[:]/g, ':')}(?:sky|history):([^"]*)"`, 'g'))].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((id) => !grid.has(id))).toEqual([]);
  });
});
