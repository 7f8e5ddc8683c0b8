import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../scripts/stack.ts';

// Paths that climb out of /stream (issue 14, point 2), sent byte for byte (no client normalises them) through nginx
// and straight to an API node: none may reach /metrics or /status, and every refusal is the JSON error shape,
// nginx's own 400s included.

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    apiNodes: 1,
    env: { TICK_MS: '1000', LOG_LEVEL: 'warn', WORKER_LOCATIONS: 'london' },
  });
}, 90_000);
afterAll(() => stack?.stop(), 30_000);

/** One raw request on its own connection; what came back before the server closed it (or 5 s passed). */
function raw(url: string, request: string): Promise<{ status: number; head: string; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', reject);
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const end = text.indexOf('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), head: text.slice(0, end), body: text.slice(end + 4) });
    };
    const timer = setTimeout(done, 5000);
    socket.on('close', done);
    socket.on('connect', () => socket.write(request));
  });
}

const get = (url: string, path: string): ReturnType<typeof raw> => raw(url, `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);

const ESCAPES = [
  '/stream/..\\metrics',
  '/stream/..\\status',
  '/stream/london/..\\..\\metrics',
  '/stream/%2e%2e/metrics',
  '/stream/%2E%2E/status',
  '/stream/.%2e/metrics',
  '/stream/..%5cmetrics',
  '/stream/..%5Cstatus',
  '/stream/../metrics',
  '/stream/./london/../../metrics',
  '/stream//..//metrics',
  '//metrics',
  '/stream/london/%2e%2e/%2e%2e/metrics?lat=1',
  '/planets/..\\metrics',
  '/status/..\\metrics',
  '/metrics',
];

function expectRefusedAsJson(r: { status: number; head: string; body: string }, what: string): void {
  expect(r.status, what).toBeGreaterThanOrEqual(400);
  expect(r.status, what).toBeLessThan(500);
  expect(r.head.toLowerCase(), what).toMatch(/content-type: application\/json/);
  // A chunked body (the node behind nginx) or a plain one: the JSON object is in it either way.
  const json = /\{.*\}/s.exec(r.body)?.[0];
  expect(json, `${what}: ${r.body}`).toBeDefined();
  expect(JSON.parse(json!), what).toMatchObject({ error: expect.any(String), message: expect.any(String) });
  expect(r.body, what).not.toMatch(/# HELP|orrery_|"nodes"/);
}

describe('a path that climbs out of /stream', () => {
  it('through nginx: reaches neither /metrics nor /status, answered with a JSON 4xx', async () => {
    for (const path of ESCAPES) expectRefusedAsJson(await get(stack.url, path), `nginx ${path}`);
    // The real routes still work through the same locations.
    expect((await get(stack.url, '/healthz')).status).toBe(200);
    const stream = await raw(stack.url, 'GET /stream/london HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect(stream.status).toBe(200);
    expect(stream.body).toContain('event: update');
  });

  it('straight to an API node: no route but the one named, dot segments and backslashes refused with 400 JSON', async () => {
    const node = stack.apiUrls[0]!;
    for (const path of ESCAPES.filter((p) => p !== '/metrics')) {
      const r = await get(node, path);
      expectRefusedAsJson(r, `node ${path}`);
    }
    for (const path of ['/stream/..\\metrics', '/stream/%2e%2e/metrics', '/stream/../metrics', '/planets/..\\metrics']) {
      const r = await get(node, path);
      expect(r.status, path).toBe(400);
      expect(JSON.parse(r.body).error, path).toBe('invalid_path');
    }
    expect((await get(node, '/metrics')).body).toMatch(/# HELP/);
  });

  it("nginx's own refusals of malformed requests are JSON too", async () => {
    const duplicateHost = await raw(stack.url, 'GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    expect(duplicateHost.status).toBe(400);
    expectRefusedAsJson(duplicateHost, 'duplicate Host');
    const badLine = await raw(stack.url, 'GET /healthz HTTP/1.1 junk\r\nHost: a\r\n\r\n');
    expectRefusedAsJson(badLine, 'bad request line');
    const hugeHeader = await raw(stack.url, `GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expectRefusedAsJson(hugeHeader, 'huge header');
  });
});
