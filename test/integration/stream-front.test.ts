import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMemoryBroker } from '../../src/broker/memory.ts';
import { loadConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/log.ts';
import { startServer, type RunningServer } from '../../src/server.ts';

// A fresh /stream connection is served on its bare socket (src/fastpath/stream-front.ts); everything else, including a
// /stream request on a keep-alive connection that served something else first, goes through Node's HTTP server.
// Raw sockets here, so the test sees exactly the bytes on the wire.

const T0 = Date.UTC(2026, 10, 22, 0, 0, 0);
const broker = createMemoryBroker({ historyLimit: 10 });
let server: RunningServer;

beforeAll(async () => {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', HEARTBEAT_MS: '60000', MAX_HEADER_BYTES: '4096' });
  server = await startServer({ config, log: silentLogger, broker, embeddedWorker: false });
  await broker.publish([{ channel: 'london', id: T0, data: JSON.stringify({ time: new Date(T0).toISOString(), n: 0 }) }]);
});
afterAll(() => server?.close());

/** A raw connection that collects everything it receives. */
function rawConnection(): Promise<{ socket: Socket; text(): string; closed(): boolean; waitFor(re: RegExp, ms?: number): Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port: server.port, host: '127.0.0.1' });
    let text = '';
    let closed = false;
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (text += d));
    socket.on('close', () => (closed = true));
    socket.on('error', () => {});
    socket.once('error', reject);
    socket.once('connect', () =>
      resolve({
        socket,
        text: () => text,
        closed: () => closed,
        async waitFor(re, ms = 15_000) {
          const deadline = Date.now() + ms;
          while (!re.test(text)) {
            if (Date.now() > deadline) throw new Error(`no ${re} within ${ms} ms; got ${JSON.stringify(text.slice(0, 500))}`);
            await new Promise((r) => setTimeout(r, 10));
          }
          return text;
        },
      }),
    );
  });
}

const publish = (n: number): Promise<unknown> =>
  broker.publish([{ channel: 'london', id: T0 + n * 1000, data: JSON.stringify({ time: new Date(T0 + n * 1000).toISOString(), n }) }]);

it('a fresh /stream connection: bare head (no chunking, Connection: close), retry, latest, live; client close is noticed', async () => {
  const c = await rawConnection();
  c.socket.write('GET /stream/london HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
  await c.waitFor(/"n":0/);
  const head = c.text().slice(0, c.text().indexOf('\r\n\r\n')).toLowerCase();
  expect(head).toMatch(/^http\/1\.1 200 ok/);
  expect(head).toContain('content-type: text/event-stream');
  expect(head).toContain('cache-control: no-cache');
  expect(head).toContain('x-accel-buffering: no');
  expect(head).toContain('connection: close');
  expect(head).not.toContain('transfer-encoding');
  expect(c.text()).toContain(`\r\n\r\nretry: 2000\n\nid: ${T0}\nevent: update\ndata: {"time":"${new Date(T0).toISOString()}","n":0}\n\n`);
  await publish(1);
  await c.waitFor(/"n":1\}\n\n$/);
  await expect.poll(() => server.hub.clientCount('london')).toBe(1);
  c.socket.end();
  await expect.poll(() => server.hub.clientCount('london')).toBe(0);
  await expect.poll(() => c.closed()).toBe(true);
});

it('a /stream request on a keep-alive connection that served another request first streams chunk-encoded', async () => {
  const c = await rawConnection();
  c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.waitFor(/"status":"ok"/);
  c.socket.write('GET /stream/london HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
  await c.waitFor(/transfer-encoding: chunked/i);
  await publish(2);
  const text = await c.waitFor(/"n":2\}\n\n\r\n$/);
  const body = text.slice(text.lastIndexOf('HTTP/1.1 200'));
  // Each event is its own chunk: "<hex length>\r\n<frame>\r\n".
  const frame = `id: ${T0 + 2000}\nevent: update\ndata: {"time":"${new Date(T0 + 2000).toISOString()}","n":2}\n\n`;
  expect(body).toContain(`\r\n${Buffer.byteLength(frame).toString(16)}\r\n${frame}\r\n`);
  c.socket.destroy();
  await expect.poll(() => server.hub.clientCount('london')).toBe(0);
});

it('refusals from the front are the app’s own answers, then the connection closes', async () => {
  const ask = async (request: string): Promise<string> => {
    const c = await rawConnection();
    c.socket.write(request);
    await expect.poll(() => c.closed()).toBe(true);
    return c.text();
  };
  const unknown = await ask('GET /stream/atlantis HTTP/1.1\r\nHost: x\r\n\r\n');
  expect(unknown).toMatch(/^HTTP\/1\.1 404 /);
  expect(JSON.parse(unknown.slice(unknown.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: 'unknown_location' });
  const badId = await ask('GET /stream/london?lastEventId=abc HTTP/1.1\r\nHost: x\r\n\r\n');
  expect(badId).toMatch(/^HTTP\/1\.1 400 /);
  expect(badId).toContain('"invalid_parameter"');
  const page = await ask('GET /stream/london HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\n\r\n');
  expect(page).toMatch(/^HTTP\/1\.1 302 /);
  expect(page.toLowerCase()).toContain('location: /?location=london');
  const head = await ask('HEAD /stream/london HTTP/1.1\r\nHost: x\r\n\r\n');
  expect(head).toMatch(/^HTTP\/1\.1 200 /);
  expect(head.toLowerCase()).toContain('content-type: text/event-stream');
  expect(head.endsWith('\r\n\r\n')).toBe(true);
  const huge = await ask(`GET /stream/london HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(5000)}\r\n\r\n`);
  expect(huge).toMatch(/^HTTP\/1\.1 431 /);
  expect(huge).toContain('"header_too_large"');
  expect(server.hub.clientCount('london')).toBe(0);
});

it('other requests reach Node’s HTTP server intact: a body sent after its head, pipelined requests, /streams', async () => {
  const c = await rawConnection();
  const body = 'lat=48.85&lon=2.35';
  c.socket.write(`POST /geo_location HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`);
  await new Promise((r) => setTimeout(r, 100));
  c.socket.write(body);
  await c.waitFor(/"paris"/);
  expect(c.text()).toMatch(/^HTTP\/1\.1 200 /);
  c.socket.destroy();

  const p = await rawConnection();
  p.socket.write('GET /stream/london HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await p.waitFor(/transfer-encoding: chunked/i);
  await p.waitFor(/"n":\d+\}\n\n\r\n$/);
  p.socket.destroy();

  const s = await rawConnection();
  s.socket.write('GET /streams HTTP/1.1\r\nHost: x\r\n\r\n');
  await s.waitFor(/^HTTP\/1\.1 404 /);
  s.socket.destroy();
  await expect.poll(() => server.hub.clientCount('london')).toBe(0);
});

it('a bare-socket stream from another origin carries the CORS headers in its head', async () => {
  const c = await rawConnection();
  c.socket.write('GET /stream/london HTTP/1.1\r\nHost: x\r\nOrigin: https://elsewhere.example\r\n\r\n');
  await c.waitFor(/"n":\d+/);
  const head = c.text().slice(0, c.text().indexOf('\r\n\r\n')).toLowerCase();
  expect(head).toContain('content-type: text/event-stream');
  expect(head).toContain('access-control-allow-origin: *');
  expect(head).toMatch(/x-request-id: [0-9a-f-]{36}/);
  c.socket.destroy();
});

it('a connection that never sends its head does not hold up a graceful close (as an idle connection would not)', async () => {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1' });
  const own = await startServer({ config, log: silentLogger, broker: createMemoryBroker({ historyLimit: 1 }), embeddedWorker: false });
  // A pre-connect: open, silent (the front's head timeout is 30 s).
  const silent = connect({ port: own.port, host: '127.0.0.1' });
  silent.on('error', () => {});
  await new Promise((r) => silent.once('connect', r));
  const closedBySelf = new Promise<boolean>((r) => silent.once('close', () => r(true)));
  const started = Date.now();
  const outcome = await Promise.race([own.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still open'), 2500))]);
  expect(outcome).toBe('closed');
  // well within the grace period after which every remaining connection is cut
  expect(Date.now() - started).toBeLessThan(2500);
  expect(await closedBySelf).toBe(true);
  silent.destroy();
});
