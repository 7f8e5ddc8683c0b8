import { describe, expect, it } from 'vitest';
import { createApp } from '../../../src/http/app.ts';
import { routeOf } from '../../../src/http/request-log.ts';
import { createMetrics } from '../../../src/metrics.ts';

// Operability through app.request(): X-Request-Id on every answer, one access-log line per request, and the
// request-duration histogram in /metrics.

function appWithLog() {
  const lines: Record<string, unknown>[] = [];
  const metrics = createMetrics({ node: 'test', defaults: false });
  const app = createApp({ metrics, accessLog: { info: (obj) => lines.push(obj as Record<string, unknown>) } });
  return { app, lines, metrics };
}

describe('request id and access log', () => {
  it('every answer carries an X-Request-Id, a new UUID unless the caller sent a sane one', async () => {
    const { app } = appWithLog();
    const a = await app.request('/planets/mars');
    expect(a.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const b = await app.request('/planets/vulcan', { headers: { 'X-Request-Id': 'edge-42.abc' } });
    expect(b.status).toBe(404);
    expect(b.headers.get('x-request-id')).toBe('edge-42.abc');
    const c = await app.request('/locations', { headers: { 'X-Request-Id': 'bad id with spaces' } });
    expect(c.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('one line per request: id, method, path (no query), status, duration', async () => {
    const { app, lines } = appWithLog();
    const res = await app.request('/planets/mars?lat=1&lon=2', { headers: { 'X-Request-Id': 'r1' } });
    await app.request('/nowhere');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ reqId: 'r1', method: 'GET', path: '/planets/mars', status: res.status });
    expect(typeof lines[0]!.ms).toBe('number');
    expect(lines[1]).toMatchObject({ path: '/nowhere', status: 404 });
  });

  it('durations go to orrery_http_request_duration_seconds by method, route and status', async () => {
    const { app, metrics } = appWithLog();
    await app.request('/planets/mars');
    await app.request('/planets/venus');
    await app.request('/planets/mars?lat=999');
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/orrery_http_request_duration_seconds_count\{node="test",method="GET",route="\/planets\/:name",status="200"\} 2/);
    expect(text).toMatch(/orrery_http_request_duration_seconds_count\{node="test",method="GET",route="\/planets\/:name",status="400"\} 1/);
  });

  it('routeOf keeps the label set closed', () => {
    expect(routeOf('/planets/mars')).toBe('/planets/:name');
    expect(routeOf('/stream/london')).toBe('/stream/:location');
    expect(routeOf('/locations')).toBe('/locations');
    expect(routeOf('/js/app.js')).toBe('other');
    expect(routeOf('/planets/a/b')).toBe('other');
  });
});
