import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { startApiNode, uniquePrefix, type ApiNode } from '../../scripts/processes.ts';
import { respConnection } from '../../scripts/resp.ts';
import { openStream, type SseStream } from '../../scripts/sse-client.ts';

// Hundreds of clients that connect and never read, against a real API node process on a real Redis: the node's memory
// stays bounded (each connection may leave at most STREAM_QUEUE_BYTES unread before it is closed), readers keep getting
// every update, and each stuck client is closed with a logged, counted reason (slow_client). The test publishes big
// messages straight into the node's Redis channel to fill the stuck sockets quickly.

const redisUrl = inject('redisUrl');
const prefix = uniquePrefix('slow');
const STUCK = 200;
const QUEUE = 64 * 1024;
const PAD = 128 * 1024;
const T0 = Date.UTC(2026, 10, 22, 1, 0, 0);
let node: ApiNode;
const sockets: Socket[] = [];

beforeAll(async () => {
  node = await startApiNode({
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    STREAM_QUEUE_BYTES: String(QUEUE),
    SLOW_CLIENT_MS: '3000',
    HEARTBEAT_MS: '60000',
  });
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await node?.stop('SIGKILL');
});

const metric = async (re: RegExp): Promise<number> => Number(re.exec(await (await fetch(`${node.url}/metrics`)).text())?.[1] ?? NaN);
const rss = (): Promise<number> => metric(/^process_resident_memory_bytes\{[^}]*\} (\d+)/m);

it(`${STUCK} clients that never read are closed as slow; memory stays bounded; readers get every update`, async () => {
  const u = new URL(redisUrl);
  const pub = respConnection(Number(u.port), u.hostname, () => {});
  const publish = (i: number): void => {
    const id = T0 + i * 1000;
    pub.send('PUBLISH', `${prefix}sky:london`, JSON.stringify({ time: new Date(id).toISOString(), i, pad: 'x'.repeat(PAD) }));
  };
  try {
    const readers: SseStream[] = await Promise.all([1, 2, 3].map(() => openStream(`${node.url}/stream/london`)));
    const baseline = await rss();
    for (let i = 0; i < STUCK; i++) {
      const s = connect({ port: node.port, host: '127.0.0.1' });
      s.on('error', () => {});
      s.once('connect', () => {
        s.pause();
        s.write('GET /stream/london HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
      });
      sockets.push(s);
    }
    const connected = /^orrery_clients_connected\{location="london"[^}]*\} (\d+)$/m;
    await expect.poll(() => metric(connected), { timeout: 15_000 }).toBe(STUCK + readers.length);

    // ~2.5 MB/s of frames until every stuck client is gone (bounded in time), sampling the node's memory.
    let i = 0;
    let peak = baseline;
    const deadline = Date.now() + 40_000;
    const slow = /^orrery_slow_client_closes_total\{[^}]*\} (\d+)$/m;
    while ((await metric(slow)) < STUCK && Date.now() < deadline) {
      for (let k = 0; k < 4; k++) publish(++i);
      peak = Math.max(peak, await rss());
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await metric(slow), `after ${i} messages`).toBe(STUCK);
    for (let k = 0; k < 3; k++) publish(++i);
    const lastId = T0 + i * 1000;
    await Promise.all(readers.map((r) => r.waitFor((ms) => ms.some((m) => Number(m.id) === lastId), 10_000, 'the last message')));
    for (const r of readers) {
      const ids = r.updates().map((m) => Number(m.id));
      expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
      expect(ids.length).toBeGreaterThan(i * 0.8); // readers are not held back by the stuck ones
      r.close();
    }
    console.info(
      `${STUCK} stuck clients closed after ${i} messages of ${PAD / 1024} KiB; rss ${(baseline / 1e6).toFixed(0)} → peak ${(peak / 1e6).toFixed(0)} MB`,
    );
    // Bounded: far below what unbounded queues would hold (STUCK × messages × frame), within STUCK × a few frames.
    expect(peak - baseline).toBeLessThan(STUCK * (QUEUE + 3 * PAD) + 64 * 1024 * 1024);
    expect(peak - baseline).toBeLessThan(i * PAD * STUCK * 0.25);
    // Each close is logged with its reason.
    await expect.poll(() => node.logs.filter((l) => l.msg === 'slow stream client closed' && l.reason === 'slow_client').length).toBe(STUCK);
    expect(await metric(/^orrery_stream_closes_total\{reason="slow_client"[^}]*\} (\d+)$/m)).toBe(STUCK);
    await expect.poll(() => metric(/^orrery_channels_subscribed\{[^}]*\} (\d+)$/m)).toBe(0);
  } finally {
    pub.close();
  }
});
