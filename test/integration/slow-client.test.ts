import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMemoryBroker } from '../../src/broker/memory.ts';
import { loadConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/log.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { openStream, type SseStream } from '../../scripts/sse-client.ts';

// A client that stops reading must not hold up anyone else: the fan-out never waits on a socket, a full socket keeps only
// the newest message, and a socket that stays full for SLOW_CLIENT_MS is closed (and counted). Real sockets against the
// real server composition; the test publishes big messages itself to fill the stuck client's socket quickly.

const SLOW_CLIENT_MS = 1000;
const T0 = Date.UTC(2026, 10, 22, 0, 0, 0);
let server: RunningServer;
const broker = createMemoryBroker({ historyLimit: 10 });

beforeAll(async () => {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    SLOW_CLIENT_MS: String(SLOW_CLIENT_MS),
    HEARTBEAT_MS: '60000',
  });
  server = await startServer({ config, log: silentLogger, broker, embeddedWorker: false });
});
afterAll(() => server?.close());

const message = (i: number): { id: number; data: string } => {
  const id = T0 + i * 1000;
  return { id, data: JSON.stringify({ time: new Date(id).toISOString(), i, pad: 'x'.repeat(64 * 1024) }) };
};

it('a client that never reads is closed as slow while the others keep receiving', async () => {
  // The stuck client: sends its request, then never reads a byte.
  const stuck: Socket = connect({ port: server.port, host: '127.0.0.1' });
  await new Promise<void>((resolve) => stuck.once('connect', () => resolve()));
  stuck.pause();
  stuck.write('GET /stream/london HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
  let stuckClosed = false;
  stuck.on('close', () => (stuckClosed = true));
  stuck.on('error', () => {});

  const readers: SseStream[] = await Promise.all([1, 2, 3].map(() => openStream(`${server.url}/stream/london`)));
  await expect.poll(() => server.hub.stats().clients).toBe(4);

  // Publish ~3 MB/s until the stuck client is cut off (bounded), then a few more.
  let i = 0;
  const deadline = Date.now() + 20_000;
  while (!server.hub.stats().closed.slow_client && Date.now() < deadline) {
    await broker.publish([{ channel: 'london', ...message(++i) }]);
    await new Promise((r) => setTimeout(r, 20));
  }
  const closedAt = i;
  expect(server.hub.stats().closed.slow_client, `after ${i} messages`).toBe(1);
  expect(server.hub.stats().clients).toBe(3);
  for (let k = 0; k < 5; k++) {
    await broker.publish([{ channel: 'london', ...message(++i) }]);
    await new Promise((r) => setTimeout(r, 20));
  }
  const lastId = message(i).id;
  await Promise.all(
    readers.map((r) => r.waitFor((ms) => ms.some((m) => Number(m.id) === lastId), 10_000, 'the last message')),
  );
  for (const r of readers) {
    const ids = r.updates().map((m) => Number(m.id));
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
    // Readers that keep up get (nearly) everything; any gap is conflation, never a stall.
    expect(ids.length).toBeGreaterThan(i * 0.8);
    // They received messages published while the stuck client was being given up on.
    expect(ids.some((id) => id >= message(closedAt - 10).id && id <= message(closedAt).id)).toBe(true);
    r.close();
  }
  // The server has let go of it; once it reads again it finds the stream cut off.
  stuck.resume();
  await expect.poll(() => stuckClosed).toBe(true);
  await expect.poll(() => server.hub.stats().clients).toBe(0);
  expect(broker.stats().channels).toBe(0);
  stuck.destroy();
});
