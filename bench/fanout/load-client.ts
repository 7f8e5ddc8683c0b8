import { connect, type Socket } from 'node:net';
import { Histogram } from './histogram.ts';
import { SseMeter } from './sse-meter.ts';

// One load-client process of bench/fanout.ts (forked with IPC). It holds thousands of SSE connections on raw sockets,
// all reading into one shared buffer (onread), each parsed by an SseMeter; no EventSource objects, no strings per
// event. It records, for snapshots whose tick falls in the measurement window, the delay from the snapshot's publish
// instant to the read that completed it, and counts them per channel so the parent can tell what was lost.
//
// Messages: parent → child `plan`, `window`, `report`, `stop`; child → parent `progress`, `connected`, `result`.

export interface Plan {
  type: 'plan';
  host: string;
  /** request paths, by channel index */
  paths: string[];
  /** one entry per connection: [server port, channel index, source address] */
  connections: [number, number, string][];
  /** connects in flight at once */
  concurrency: number;
}
export interface Window {
  type: 'window';
  /** ticks t with w0 <= t < w1 are measured */
  w0: number;
  w1: number;
}
export interface LoadResult {
  type: 'result';
  connected: number;
  failed: number;
  /** connections that closed after they were established */
  dropped: number;
  failures: Record<string, number>;
  /** snapshots received per channel index, ticks in the window, each tick once per connection */
  received: number[];
  /** connections per channel index that were established (dropped ones included) */
  establishedByChannel: number[];
  duplicates: number;
  latency: ReturnType<Histogram['toSparse']>;
  /** per second of the window, by the message's tick: [second, deliveries, slowest ms, deliveries over 200 ms] */
  bySecond: [number, number, number, number][];
  /** this process's CPU (user+system, ms) between window and report */
  cpuMs: number;
  rssBytes: number;
  /** socket reads during the window (a server that splits a message into several writes costs more reads) */
  reads: number;
}

interface Conn {
  socket: Socket;
  meter: SseMeter;
  channel: number;
  lastTick: number;
  established: boolean;
  closed: boolean;
}

// One read buffer for every socket: each read is parsed before the next one lands.
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
const conns: Conn[] = [];
const histogram = new Histogram();
const bySecond: LoadResult['bySecond'] = [];
let received: number[] = [];
let w0 = Number.POSITIVE_INFINITY;
let w1 = Number.POSITIVE_INFINITY;
let readAt = 0;
let reads = 0;
let duplicates = 0;
let connected = 0;
let failed = 0;
let dropped = 0;
const failures: Record<string, number> = {};
let cpuAtWindow: NodeJS.CpuUsage | undefined;

const send = (m: object): void => {
  process.send!(m);
};

function countFailure(reason: string): void {
  failures[reason] = (failures[reason] ?? 0) + 1;
}

function open(host: string, port: number, path: string, channel: number, localAddress: string, done: () => void): void {
  let settled = false;
  const settle = (): void => {
    if (settled) return;
    settled = true;
    done();
  };
  const conn: Conn = {
    socket: undefined as unknown as Socket,
    channel,
    lastTick: 0,
    established: false,
    closed: false,
    meter: new SseMeter((tick, publishedAt) => {
      if (tick < w0 || tick >= w1) return;
      if (tick <= conn.lastTick) {
        duplicates++;
        return;
      }
      conn.lastTick = tick;
      received[conn.channel]!++;
      histogram.record(readAt - publishedAt);
      const sec = Math.floor((tick - w0) / 1000);
      const row = (bySecond[sec] ??= [sec, 0, 0, 0]);
      const ms = readAt - publishedAt;
      row[1]++;
      if (ms > row[2]) row[2] = ms;
      if (ms > 200) row[3]++;
    }),
  };
  const socket = connect({
    host,
    port,
    localAddress,
    noDelay: true,
    onread: {
      buffer: READ_BUFFER,
      callback: (n: number, buf: Buffer): boolean => {
        readAt = Date.now();
        if (readAt >= w0 && readAt < w1) reads++;
        const meter = conn.meter;
        meter.feed(buf, 0, n);
        if (!conn.established && meter.status !== 0) {
          if (meter.failure) {
            failed++;
            countFailure(meter.failure);
            socket.destroy();
          } else {
            conn.established = true;
            connected++;
          }
          settle();
        }
        return true;
      },
    },
  });
  conn.socket = socket;
  socket.on('connect', () => {
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n`);
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    if (!conn.established && !settled) countFailure(err.code ?? err.message);
  });
  socket.on('close', () => {
    conn.closed = true;
    if (conn.established) dropped++;
    else if (!settled) {
      failed++;
      countFailure('closed before response');
    }
    settle();
  });
  conns.push(conn);
}

async function run(plan: Plan): Promise<void> {
  received = new Array<number>(plan.paths.length).fill(0);
  let next = 0;
  let inFlight = 0;
  let lastProgress = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (inFlight < plan.concurrency && next < plan.connections.length) {
        const [port, channel, addr] = plan.connections[next++]!;
        inFlight++;
        open(plan.host, port, plan.paths[channel]!, channel, addr, () => {
          inFlight--;
          const now = Date.now();
          if (now - lastProgress > 1000) {
            lastProgress = now;
            send({ type: 'progress', connected, failed });
          }
          if (next >= plan.connections.length && inFlight === 0) resolve();
          else setImmediate(pump);
        });
      }
      if (plan.connections.length === 0) resolve();
    };
    pump();
  });
  send({ type: 'connected', connected, failed, failures });
}

function report(): LoadResult {
  const cpu = process.cpuUsage(cpuAtWindow);
  const establishedByChannel = new Array<number>(received.length).fill(0);
  for (const c of conns) if (c.established) establishedByChannel[c.channel]!++;
  return {
    type: 'result',
    connected,
    failed,
    dropped,
    failures,
    received,
    establishedByChannel,
    duplicates,
    latency: histogram.toSparse(),
    bySecond: bySecond.filter(Boolean),
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssBytes: process.memoryUsage.rss(),
    reads,
  };
}

process.on('message', (m: Plan | Window | { type: 'report' } | { type: 'stop' }) => {
  switch (m.type) {
    case 'plan':
      void run(m);
      break;
    case 'window':
      w0 = m.w0;
      w1 = m.w1;
      cpuAtWindow = process.cpuUsage();
      break;
    case 'report':
      send(report());
      break;
    case 'stop':
      for (const c of conns) c.socket.destroy();
      process.exit(0);
  }
});
// The parent going away must not leave thousands of sockets open.
process.on('disconnect', () => process.exit(0));
