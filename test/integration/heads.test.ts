import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryBroker } from '../../src/broker/memory.ts';
import { loadConfig } from '../../src/config.ts';
import { plainStreamHead } from '../../src/fastpath/index.ts';
import { silentLogger } from '../../src/log.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { freePort, REPO_ROOT, spawnProcess, waitUntil } from '../../scripts/processes.ts';

// Request heads (issue 14, points 4 and 5): the bare-socket front reads only plain stream heads itself and hands
// every other head to Node's parser; unfinished heads are capped per address and in total, time out, and are
// released as soon as the client closes them.

const T0 = Date.UTC(2026, 10, 22, 0, 0, 0);
const HEAD_TIMEOUT_MS = 1000;
const PER_CLIENT = 5;
const broker = createMemoryBroker({ historyLimit: 10 });
let server: RunningServer;

beforeAll(async () => {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    HEARTBEAT_MS: '60000',
    HEAD_TIMEOUT_MS: String(HEAD_TIMEOUT_MS),
    MAX_PENDING_HEADS_PER_CLIENT: String(PER_CLIENT),
    // Loopback is this test's client, not a proxy: capped like any address.
    TRUSTED_PROXIES: '10.255.255.1',
  });
  server = await startServer({ config, log: silentLogger, broker, embeddedWorker: false });
  for (let n = 0; n < 3; n++) {
    await broker.publish([{ channel: 'london', id: T0 + n * 1000, data: JSON.stringify({ n }) }]);
  }
});
afterAll(() => server?.close());

interface Raw {
  socket: Socket;
  text(): string;
  closed: Promise<void>;
  isClosed(): boolean;
}

function open(port: number, first?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let text = '';
    let isClosed = false;
    const closed = new Promise<void>((r) => socket.on('close', () => ((isClosed = true), r())));
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', () => {});
    socket.once('error', reject);
    socket.once('connect', () => {
      if (first !== undefined) socket.write(first);
      resolve({ socket, text: () => text, closed, isClosed: () => isClosed });
    });
  });
}

/** What the server answers within `ms`: the status of the first response, 0 when it closed without one. */
async function answer(port: number, bytes: string, ms = 3000): Promise<{ status: number; text: string; closedWithin: boolean }> {
  const c = await open(port, bytes);
  const deadline = Date.now() + ms;
  while (!/^HTTP\/1\.1 \d{3}[\s\S]*\r\n\r\n/.test(c.text()) && !c.isClosed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const text = c.text();
  c.socket.destroy();
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text, closedWithin: Date.now() < deadline };
}

describe('heads the front must not read itself (RFC 9112, as Node parses them)', () => {
  const cases: [string, string][] = [
    ['space before the colon', 'GET /stream/london HTTP/1.1\r\nHost : x\r\n\r\n'],
    ['obs-fold', `GET /stream/london HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n Last-Event-ID: ${T0}\r\n\r\n`],
    ['no Host', 'GET /stream/london HTTP/1.1\r\nAccept: text/event-stream\r\n\r\n'],
    ['two Hosts', 'GET /stream/london HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n'],
    ['Transfer-Encoding with Content-Length', 'GET /stream/london HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n'],
  ];
  for (const [what, head] of cases) {
    it(`${what}: 400 at once, as JSON, no stream`, async () => {
      const r = await answer(server.port, head);
      expect(r.status, r.text).toBe(400);
      expect(r.text).toContain('"error"');
      expect(r.text).not.toContain('event: update');
    });
  }

  it('a head ending in bare LF is answered (by Node), not held until a timer', async () => {
    const r = await answer(server.port, 'GET /stream/london HTTP/1.1\nHost: x\n\n', 2000);
    expect(r.closedWithin || r.status > 0).toBe(true);
    expect(r.status).toBeGreaterThan(0);
  });

  it('differential: every head the front reads itself, Node parses to the same request; what Node refuses, the front never reads', async () => {
    // Node's parser as the reference: a bare http.Server with the same head limit, reporting what it parsed.
    const parsed = new Map<string, IncomingMessage>();
    const reference: Server = createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
      parsed.set(String(req.headers['x-case']), req);
      res.end('ok');
    });
    await new Promise<void>((r) => reference.listen(0, '127.0.0.1', () => r()));
    const port = (reference.address() as AddressInfo).port;
    const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,8}$/);
    const junk = fc.constantFrom(' ', '\t', ' :', ':', '\r', '\n', '\r\n ', '\x00', '\x7f', 'é', '\\', '..', '%2e', '/', 'Host: y\r\n', 'Content-Length: 1\r\n', 'Transfer-Encoding: chunked\r\n');
    const value = fc.stringMatching(/^[ -~]{0,12}$/);
    const line = fc.tuple(token, fc.constantFrom(':', ': ', ' : ', ':\t'), value, fc.option(junk, { nil: '' })).map(([n, sep, v, j]) => `${n}${sep}${v}${j}`);
    // Mostly well-formed, so that many heads are ones the front reads; every part has its malformed variants.
    const usually = <T,>(good: T, ...bad: T[]): fc.Arbitrary<T> =>
      fc.oneof({ arbitrary: fc.constant(good), weight: 4 }, { arbitrary: fc.constantFrom(...bad), weight: 1 });
    const head = fc.record({
      method: usually('GET', 'HEAD', 'GET ', 'get', 'POST'),
      target: usually('/stream/london', '/stream', '/stream?lat=1&lon=2', '/stream/../metrics', '/stream/..\\x', '/stream/london?x= y', '/stream/London', '/stream/%2e%2e'),
      version: usually('HTTP/1.1', 'HTTP/1.0', 'HTTP/1.1 ', 'HTTP/2.0', 'HTTP/1.10'),
      host: usually('Host: x\r\n', 'host:x\r\n', '', 'Host: x\r\nHost: x\r\n', 'Host : x\r\n', ' Host: x\r\n', 'Host: a b\r\n'),
      lines: fc.array(fc.oneof({ arbitrary: line, weight: 1 }, { arbitrary: fc.tuple(token, value).map(([n, v]) => `${n}: ${v}`), weight: 3 }), { maxLength: 4 }),
      eol: usually('\r\n', '\n'),
    });
    let n = 0;
    let readByFront = 0;
    await fc.assert(
      fc.asyncProperty(head, async (h) => {
        const id = String(n++);
        const text = `${h.method} ${h.target} ${h.version}${h.eol}${h.host}X-Case: ${id}${h.eol}${h.lines.map((l) => l + h.eol).join('')}${h.eol}`;
        const front = plainStreamHead(text);
        const r = await answer(port, text, 500);
        const node = parsed.get(id);
        if (front) {
          readByFront++;
          expect(node, `Node refused what the front reads: ${JSON.stringify(text)} (${r.status})`).toBeDefined();
          expect(front.method).toBe(node!.method);
          expect(front.target).toBe(node!.url);
          for (const [k, v] of front.headers) expect(node!.headers[k.toLowerCase()], k).toBe(v);
        }
      }),
      { numRuns: 300, seed: 14 },
    );
    await new Promise<void>((r) => reference.close(() => r()));
    // The property is not vacuous: some heads were plain.
    expect(readByFront).toBeGreaterThan(10);
  }, 60_000);
});

describe('unfinished heads', () => {
  it(`one address holds at most ${PER_CLIENT}; past the head timeout they are closed; closed by the client, released at once`, async () => {
    const held = await Promise.all(Array.from({ length: PER_CLIENT + 5 }, () => open(server.port, 'GET /stream/london HTTP/1.1\r\nHo')));
    await new Promise((r) => setTimeout(r, 200));
    expect(held.filter((c) => c.isClosed()).length).toBe(5);
    // Other routes still answer (the cap is on unfinished heads, not on requests).
    // The client closes its side of the held ones: the slots are free at once, long before the timeout.
    for (const c of held) c.socket.end();
    await Promise.all(held.map((c) => c.closed));
    const again = await Promise.all(Array.from({ length: PER_CLIENT }, () => open(server.port, 'GET /healthz HTTP/1.1\r\nHo')));
    await new Promise((r) => setTimeout(r, 200));
    expect(again.filter((c) => c.isClosed()).length).toBe(0);
    const started = Date.now();
    await Promise.all(again.map((c) => c.closed));
    expect(Date.now() - started).toBeLessThan(HEAD_TIMEOUT_MS + 1000);
    // And a whole head afterwards is served.
    expect((await answer(server.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')).status).toBe(200);
  });

  it('a stream head sent a byte per write is still served', async () => {
    const c = await open(server.port);
    for (const ch of 'GET /stream/london HTTP/1.1\r\nHost: x\r\n\r\n') {
      c.socket.write(ch);
      await new Promise((r) => setImmediate(r));
    }
    await waitUntil('the stream', async () => c.text().includes('event: update'), { timeoutMs: 3000, intervalMs: 20 });
    expect(c.text()).toMatch(/^HTTP\/1\.1 200/);
    c.socket.destroy();
  });

  it('at a 1024 open-file limit, 1,100 half-open heads leave /healthz and new streams answering', async () => {
    const port = await freePort();
    const node = spawnProcess('node', 'prlimit', ['--nofile=1024:1024', process.execPath, '--import', 'tsx', 'src/server.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', TICK_MS: '1000', WORKER_LOCATIONS: 'london', HEAD_TIMEOUT_MS: '20000' },
    });
    const held: Raw[] = [];
    try {
      await waitUntil('the node', async () => (await answer(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 1000).catch(() => ({ status: 0 }))).status === 200, { timeoutMs: 30_000, proc: node });
      for (let i = 0; i < 1100; i++) held.push(await open(port, 'GET /stream/london HTTP/1.1\r\nHost: x\r\n'));
      const health = await answer(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(health.status).toBe(200);
      const stream = await open(port, 'GET /stream/london HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitUntil('a new stream', async () => stream.text().includes('event: update'), { timeoutMs: 5000, intervalMs: 20 });
      stream.socket.destroy();
    } finally {
      for (const c of held) c.socket.destroy();
      await node.stop();
    }
  }, 60_000);
});
