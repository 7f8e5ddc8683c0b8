import { describe, expect, it } from 'vitest';
import { createApp } from '../../../src/http/app.ts';
import { noneMatchHits } from '../../../src/http/cache.ts';
import { parseCorsOrigins } from '../../../src/http/cors.ts';
import { GeoLocationResponse } from '../../../src/http/schemas.ts';
import { loadConfig } from '../../../src/config.ts';

// CORS and HTTP caching through app.request(): the headers a browser and a cache act on. The browser itself
// (another origin's page, fetch and EventSource) is test/browser/cross-origin.test.ts.

const open = createApp();
const listed = createApp({ cors: parseCorsOrigins('https://a.example,http://localhost:5173') });

describe('CORS', () => {
  it('any origin by default: GET answers carry Access-Control-Allow-Origin: *', async () => {
    const res = await open.request('/planets/mars', { headers: { Origin: 'https://elsewhere.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toMatch(/ETag/);
  });

  it('no Origin: no CORS headers', async () => {
    const res = await open.request('/locations');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('errors carry them too, so a page can read the message', async () => {
    const res = await open.request('/planets/vulcan', { headers: { Origin: 'https://elsewhere.example' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('a JSON POST /geo_location passes its preflight', async () => {
    const res = await open.request('/geo_location', {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://elsewhere.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toMatch(/content-type/);
  });

  it('a plain OPTIONS (no preflight) still answers with Allow', async () => {
    const res = await open.request('/geo_location', { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('allow')).toMatch(/POST/);
  });

  it('an allow-list echoes a listed origin and varies on Origin', async () => {
    const res = await listed.request('/planets', { headers: { Origin: 'https://a.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://a.example');
    expect(res.headers.get('vary')).toMatch(/Origin/);
  });

  it('an allow-list refuses any other origin with 403 origin_not_allowed, preflight included', async () => {
    for (const method of ['GET', 'OPTIONS']) {
      const res = await listed.request('/planets', {
        method,
        headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' },
      });
      expect(res.status).toBe(403);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(await res.json()).toEqual({ error: 'origin_not_allowed', message: expect.stringContaining('https://evil.example') });
    }
  });

  it("an allow-list still lets the service's own page in (its POSTs carry its origin)", async () => {
    const res = await listed.request('http://orrery.example:8080/geo_location', {
      method: 'POST',
      headers: { Origin: 'http://orrery.example:8080', Host: 'orrery.example:8080', 'Content-Type': 'application/json' },
      body: '{"lat":1,"lon":2}',
    });
    expect(res.status).toBe(200);
  });

  it('an allow-list is compared as browsers send origins (case, default port, trailing slash)', async () => {
    const app = createApp({ cors: parseCorsOrigins('HTTPS://Shop.Example:443/') });
    const res = await app.request('/planets', { headers: { Origin: 'https://shop.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://shop.example');
  });

  it('CORS_ORIGINS is validated', () => {
    expect(loadConfig({}).CORS_ORIGINS).toBe('*');
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, http://localhost:3000' }).CORS_ORIGINS).toMatch(/a\.example/);
    expect(() => loadConfig({ CORS_ORIGINS: 'a.example' })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example/path' })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ CORS_ORIGINS: 'http://:80' })).toThrow(/CORS_ORIGINS/);
    expect(loadConfig({ CORS_ORIGINS: 'HTTPS://Shop.Example:443/' }).CORS_ORIGINS).toBe('HTTPS://Shop.Example:443/');
  });
});

describe('HTTP caching', () => {
  const fixed = '/planets/mars?lat=48.93&lon=2.45&time=2026-03-20T12:00:00Z';

  it('an explicit time: strong ETag, immutable, the same on every request', async () => {
    const a = await open.request(fixed);
    const b = await open.request(fixed);
    expect(a.status).toBe(200);
    expect(a.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const etag = a.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(b.headers.get('etag')).toBe(etag);
    // another instant, another tag
    const c = await open.request(fixed.replace('12:00:00', '12:00:01'));
    expect(c.headers.get('etag')).not.toBe(etag);
  });

  it('If-None-Match with that ETag (or its weakened form): 304 without a body', async () => {
    const etag = (await open.request(fixed)).headers.get('etag')!;
    for (const tag of [etag, `W/${etag}`, `"other", ${etag}`]) {
      const res = await open.request(fixed, { headers: { 'If-None-Match': tag } });
      expect(res.status).toBe(304);
      expect(await res.text()).toBe('');
      expect(res.headers.get('etag')).toBe(etag);
    }
    expect((await open.request(fixed, { headers: { 'If-None-Match': '"other"' } })).status).toBe(200);
  });

  it('"now": max-age of a second, and no ETag (those bytes never come back)', async () => {
    const res = await open.request('/planets');
    expect(res.headers.get('cache-control')).toBe('public, max-age=1');
    expect(res.headers.get('etag')).toBeNull();
  });

  it.each(['/locations', '/openapi.json'])('%s has an ETag and revalidates to 304', async (path) => {
    const a = await open.request(path);
    const etag = a.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(a.headers.get('content-type')).toMatch(/application\/json/);
    const b = await open.request(path, { headers: { 'If-None-Match': etag! } });
    expect(b.status).toBe(304);
  });

  it('errors are not cached', async () => {
    const res = await open.request('/planets/mars?time=nope');
    expect(res.status).toBe(400);
    expect(res.headers.get('etag')).toBeNull();
  });

  it('noneMatchHits: lists, weak tags, *', () => {
    expect(noneMatchHits(undefined, '"a"')).toBe(false);
    expect(noneMatchHits('*', '"a"')).toBe(true);
    expect(noneMatchHits('"b" , W/"a"', '"a"')).toBe(true);
    expect(noneMatchHits('"ab"', '"a"')).toBe(false);
  });
});

describe('seed compatibility', () => {
  it('POST /geo_location echoes lat, lon, elevation at the top level beside observer, nearest and stream', async () => {
    const res = await open.request('/geo_location', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'lat=48.93&lon=2.45&elevation=35',
    });
    const body = GeoLocationResponse.parse(await res.json());
    expect(body).toMatchObject({ lat: 48.93, lon: 2.45, elevation: 35, observer: { lat: 48.93, lon: 2.45, elevation: 35 } });
    expect(body.stream).toBe('/stream/paris');
  });
});
