import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../../src/http/app.ts';

// Random requests at the whole app: no input may produce a 5xx, and every 4xx is JSON `{ error, message }`.
// The generators mix known routes and parameter names with junk so most requests get past the router.

const logged: unknown[] = [];
const app = createApp({ logger: { error: (obj) => logged.push(obj) } });

const segment = fc.oneof(
  fc.constantFrom(
    'planets', 'mars', 'MaRs', 'sun', 'pluto', 'vulcan', 'locations', 'nearest', 'geo_location', 'healthz', 'readyz',
    'openapi.json', 'index.html', 'stream', 'london', '', '.', '..', '%2e%2e', '%2F', '%zz', '%00', '%C0%AF', '%E2%82%AC',
    '~', 'a b', '😀', '\\', '*', ':name', '{name}',
  ),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
  fc.string({ maxLength: 12 }),
);
const randomPath = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`);
const routePath = fc.oneof(
  fc.constantFrom(
    '/planets/mars', '/planets/MOON', '/planets', '/locations', '/locations/nearest', '/geo_location', '/geo_location',
    '/healthz', '/readyz', '/openapi.json', '/',
  ),
  segment.map((s) => `/planets/${s}`),
);
const path = fc.oneof({ weight: 3, arbitrary: routePath }, { weight: 1, arbitrary: randomPath });

const key = fc.oneof(
  fc.constantFrom('lat', 'lon', 'elevation', 'time', 'refraction', 'latt', 'LAT', '', '__proto__', 'constructor', 'lat[]'),
  fc.string({ maxLength: 8 }),
);
const value = fc.oneof(
  fc.constantFrom(
    '0', '-90', '90', '90.0000001', '-180', '180', '1e3', '1e400', 'NaN', 'Infinity', '-0', '0x1F', ' 1', '', 'abc',
    '2026-03-20T12:00:00Z', '2026-03-20T12:00:00+02:00', '2026-03-20T12:00:00%2B14:00', '1900-01-01T00:00:00Z',
    '2100-12-31T23:59:59.999Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2026-02-30T00:00:00Z', 'normal', 'none',
    'NONE', '%', '%zz', '%00', '&', '=', '+', '%2B',
  ),
  fc.double().map(String),
  fc.string({ maxLength: 30 }),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
);
const query = fc
  .array(fc.tuple(key, value, fc.boolean()), { maxLength: 6 })
  .map((pairs) =>
    pairs.length === 0 ? '' : `?${pairs.map(([k, v, enc]) => `${enc ? encodeURIComponent(k) : k}=${v}`).join('&')}`,
  );

// CONNECT, TRACE and TRACK cannot be constructed by fetch's Request at all.
const method = fc.oneof(
  { weight: 9, arbitrary: fc.constantFrom('GET', 'GET', 'GET', 'GET', 'HEAD', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS') },
  {
    weight: 1,
    arbitrary: fc.stringMatching(/^[A-Za-z]{1,10}$/).filter((m) => !['CONNECT', 'TRACE', 'TRACK'].includes(m.toUpperCase())),
  },
);

const contentType = fc.oneof(
  fc.constantFrom(
    'application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=latin1', 'text/plain', 'multipart/form-data; boundary=x',
    'application/vnd.x+json', ';', '', 'json',
  ),
  fc.stringMatching(/^[\x21-\x7e]{0,30}$/),
);
const headerName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/);
const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,40}$/).map((v) => v.trim());
const headers = fc.record(
  {
    'content-type': contentType,
    accept: fc.constantFrom('*/*', 'application/json', 'text/html', 'text/event-stream', 'garbage'),
    'last-event-id': fc.string({ maxLength: 10 }).map(encodeURIComponent),
    extra: fc.tuple(headerName, headerValue),
  },
  { requiredKeys: [] },
);

const coordinate = fc.oneof(
  { weight: 4, arbitrary: fc.double({ min: -90, max: 90, noNaN: true }) },
  { weight: 1, arbitrary: fc.oneof(fc.double(), fc.integer({ min: -200, max: 200 }), value, fc.constant(null), fc.boolean()) },
);
const geoFields = fc.record({ lat: coordinate, lon: coordinate, elevation: coordinate, extra: coordinate }, { requiredKeys: [] });
const geoBody = fc.oneof(
  geoFields.map((f) => JSON.stringify(f)),
  geoFields.map((f) =>
    Object.entries(f)
      .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
      .join('&'),
  ),
);
const geoContentType = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('application/json', 'application/x-www-form-urlencoded') },
  { weight: 1, arbitrary: contentType },
);

const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v));
const body = fc.oneof(
  fc.constant(undefined),
  json,
  fc.record({ lat: fc.oneof(fc.double(), fc.string(), fc.constant(null)), lon: fc.anything() }).map((v) => {
    try {
      return JSON.stringify(v);
    } catch {
      return '{}';
    }
  }),
  fc.array(fc.tuple(key, value), { maxLength: 5 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&')),
  fc.string({ maxLength: 200 }),
  fc.integer({ min: 16 * 1024 - 8, max: 40 * 1024 }).map((n) => 'lat=1&lon=2&x='.padEnd(n, 'x')),
  fc.uint8Array({ maxLength: 64 }),
);

function buildRequest(m: string, p: string, q: string, h: Record<string, unknown>, b: string | Uint8Array | undefined): Request | undefined {
  const init: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (k === 'extra') {
      const [name, val] = v as [string, string];
      init[name] = val;
    } else init[k] = v as string;
  }
  try {
    const withBody = b !== undefined && m.toUpperCase() !== 'GET' && m.toUpperCase() !== 'HEAD';
    return new Request(new URL(p + q, 'http://localhost'), {
      method: m,
      headers: init,
      ...(withBody ? { body: b as BodyInit } : {}),
    });
  } catch {
    return undefined; // not a request any HTTP client could send (e.g. an invalid header value)
  }
}

/** Sends `req` and checks the invariants; returns the status for further checks. */
async function sendChecked(req: Request): Promise<number> {
  const res = await app.request(req);
  const text = await res.text();
  const where = `${req.method} ${req.url} → ${res.status} ${text.slice(0, 200)}`;
  expect(res.status, where).toBeLessThan(500);
  if (res.status >= 400 && req.method !== 'HEAD') {
    expect(res.headers.get('content-type'), where).toMatch(/^application\/json/);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(parsed).sort(), where).toEqual(['error', 'message']);
    expect(typeof parsed.error, where).toBe('string');
    expect(typeof parsed.message, where).toBe('string');
    expect((parsed.message as string).length, where).toBeGreaterThan(0);
  }
  return res.status;
}

describe('the app under random requests', () => {
  it('never answers 5xx, and every 4xx is JSON { error, message }', async () => {
    await fc.assert(
      fc.asyncProperty(method, path, query, headers, body, async (m, p, q, h, b) => {
        const req = buildRequest(m, p, q, h, b);
        fc.pre(req !== undefined);
        await sendChecked(req!);
      }),
      { numRuns: 800 },
    );
    expect(logged).toEqual([]);
  });

  it('GET /planets/:name with random queries: 200, 400 or 404 only', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('mars', 'Moon', 'sun', 'x'), query, headers, async (name, q, h) => {
        const req = buildRequest('GET', `/planets/${name}`, q, h, undefined);
        fc.pre(req !== undefined);
        expect([200, 400, 404]).toContain(await sendChecked(req!));
      }),
      { numRuns: 400 },
    );
    expect(logged).toEqual([]);
  });

  it('POST /geo_location with random types and bodies: 200, 400, 413 or 415 only', async () => {
    await fc.assert(
      fc.asyncProperty(geoContentType, fc.oneof(geoBody, body), async (type, b) => {
        const req = buildRequest('POST', '/geo_location', '', { 'content-type': type }, b);
        fc.pre(req !== undefined);
        expect([200, 400, 413, 415]).toContain(await sendChecked(req!));
      }),
      { numRuns: 400 },
    );
    expect(logged).toEqual([]);
  });

  it('names the parameter in every invalid_parameter message for /planets', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('lat', 'lon', 'elevation', 'time', 'refraction'),
        fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/^[\d.eE+-]+$/.test(s)),
        async (name, junk) => {
          const pair = name === 'lat' ? `lon=0&lat=${encodeURIComponent(junk)}` : name === 'lon' ? `lat=0&lon=${encodeURIComponent(junk)}` : `lat=0&lon=0&${name}=${encodeURIComponent(junk)}`;
          const res = await app.request(`/planets/mars?${pair}`);
          if (name === 'refraction' && ['normal', 'none'].includes(junk.toLowerCase())) return;
          expect(res.status).toBe(400);
          const b = (await res.json()) as { error: string; message: string };
          expect(b.error).toBe('invalid_parameter');
          expect(b.message.startsWith(`${name} must`)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
