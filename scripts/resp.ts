import { connect, type Socket } from 'node:net';

// Just enough RESP2 for the launcher and the tests: tell when Redis answers and when the worker publishes,
// and make test assertions (PUBSUB NUMSUB, CLIENT KILL, raw PUBLISH of garbage), without pulling the app's
// Redis client into a script (only src/broker/redis*.ts imports ioredis).

export type RespValue = string | number | null | RespValue[] | Error;
/** Shorter name used by the tests. */
export type Resp = RespValue;

/** Parses one RESP2 value at `offset`; returns undefined while the buffer holds only part of it. */
export function parseResp(buf: Buffer, offset = 0): { value: RespValue; next: number } | undefined {
  const lineEnd = buf.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buf[offset]!);
  const line = buf.toString('utf8', offset + 1, lineEnd);
  const after = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, next: after };
    case '-':
      return { value: new Error(line), next: after };
    case ':':
      return { value: Number(line), next: after };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, next: after };
      if (buf.length < after + len + 2) return undefined;
      return { value: buf.toString('utf8', after, after + len), next: after + len + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, next: after };
      const items: RespValue[] = [];
      let next = after;
      for (let i = 0; i < count; i++) {
        const item = parseResp(buf, next);
        if (!item) return undefined;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

function encode(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/** A connection that yields every reply (including pushed pub/sub messages) to `onValue`. */
export function respConnection(port: number, host: string, onValue: (v: RespValue) => void): { socket: Socket; send(...args: string[]): void; close(): void } {
  const socket = connect(port, host);
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const parsed = parseResp(pending);
      if (!parsed) break;
      pending = pending.subarray(parsed.next);
      onValue(parsed.value);
    }
  });
  return {
    socket,
    send: (...args) => socket.write(encode(args)),
    close: () => socket.destroy(),
  };
}

/** One command, one reply, then the connection is closed. */
export function respCommand(port: number, host: string, args: readonly string[], timeoutMs = 1000): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const conn = respConnection(port, host, (v) => {
      conn.close();
      clearTimeout(timer);
      resolve(v);
    });
    const timer = setTimeout(() => {
      conn.close();
      reject(new Error(`redis ${args[0]} timed out`));
    }, timeoutMs);
    conn.socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    conn.send(...args);
  });
}

/**
 * Subscribes to `pattern` and resolves `message` with the first message's channel. Await `ready` (the
 * subscription is in place) before starting the publisher. Both reject on a connection error or timeout.
 */
export function firstMessage(port: number, host: string, pattern: string, timeoutMs: number): { ready: Promise<void>; message: Promise<string>; close(): void } {
  let settleReady!: (err?: Error) => void;
  let settleMessage!: (channel: string | Error) => void;
  const ready = new Promise<void>((resolve, reject) => (settleReady = (err) => (err ? reject(err) : resolve())));
  const message = new Promise<string>((resolve, reject) => (settleMessage = (v) => (v instanceof Error ? reject(v) : resolve(v))));
  // Whoever awaits only one of the two must not get an unhandled rejection from the other.
  ready.catch(() => {});
  message.catch(() => {});
  const conn = respConnection(port, host, (v) => {
    if (!Array.isArray(v)) return;
    if (v[0] === 'psubscribe') settleReady();
    if (v[0] === 'pmessage') {
      close();
      settleMessage(String(v[2]));
    }
  });
  const fail = (err: Error): void => {
    close();
    settleReady(err);
    settleMessage(err);
  };
  const timer = setTimeout(() => fail(new Error(`no message on ${pattern} within ${timeoutMs} ms`)), timeoutMs);
  const close = (): void => {
    clearTimeout(timer);
    conn.close();
  };
  conn.socket.on('error', fail);
  conn.send('PSUBSCRIBE', pattern);
  return { ready, message, close };
}

/** One command to the Redis at `url` (redis://host:port), one reply; the tests' form of respCommand. */
export function redisCommand(url: string, ...args: (string | number)[]): Promise<RespValue> {
  const u = new URL(url);
  return respCommand(Number(u.port || 6379), u.hostname, args.map(String), 5000);
}

/** Subscribers of one channel (PUBSUB NUMSUB). */
export async function numsub(url: string, channel: string): Promise<number> {
  const reply = (await redisCommand(url, 'PUBSUB', 'NUMSUB', channel)) as [string, number];
  return reply[1];
}
