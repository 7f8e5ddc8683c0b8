import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNativeFanout } from '../../../scripts/build.ts';
import { createMemoryBroker } from '../../../src/broker/memory.ts';
import { loadConfig } from '../../../src/config.ts';
import { SSE_RESPONSE_HEAD, SocketSink, chooseBatchWriter, loadNativeBatchWriter, type BatchWriter } from '../../../src/fastpath/index.ts';
import { SseConnection } from '../../../src/hub/connection.ts';
import { Hub, messageFrame } from '../../../src/hub/hub.ts';
import { silentLogger } from '../../../src/log.ts';
import { payload } from '../broker/suite.ts';

// The hub's batched writer (native/fanout.c) on real loopback sockets: what it reports per descriptor (whole, short,
// refused, broken), and the hub with it against the hub without it: the same bytes to every reading client, and a
// client that stops reading gets whole frames, in order, ending with the newest, once it reads again.

const build = buildNativeFanout();
const loaded = build.ok ? loadNativeBatchWriter([build.file]) : undefined;
const native: BatchWriter | undefined = loaded && 'writeAll' in loaded ? loaded : undefined;

const until = async (cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};
const fdOf = (s: Socket): number => (s as unknown as { _handle: { fd: number } })._handle.fd;

/** A loopback server; `pairs(n)` connects n clients and returns [server side, client side] sockets. */
async function loopback(onAccept?: (s: Socket) => void): Promise<{ server: Server; port: number; accepted: Socket[]; connect(): Promise<Socket> }> {
  const accepted: Socket[] = [];
  const server = createServer((s) => {
    accepted.push(s);
    onAccept?.(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    accepted,
    connect: () =>
      new Promise((resolve, reject) => {
        const before = accepted.length;
        const c = createConnection(port, '127.0.0.1');
        c.once('error', reject);
        c.once('connect', () => void until(() => accepted.length > before, 'accept').then(() => resolve(c), reject));
      }),
  };
}

describe.runIf(native)('native writeAll', () => {
  let net: Awaited<ReturnType<typeof loopback>>;
  beforeAll(async () => {
    net = await loopback();
  });
  afterAll(() => {
    for (const s of net.accepted) s.destroy();
    net.server.close();
  });

  it('sends the same bytes to every descriptor and says what each took', async () => {
    const clients = [];
    for (let i = 0; i < 5; i++) clients.push(await net.connect());
    const servers = net.accepted.slice(-5);
    const got = clients.map(() => [] as Buffer[]);
    clients.forEach((c, i) => c.on('data', (b: Buffer) => got[i]!.push(b)));
    const bytes = Buffer.from('id: 1\nevent: update\ndata: {"é":"✓"}\n\n');
    const fds = new Int32Array(servers.map(fdOf));
    const results = new Int32Array(5).fill(-1);
    // only the first four
    native!.writeAll(fds, 4, bytes, results);
    expect([...results]).toEqual([bytes.length, bytes.length, bytes.length, bytes.length, -1]);
    await until(() => got.slice(0, 4).every((g) => Buffer.concat(g).length === bytes.length), 'the bytes');
    for (const g of got.slice(0, 4)) expect(Buffer.concat(g).equals(bytes)).toBe(true);
    expect(got[4]).toEqual([]);
    for (const c of clients) c.destroy();
  });

  it('reports a short write, then a full buffer (-EAGAIN), then a closed peer (-EPIPE or -ECONNRESET)', async () => {
    const client = await net.connect();
    const server = net.accepted.at(-1)!;
    client.pause(); // the peer stops reading: the buffers on both sides fill up
    const big = Buffer.alloc(256 * 1024, 0x61);
    const fds = new Int32Array([fdOf(server)]);
    const results = new Int32Array(1);
    const seen: number[] = [];
    for (let i = 0; i < 1000; i++) {
      native!.writeAll(fds, 1, big, results);
      seen.push(results[0]!);
      if (results[0]! < 0) break;
    }
    const firstShort = seen.findIndex((n) => n !== big.length);
    expect(firstShort).toBeGreaterThan(0);
    expect(seen[firstShort]).toBeGreaterThanOrEqual(0); // some or nothing taken, not an error yet…
    expect(seen.at(-1)).toBe(-11); // …then EAGAIN: full, never blocking
    client.destroy();
    await until(() => {
      native!.writeAll(fds, 1, big, results);
      return results[0] === -32 || results[0] === -104;
    }, 'EPIPE/ECONNRESET');
    server.destroy();
  });

  it('refuses arguments of the wrong kind with a TypeError', () => {
    const ok = new Int32Array(1);
    const bytes = Buffer.from('x');
    expect(() => native!.writeAll([1] as unknown as Int32Array, 1, bytes, ok)).toThrow(TypeError);
    expect(() => native!.writeAll(ok, 2, bytes, ok)).toThrow(/count exceeds/);
    expect(() => native!.writeAll(ok, 1, 'x' as unknown as Buffer, ok)).toThrow(TypeError);
    expect(() => native!.writeAll(ok, 1, bytes, new Float64Array(1) as unknown as Int32Array)).toThrow(TypeError);
  });
});

describe('choosing the writer (FANOUT_WRITER)', () => {
  const missing = ['/nonexistent/fanout.node'];
  it('says why there is no addon', () => {
    const r = loadNativeBatchWriter(missing);
    expect('error' in r && r.error).toMatch(/no native fan-out writer at \/nonexistent\/fanout.node/);
  });
  it('auto falls back to net.Socket writes and says why; native refuses to start without the addon; js never loads it', () => {
    expect(chooseBatchWriter('auto', missing)).toEqual({ writer: undefined, note: expect.stringMatching(/^net.Socket writes: no native fan-out writer/) });
    expect(() => chooseBatchWriter('native', missing)).toThrow(/FANOUT_WRITER=native: no native fan-out writer/);
    expect(chooseBatchWriter('js', build.ok ? [build.file] : missing).writer).toBeUndefined();
    if (build.ok) expect(chooseBatchWriter('auto', [build.file]).writer?.source).toBe(build.file);
  });
  it('loadConfig takes auto (the default), native and js, and names FANOUT_WRITER for anything else', () => {
    expect(loadConfig({}).FANOUT_WRITER).toBe('auto');
    expect(loadConfig({ FANOUT_WRITER: 'js' }).FANOUT_WRITER).toBe('js');
    expect(() => loadConfig({ FANOUT_WRITER: 'fast' })).toThrow(/FANOUT_WRITER/);
  });
});

it.runIf(!native)(`native writer skipped: ${build.ok ? (loaded && 'error' in loaded ? loaded.error : '') : build.reason}`, () => {
  expect(native).toBeUndefined();
});

const writers: [string, BatchWriter | undefined][] = [['net.Socket writes', undefined]];
if (native) writers.push(['native batched writes', native]);

describe.each(writers)('hub fan-out with %s', (_, writer) => {
  it('gives every reading client the same bytes, and a client that stopped reading whole frames in order, ending with the newest', async () => {
    const broker = createMemoryBroker({ historyLimit: 10 });
    let directWrites = 0;
    const counting: BatchWriter | undefined = writer && {
      source: writer.source,
      writeAll(fds, count, bytes, results) {
        directWrites += count;
        writer.writeAll(fds, count, bytes, results);
      },
    };
    const hub = new Hub(broker, silentLogger, { batchWriter: counting });
    const connections: SseConnection[] = [];
    const net = await loopback((socket) => {
      const conn = new SseConnection(new SocketSink(socket), { heartbeatMs: 60_000, stallMs: 60_000, maxBufferedBytes: 1 << 30 });
      connections.push(conn);
      void hub.join('london', conn).then(() => conn.prime([]));
      conn.onClose(() => hub.leave('london', conn));
    });
    const readers: Socket[] = [];
    for (let i = 0; i < 4; i++) readers.push(await net.connect());
    const sleeper = await net.connect();
    sleeper.pause();
    await until(() => hub.clientCount('london') === 5 && connections.every((c) => !(c as unknown as { priming: boolean }).priming), 'joined');
    const got = new Map<Socket, Buffer[]>([...readers, sleeper].map((s) => [s, []]));
    for (const s of [...readers, sleeper]) s.on('data', (b: Buffer) => got.get(s)!.push(b));

    // 40 messages of 200 kB: more than the sleeper's socket buffers hold, so its writes come up short
    const messages = Array.from({ length: 40 }, (_, i) => payload(i + 1, 'x'.repeat(200_000)));
    const frames = messages.map((m) => messageFrame(m).frame);
    for (const m of messages) {
      await broker.publish([{ channel: 'london', ...m }]);
      await new Promise((r) => setImmediate(r));
    }
    const expected = Buffer.concat([SSE_RESPONSE_HEAD, ...frames]);
    await until(() => readers.every((r) => Buffer.concat(got.get(r)!).length >= expected.length), 'readers to have everything', 20_000);
    for (const r of readers) expect(Buffer.concat(got.get(r)!).equals(expected)).toBe(true);

    sleeper.resume();
    const last = frames.at(-1)!;
    const sleeperBytes = (): Buffer => Buffer.concat(got.get(sleeper)!);
    await until(() => sleeperBytes().subarray(-last.length).equals(last), 'the sleeper to get the newest frame', 20_000);
    // whole frames only, strictly increasing, the newest last: what it missed while full was conflated, never torn
    let rest = sleeperBytes();
    expect(rest.subarray(0, SSE_RESPONSE_HEAD.length).equals(SSE_RESPONSE_HEAD)).toBe(true);
    rest = rest.subarray(SSE_RESPONSE_HEAD.length);
    const order: number[] = [];
    while (rest.length > 0) {
      const i = frames.findIndex((f) => rest.subarray(0, f.length).equals(f));
      expect(i, `a whole frame at byte ${sleeperBytes().length - rest.length}`).toBeGreaterThanOrEqual(0);
      order.push(i);
      rest = rest.subarray(frames[i]!.length);
    }
    expect(order.at(-1)).toBe(frames.length - 1);
    for (let k = 1; k < order.length; k++) expect(order[k]).toBeGreaterThan(order[k - 1]!);
    expect(order.length).toBeLessThan(frames.length);
    expect(connections.reduce((n, c) => n + c.conflated, 0)).toBeGreaterThan(0);
    if (writer) expect(directWrites).toBeGreaterThanOrEqual(5 * 5);
    else expect(directWrites).toBe(0);

    for (const s of [...readers, sleeper]) s.destroy();
    await until(() => hub.clientCount('london') === 0, 'every client gone');
    net.server.close();
    await broker.close();
  });
});
