import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/http/app.ts';
import {
  ErrorSchema,
  GeoLocationResponse,
  LocationsResponse,
  NearestResponse,
  PlanetResponse,
  PlanetsResponse,
  ReadyResponse,
} from '../../../src/http/schemas.ts';
import { BODY_NAMES } from '../../../src/sky/types.ts';

// Every route through app.request(): successes checked against the response schemas (strict: no missing or extra
// fields), every error against the error shape, with the parameter it names.

const errors: unknown[] = [];
const app = createApp({ logger: { error: (obj) => errors.push(obj) } });

async function get(path: string, init?: RequestInit): Promise<{ status: number; body: any; res: Response }> {
  const res = await app.request(path, init);
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text), res };
}

async function expectError(path: string, status: number, code: string, message: string | RegExp, init?: RequestInit) {
  const { status: got, body, res } = await get(path, init);
  expect({ status: got, body }).toMatchObject({ status, body: { error: code } });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  ErrorSchema.parse(body);
  if (typeof message === 'string') expect(body.message).toBe(message);
  else expect(body.message).toMatch(message);
}

// A string body would get `text/plain` from fetch; bytes let a test send no Content-Type at all.
const post = (body: string, contentType?: string): RequestInit => ({
  method: 'POST',
  body: contentType === undefined ? new TextEncoder().encode(body) : body,
  headers: contentType === undefined ? {} : { 'content-type': contentType },
});

afterAll(() => {
  // No request in this file may reach the 500 path.
  expect(errors).toEqual([]);
});

describe('GET /planets/:name', () => {
  it('defaults to Greenwich, now, normal refraction', async () => {
    const before = Date.now();
    const { status, body, res } = await get('/planets/mars');
    expect(status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const p = PlanetResponse.parse(body);
    expect(p.name).toBe('mars');
    expect(p.observer).toEqual({ lat: 51.4769, lon: -0.0005, elevation: 0 });
    expect(p.refraction).toBe('normal');
    expect(Date.parse(p.time)).toBeGreaterThanOrEqual(before - 1);
    expect(Date.parse(p.time)).toBeLessThanOrEqual(Date.now());
    expect(p.az).toBeGreaterThanOrEqual(0);
    expect(p.az).toBeLessThan(360);
    expect(p.aboveHorizon).toBe(p.alt > 0);
  });

  it('takes lat, lon, elevation, time and refraction; the name is case-insensitive', async () => {
    const { status, body } = await get(
      '/planets/JuPiTeR?lon=145.051&lat=-39.754&elevation=120&time=2026-03-20T12:00:00%2B02:00&refraction=none',
    );
    expect(status).toBe(200);
    const p = PlanetResponse.parse(body);
    expect(p).toMatchObject({
      name: 'jupiter',
      observer: { lat: -39.754, lon: 145.051, elevation: 120 },
      time: '2026-03-20T10:00:00.000Z',
      refraction: 'none',
    });
  });

  it('answers every body', async () => {
    for (const name of BODY_NAMES) {
      const { status, body } = await get(`/planets/${name}?lat=0&lon=0&time=2026-01-01T00:00:00Z`);
      expect(status).toBe(200);
      expect(PlanetResponse.parse(body).name).toBe(name);
    }
  });

  it('is the same instant and observer for the same query (deterministic)', async () => {
    const q = '/planets/moon?lat=10&lon=20&time=2030-05-05T05:05:05Z';
    expect((await get(q)).body).toEqual((await get(q)).body);
  });

  it('404s an unknown body, listing the valid names', async () => {
    await expectError(
      '/planets/vulcan',
      404,
      'unknown_body',
      'unknown body "vulcan"; valid names: sun, moon, mercury, venus, mars, jupiter, saturn, uranus, neptune, pluto',
    );
    await expectError('/planets/%zz', 404, 'unknown_body', /unknown body "%zz"/);
  });

  it.each([
    ['lat=abc&lon=0', 'lat must be a number between -90 and 90, got "abc"'],
    ['lat=90.5&lon=0', 'lat must be a number between -90 and 90, got "90.5"'],
    ['lat=0&lon=181', 'lon must be a number between -180 and 180, got "181"'],
    ['lat=0&lon=0x10', 'lon must be a number between -180 and 180, got "0x10"'],
    ['lat=0&lon=0&elevation=1e6', 'elevation must be a number of metres between -500 and 100000, got "1e6"'],
    ['lat=0&lon=0&elevation=high', 'elevation must be a number of metres between -500 and 100000, got "high"'],
    ['lat=&lon=0', 'lat must not be empty'],
    ['lat=0&lon=', 'lon must not be empty'],
    ['lat', 'lat must not be empty'],
    ['lat=1', 'lon is missing: lat and lon must be given together'],
    ['lon=1', 'lat is missing: lat and lon must be given together'],
    ['elevation=10', /elevation was given without lat and lon/],
    ['lat=1&lon=2&lat=1', 'query parameter lat is given more than once'],
    ['time=now', /^time must be an ISO-8601 instant with a UTC offset, e\.g\. "2026-03-20T12:00:00Z", got "now"$/],
    ['time=2026-03-20', /time must be an ISO-8601 instant .* got "2026-03-20"$/],
    ['time=2026-03-20T12:00:00', /time must be an ISO-8601 instant/],
    ['time=2026-03-20T12:00:00+02:00', /write it as %2B/],
    ['time=1850-01-01T00:00:00Z', 'time must be from 1900-01-01T00:00:00Z to 2100-12-31T23:59:59.999Z, got "1850-01-01T00:00:00Z"'],
    ['time=', 'time must not be empty'],
    ['refraction=some', 'refraction must be "normal" or "none", got "some"'],
    ['latt=1', 'unknown query parameter "latt" (allowed: lat, lon, elevation, time, refraction)'],
    ['lat=1&lon=2&LAT=3', /unknown query parameter "LAT"/],
    ['=5', /unknown query parameter ""/],
    ['__proto__=1', /unknown query parameter "__proto__"/],
  ])('400s ?%s', async (query, message) => {
    await expectError(`/planets/mars?${query}`, 400, 'invalid_parameter', message);
  });

  it('allows an empty query string and stray separators', async () => {
    expect((await get('/planets/mars?')).status).toBe(200);
    expect((await get('/planets/mars?&lat=1&&lon=2&')).status).toBe(200);
  });
});

describe('GET /planets', () => {
  it('answers the ten bodies in order for one observer and instant', async () => {
    const { status, body } = await get('/planets?lat=-33.87&lon=151.21&elevation=58&time=2026-06-21T12:00:00Z');
    expect(status).toBe(200);
    const all = PlanetsResponse.parse(body);
    expect(all.bodies.map((b) => b.name)).toEqual([...BODY_NAMES]);
    expect(all.observer).toEqual({ lat: -33.87, lon: 151.21, elevation: 58 });
    expect(all.time).toBe('2026-06-21T12:00:00.000Z');
  });

  it('agrees with the single-body route', async () => {
    const q = '?lat=40&lon=-74&time=2026-06-21T12:00:00Z';
    const all = PlanetsResponse.parse((await get(`/planets${q}`)).body);
    const one = PlanetResponse.parse((await get(`/planets/saturn${q}`)).body);
    const { time: _t, observer: _o, refraction: _r, ...fields } = one;
    expect(all.bodies[6]).toEqual(fields);
  });

  it('applies the same validation', async () => {
    await expectError('/planets?lat=1', 400, 'invalid_parameter', 'lon is missing: lat and lon must be given together');
    await expectError('/planets?body=mars', 400, 'invalid_parameter', /unknown query parameter "body"/);
  });
});

describe('GET /locations and /locations/nearest', () => {
  it('lists the grid', async () => {
    const { status, body, res } = await get('/locations');
    expect(status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const { locations } = LocationsResponse.parse(body);
    expect(locations.length).toBeGreaterThan(0);
    expect(new Set(locations.map((l) => l.id)).size).toBe(locations.length);
  });

  it('refuses query parameters it does not take', async () => {
    await expectError('/locations?page=2', 400, 'invalid_parameter', 'unknown query parameter "page" (this route takes no query parameters)');
  });

  it('finds the nearest grid location and its stream', async () => {
    const { status, body } = await get('/locations/nearest?lat=48.93&lon=2.45');
    expect(status).toBe(200);
    const n = NearestResponse.parse(body);
    expect(n.location.id).toBe('paris');
    expect(n.stream).toBe('/stream/paris');
    expect(n.streams).toEqual({ grid: '/stream/paris', spot: '/stream?lat=48.93&lon=2.45' });
    expect(n.distanceKm).toBeGreaterThan(5);
    expect(n.distanceKm).toBeLessThan(20);
  });

  it.each([
    ['', 'lat is required'],
    ['lat=1', 'lon is required'],
    ['lat=1&lon=x', 'lon must be a number between -180 and 180, got "x"'],
    ['lat=1&lon=2&elevation=3', /unknown query parameter "elevation" \(allowed: lat, lon\)/],
    ['lat=1&lon=2&lon=2', 'query parameter lon is given more than once'],
  ])('400s ?%s', async (query, message) => {
    await expectError(`/locations/nearest?${query}`, 400, 'invalid_parameter', message);
  });
});

describe('POST /geo_location', () => {
  const FORM = 'application/x-www-form-urlencoded';

  it('takes a form body (what curl --data sends)', async () => {
    const { status, body } = await get('/geo_location', post('lat=48.93&lon=2.45&elevation=0', FORM));
    expect(status).toBe(200);
    const g = GeoLocationResponse.parse(body);
    expect(g.observer).toEqual({ lat: 48.93, lon: 2.45, elevation: 0 });
    expect(g.nearest.location.id).toBe('paris');
    expect(g.stream).toBe('/stream/paris');
    expect(g.streams).toEqual({ grid: '/stream/paris', spot: '/stream?lat=48.93&lon=2.45' });
  });

  it('takes JSON with numbers or numeric strings, and a charset parameter', async () => {
    const a = await get('/geo_location', post('{"lat":-39.754,"lon":145.051,"elevation":12}', 'application/json; charset=utf-8'));
    expect(a.status).toBe(200);
    expect(GeoLocationResponse.parse(a.body).observer).toEqual({ lat: -39.754, lon: 145.051, elevation: 12 });
    expect(a.body.nearest.location.id).toBe('melbourne');
    expect(a.body.streams).toEqual({ grid: '/stream/melbourne', spot: '/stream?lat=-39.754&lon=145.051&elevation=12' });
    const b = await get('/geo_location', post('{"lat":"51.5","lon":"-0.1"}', 'application/json'));
    expect(b.status).toBe(200);
    expect(b.body.observer).toEqual({ lat: 51.5, lon: -0.1, elevation: 0 });
  });

  it.each([
    ['lat=48.93', FORM, 400, 'invalid_parameter', 'lon is missing: lat and lon must be given together'],
    ['', FORM, 400, 'invalid_parameter', 'lat and lon are required'],
    ['{}', 'application/json', 400, 'invalid_parameter', 'lat and lon are required'],
    ['lat=91&lon=0', FORM, 400, 'invalid_parameter', 'lat must be a number between -90 and 90, got "91"'],
    ['lat=1&lon=2&lat=3', FORM, 400, 'invalid_parameter', 'field "lat" is given more than once'],
    ['lat=1&lon=2&alt=3', FORM, 400, 'invalid_parameter', 'unknown field "alt" in the body (allowed: lat, lon, elevation)'],
    ['{"lat":true,"lon":2}', 'application/json', 400, 'invalid_parameter', 'lat must be a number between -90 and 90, got true'],
    ['{"lat":1,"lon":2,"elevation":null}', 'application/json', 400, 'invalid_parameter', /elevation must be a number of metres .* got null/],
    ['{"lat":1,"lon":2,"x":{}}', 'application/json', 400, 'invalid_parameter', /unknown field "x"/],
    ['{"lat":1,', 'application/json', 400, 'invalid_body', /^body is not valid JSON/],
    ['', 'application/json', 400, 'invalid_body', /^body is not valid JSON/],
    ['[1,2]', 'application/json', 400, 'invalid_body', 'body must be a JSON object with lat, lon and elevation, got [1,2]'],
    ['null', 'application/json', 400, 'invalid_body', /got null/],
    ['lat=1&lon=2', 'text/plain', 415, 'unsupported_media_type', /Content-Type must be application\/json or application\/x-www-form-urlencoded, got "text\/plain"/],
    ['lat=1&lon=2', 'multipart/form-data; boundary=x', 415, 'unsupported_media_type', /got "multipart\/form-data; boundary=x"/],
    ['lat=1&lon=2', undefined, 415, 'unsupported_media_type', /got none/],
  ])('%j as %s → %i %s', async (payload, type, status, code, message) => {
    await expectError('/geo_location', status, code, message, post(payload, type));
  });

  it('accepts JSON media types with a +json suffix', async () => {
    const { status } = await get('/geo_location', post('{"lat":1,"lon":2}', 'application/vnd.orrery+json'));
    expect(status).toBe(200);
  });

  it('413s a body over 16 KiB, declared or streamed', async () => {
    const big = `lat=1&lon=2&pad=${'x'.repeat(16 * 1024)}`;
    await expectError('/geo_location', 413, 'payload_too_large', 'body must be at most 16384 bytes', post(big, FORM));
    const stream = new ReadableStream({
      start(ctrl) {
        for (let i = 0; i < 20; i++) ctrl.enqueue(new TextEncoder().encode('x'.repeat(1024)));
        ctrl.close();
      },
    });
    await expectError('/geo_location', 413, 'payload_too_large', /at most 16384/, {
      method: 'POST',
      body: stream,
      headers: { 'content-type': FORM },
      duplex: 'half',
    } as RequestInit);
  });

  it('refuses query parameters', async () => {
    await expectError('/geo_location?lat=1', 400, 'invalid_parameter', /unknown query parameter "lat"/, post('lat=1&lon=2', FORM));
  });
});

describe('health, readiness, OpenAPI', () => {
  it('/healthz is ok', async () => {
    expect(await get('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('/readyz follows deps.ready', async () => {
    let ready = false;
    const gated = createApp({ ready: () => ready });
    const down = await gated.request('/readyz');
    expect(down.status).toBe(503);
    expect(ReadyResponse.parse(await down.json()).status).toBe('not_ready');
    ready = true;
    const up = await gated.request('/readyz');
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ status: 'ready' });
    expect((await get('/readyz')).body).toEqual({ status: 'ready' });
  });

  it('/openapi.json documents every route, parameter and schema', async () => {
    const { status, body: doc } = await get('/openapi.json');
    expect(status).toBe(200);
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of ['/planets/{name}', '/planets', '/locations', '/locations/nearest', '/geo_location', '/healthz', '/readyz']) {
      expect(doc.paths[path], path).toBeDefined();
    }
    const params = doc.paths['/planets/{name}'].get.parameters as { name: string; in: string; schema: any }[];
    expect(params.map((p) => `${p.in}:${p.name}`)).toEqual([
      'path:name',
      'query:lat',
      'query:lon',
      'query:elevation',
      'query:time',
      'query:refraction',
    ]);
    expect(params[1]!.schema).toMatchObject({ type: 'number', minimum: -90, maximum: 90 });
    expect(params[0]!.schema.enum).toEqual([...BODY_NAMES]);
    expect(doc.paths['/geo_location'].post.requestBody.content).toHaveProperty('application/x-www-form-urlencoded');
    expect(doc.components.schemas.GeoLocationRequest.required).toEqual(['lat', 'lon']);
    expect(doc.components.schemas.PlanetResponse.required).toEqual(
      expect.arrayContaining(['name', 'time', 'observer', 'az', 'alt', 'ra', 'dec', 'rise', 'transit', 'set']),
    );
    expect(doc.paths['/planets/{name}'].get.responses['400'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/Error',
    );
  });
});

describe('routing: 404, 405, OPTIONS, HEAD', () => {
  it('404s an unknown route as JSON', async () => {
    await expectError('/no/such/route', 404, 'not_found', 'no route or file for GET "/no/such/route"');
    await expectError('/planets/mars/extra', 404, 'not_found', /no route/);
    await expectError('/nope', 404, 'not_found', /no route/, { method: 'POST' });
  });

  it.each([
    ['DELETE', '/planets/mars', 'GET, HEAD, OPTIONS'],
    ['POST', '/planets', 'GET, HEAD, OPTIONS'],
    ['PUT', '/locations', 'GET, HEAD, OPTIONS'],
    ['GET', '/geo_location', 'POST, OPTIONS'],
    ['PATCH', '/healthz', 'GET, HEAD, OPTIONS'],
  ])('405s %s %s with Allow', async (method, path, allow) => {
    const res = await app.request(path, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    const body = ErrorSchema.parse(await res.json());
    expect(body).toEqual({ error: 'method_not_allowed', message: `${method} is not allowed on ${path}; allowed: ${allow}` });
  });

  it('answers OPTIONS with Allow', async () => {
    const res = await app.request('/geo_location', { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('allow')).toBe('POST, OPTIONS');
  });

  it('answers HEAD like GET without a body', async () => {
    const res = await app.request('/planets/venus', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });
});

describe('static files from web/', () => {
  let root: string;
  let staticApp: ReturnType<typeof createApp>;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'orrery-web-'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>orrery</title>');
    writeFileSync(join(root, 'app.js'), 'console.log(1)');
    staticApp = createApp({ webRoot: root });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('serves index.html at / (with query strings such as ?location=)', async () => {
    for (const path of ['/', '/?location=london']) {
      const res = await staticApp.request(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).toContain('<title>orrery</title>');
    }
  });

  it('serves files with their type', async () => {
    const res = await staticApp.request('/app.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
  });

  it('404s missing files and path tricks as JSON', async () => {
    for (const path of ['/missing.css', '/..%2fpackage.json', '/%2e%2e/package.json', '/js/../../package.json']) {
      const res = await staticApp.request(path);
      expect(res.status, path).toBe(404);
      ErrorSchema.parse(await res.json());
    }
  });

  it('serves no files without a webRoot (the server passes the repository web/)', async () => {
    const res = await app.request('/');
    expect(res.status).toBe(404);
    ErrorSchema.parse(await res.json());
  });
});

describe('unexpected errors', () => {
  it('become a logged JSON 500 without details', async () => {
    const logged: unknown[] = [];
    const broken = createApp({
      ready: () => {
        throw new Error('secret detail');
      },
      logger: { error: (obj) => logged.push(obj) },
    });
    const res = await broken.request('/readyz');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'internal', message: 'internal error' });
    expect(logged).toHaveLength(1);
  });
});
