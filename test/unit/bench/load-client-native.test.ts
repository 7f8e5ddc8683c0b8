import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadResult, Plan } from '../../../bench/fanout/load-client.ts';
import { buildNativeLoadClient, type NativeBuild } from '../../../bench/fanout/native-client.ts';

// bench:fanout's load clients against a tiny in-process SSE server with known events: the native (C) client must
// report exactly what the Node client reports, and both what the events say. Raw (close-delimited) and chunked
// bodies, an event split across writes (and across chunks), a duplicate, ticks outside the window, a comment, a
// retry hint, a 404, a wrong content type and a refused connection.

const build: NativeBuild = buildNativeLoadClient();
const clients: { name: string; file: string; args: string[] }[] = [
  { name: 'node', file: '../../../bench/fanout/load-client.ts', args: [] },
];
if (build.ok) clients.push({ name: 'native', file: '../../../bench/fanout/load-client-native.ts', args: [build.binary] });

// A leap day, so the tick parsing crosses into March.
const T = Date.UTC(2028, 1, 29, 23, 59, 58, 500);
const W0 = T + 1000;
const W1 = T + 4000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/**
 * The pause between the parts of a split event. Its latency counts from the read that completes it, so it lands at
 * least two pauses above its unsplit neighbours; the pause is long enough that a busy machine's delay in delivering
 * a write (a few ms, rarely more) cannot blur the two apart.
 */
const SPLIT_PAUSE_MS = 500;
const event = (tick: number, publishedAt: number): string =>
  `id: ${tick}\nevent: update\ndata: {"location":{"id":"x"},"time":"${new Date(tick).toISOString()}","bodies":[],"publishedAt":${publishedAt}}\n\n`;

let server: Server;
let port = 0;
let refusedPort = 0;
const raw: Socket[] = [];
const chunked: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/raw') {
      // Like Orrery's bare-socket streams: the head written on the socket, no length, the body ends with the connection.
      req.socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n');
      raw.push(req.socket);
    } else if (req.url === '/chunked') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache' });
      res.flushHeaders();
      chunked.push(res);
    } else if (req.url === '/plain') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('hello');
    } else {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"not_found"}');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  refusedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
});

afterAll(async () => {
  for (const s of raw) s.destroy();
  for (const r of chunked) r.destroy();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  if (build.ok) build.remove();
});

/** Writes the known events on every open stream; returns when all are written. */
async function emit(): Promise<void> {
  const now = Date.now();
  for (const s of raw) {
    s.write('retry: 1000\n\n: heartbeat\n\n');
    s.write(event(T, now - 10_000) + event(T + 1000, Date.now() - 10_000));
    s.write(event(T + 1000, now - 10_000)); // duplicate
  }
  for (const r of chunked) r.write(event(T + 1000, Date.now() - 5000) + ': heartbeat\n\n');
  // One event split inside `"publishedAt":` and between its two newlines: completed by a read two pauses later.
  const split = event(T + 2000, Date.now() - 10_000);
  const a = split.indexOf('"publishedAt":') + 5;
  const splitChunked = event(T + 2000, Date.now() - 5000);
  for (const s of raw) s.write(split.slice(0, a));
  for (const r of chunked) r.write(splitChunked.slice(0, a));
  await sleep(SPLIT_PAUSE_MS);
  for (const s of raw) s.write(split.slice(a, -1));
  for (const r of chunked) r.write(splitChunked.slice(a, -1));
  await sleep(SPLIT_PAUSE_MS);
  for (const s of raw) s.write('\n');
  for (const r of chunked) r.write('\n');
  for (const s of raw) s.write(event(T + 3000, Date.now() + 60_000) + event(T + 4000, Date.now() - 10_000)); // future → 0 ms; after the window
  for (const r of chunked) r.write(event(T + 3000, Date.now() - 5000));
  for (const s of raw) s.end(); // dropped after being established (after its events, which TCP delivers first)
  raw.length = 0;
}

function next(child: ChildProcess, type: string, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${type}' within ${timeoutMs} ms`)), timeoutMs);
    const on = (m: Record<string, unknown>): void => {
      if (m.type !== type) return;
      clearTimeout(timer);
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
    child.once('exit', (code) => reject(new Error(`client exited (${code}) before '${type}'`)));
  });
}

/**
 * Asks for reports until one has everything emit() sent (the client reads at its own pace on a busy machine), or
 * until a deadline that only a hang reaches; the assertions then say what is missing.
 */
async function settledReport(child: ChildProcess, expected: { dropped: number; events: number }): Promise<LoadResult> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const result = next(child, 'result', 30_000);
    child.send({ type: 'report' });
    const r = (await result) as unknown as LoadResult;
    const events = r.latency.pairs.reduce((s, [, n]) => s + n, 0);
    if ((r.dropped >= expected.dropped && events >= expected.events) || Date.now() > deadline) return r;
    await sleep(50);
  }
}

const inBins = (r: LoadResult, lo: number, hi: number): number => r.latency.pairs.filter(([ms]) => ms >= lo && ms <= hi).reduce((s, [, n]) => s + n, 0);

describe('bench:fanout load clients', () => {
  it.runIf(!build.ok)(`native client skipped: ${build.ok ? '' : build.reason}`, () => {
    expect(build.ok).toBe(false);
  });

  for (const client of clients) {
    it(`${client.name}: counts, duplicates, failures and latency bins of known events`, async () => {
      const child = fork(fileURLToPath(new URL(client.file, import.meta.url)), client.args, {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      try {
        const plan: Plan = {
          type: 'plan',
          host: '127.0.0.1',
          paths: ['/raw', '/chunked', '/missing', '/plain'],
          connections: [
            [port, 0, '127.0.0.2'],
            [port, 0, '127.0.0.3'],
            [port, 1, '127.0.0.2'],
            [port, 2, '127.0.0.2'],
            [port, 3, '127.0.0.2'],
            [refusedPort, 0, '127.0.0.2'],
          ],
          concurrency: 2,
        };
        const connected = next(child, 'connected', 30_000);
        child.send(plan);
        child.send({ type: 'window', w0: W0, w1: W1 });
        const c = await connected;
        expect(c.connected).toBe(3);
        expect(c.failed).toBe(3);
        expect(raw.length).toBe(2);
        expect(chunked.length).toBe(1);
        await emit();
        const r = await settledReport(child, { dropped: 2, events: 9 });
        expect(r.connected).toBe(3);
        expect(r.failed).toBe(3);
        expect(r.dropped).toBe(2);
        expect(r.failures['HTTP 404']).toBe(1);
        expect(r.failures['content-type text/plain']).toBe(1);
        expect(r.failures.ECONNREFUSED).toBe(1);
        expect(r.establishedByChannel).toEqual([2, 1, 0, 0]);
        // ticks T+1000, T+2000, T+3000 per stream; T and T+4000 are outside the window
        expect(r.received).toEqual([6, 3, 0, 0]);
        expect(r.duplicates).toBe(2);
        const count = r.latency.pairs.reduce((s, [, n]) => s + n, 0);
        expect(count).toBe(9);
        expect(inBins(r, 0, 0)).toBe(2); // published in the future
        const split = 2 * SPLIT_PAUSE_MS;
        expect(inBins(r, 10_000, 10_000 + split - 1)).toBe(2); // raw, T+1000
        expect(inBins(r, 10_000 + split, 15_000)).toBe(2); // raw, split: completed by the read two pauses later
        expect(inBins(r, 5000, 5000 + split - 1)).toBe(2); // chunked T+1000, T+3000
        expect(inBins(r, 5000 + split, 9999)).toBe(1); // chunked, split
        expect(r.latency.max).toBeGreaterThanOrEqual(10_000 + split);
        expect(r.latency.sum).toBe(r.latency.pairs.reduce((s, [ms, n]) => s + ms * n, 0));
        expect(r.cpuMs).toBeGreaterThanOrEqual(0);
        expect(r.rssBytes).toBeGreaterThan(0);
      } finally {
        if (child.connected) child.send({ type: 'stop' });
        await exited;
        for (const r of chunked) r.destroy();
        chunked.length = 0;
      }
    });
  }
});
