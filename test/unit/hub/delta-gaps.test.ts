import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBroker } from '../../../src/broker/memory.ts';
import { loadNativeBatchWriter, SocketSink } from '../../../src/fastpath/index.ts';
import { SseConnection } from '../../../src/hub/connection.ts';
import { Hub } from '../../../src/hub/hub.ts';
import { silentLogger } from '../../../src/log.ts';
import { applyFrame, displayed, type Picture } from './page-modules.ts';

// A delta client that stops reading, on a real loopback socket: while its socket is full the connection keeps only
// the newest tick (conflation), so it misses ticks; what it gets when it reads again must still rebuild the current
// picture. Each tick moves a different body, so a delta written after a gap would leave the skipped bodies behind.

const CHANNEL = 'london';
const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);
const NAMES = ['sun', 'moon', 'mercury', 'venus', 'mars', 'jupiter', 'saturn', 'uranus', 'neptune', 'pluto'];
/** big enough that the first whole snapshot fills the socket of a client that does not read */
const PAD = 'x'.repeat(4 << 20);

/** Tick `n`: body n-1 has moved by a degree (n ≥ 1); every other value is the same. */
function snapshot(n: number): { id: number; data: string } {
  const time = new Date(T0 + n * 1000).toISOString();
  const bodies = NAMES.map((name, i) => ({
    name, az: 100 + i + (i < n ? 1 : 0), alt: 10 + i, ra: 1 + i, dec: 5 + i, distance: 1 + i, magnitude: i, phase: 0.5,
    constellation: 'Ori', aboveHorizon: true, rise: null, transit: null, set: null,
  }));
  return { id: T0 + n * 1000, data: JSON.stringify({ location: { id: CHANNEL, pad: PAD }, time, bodies, publishedAt: T0 }) };
}

/** The SSE frames in `text` (after the HTTP head), as [event, id, data]. */
function sseFrames(text: string): { event: string; id: string; data: string }[] {
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  return body
    .split('\n\n')
    .map((block) => {
      const field = (name: string) => block.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? '';
      return { event: field('event'), id: field('id'), data: field('data') };
    })
    .filter((f) => f.data !== '');
}

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
});

const native = loadNativeBatchWriter();
const writers = [['net.Socket writes', undefined], ...('writeAll' in native ? [['native batched writes', native] as const] : [])] as const;

describe('a delta client that falls behind', () => {
  it.each(writers)('gets a whole snapshot after the gap and converges to the current picture (%s)', async (_, batchWriter) => {
    const broker = createMemoryBroker({ historyLimit: 100 });
    const hub = new Hub(broker, silentLogger, { batchWriter });
    await broker.publish([{ channel: CHANNEL, ...snapshot(0) }]);

    // The server side of a real stream: the stream front's socket sink, the connection, the hub, in the delta format.
    const server = createServer();
    servers.push(server);
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = connect((server.address() as { port: number }).port, '127.0.0.1');
    sockets.push(client);
    client.pause(); // not reading
    let received = '';
    client.setEncoding('latin1');
    client.on('data', (chunk: string) => {
      received += chunk;
    });
    const socket = await accepted;
    sockets.push(socket);
    const conn = new SseConnection(new SocketSink(socket), { heartbeatMs: 60_000, stallMs: 60_000, maxBufferedBytes: 1 << 20 });
    await hub.join(CHANNEL, conn, 'delta');
    conn.prime([(await hub.latest(CHANNEL))!]);

    // Ticks 1..5 while the client reads nothing: only the newest is kept for it.
    for (let n = 1; n <= 5; n++) await broker.publish([{ channel: CHANNEL, ...snapshot(n) }]);
    expect(conn.conflated).toBeGreaterThan(0);

    // It reads again; tick 6 follows once everything has drained.
    client.resume();
    await until(() => sseFrames(received).some((f) => f.id === String(snapshot(5).id)));
    await broker.publish([{ channel: CHANNEL, ...snapshot(6) }]);
    await until(() => sseFrames(received).some((f) => f.id === String(snapshot(6).id)));

    const frames = sseFrames(received);
    expect(frames.map((f) => [f.event, Number(f.id) - T0])).toEqual([
      ['update', 0],
      ['update', 5000], // the gap: the whole tick 5, not its delta from tick 4
      ['delta', 6000], // then deltas again
    ]);
    let picture: Picture | null = null;
    for (const f of frames) picture = applyFrame(picture, f.event, f.data);
    const truth = JSON.parse(snapshot(6).data) as Picture;
    expect(displayed(picture!)).toEqual(displayed(truth));
    conn.close('shutdown');
  }, 30_000);
});

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
