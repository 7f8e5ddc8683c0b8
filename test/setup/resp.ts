import { createConnection } from 'node:net';

// A minimal Redis client for test assertions (PUBSUB NUMSUB, CLIENT KILL, raw PUBLISH of garbage): one connection per
// command, RESP2 replies. Kept here so that only src/broker/redis*.ts imports ioredis.

export type Resp = string | number | null | Resp[] | Error;

function parse(buf: Buffer, pos: number): [Resp, number] | undefined {
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[pos]!);
  const line = buf.toString('utf8', pos + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return [line, next];
    case '-':
      return [new Error(line), next];
    case ':':
      return [Number(line), next];
    case '$': {
      const len = Number(line);
      if (len < 0) return [null, next];
      if (buf.length < next + len + 2) return undefined;
      return [buf.toString('utf8', next, next + len), next + len + 2];
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return [null, next];
      const items: Resp[] = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const r = parse(buf, p);
        if (!r) return undefined;
        items.push(r[0]);
        p = r[1];
      }
      return [items, p];
    }
    default:
      throw new Error(`unexpected RESP type ${JSON.stringify(type)}`);
  }
}

export function redisCommand(url: string, ...args: (string | number)[]): Promise<Resp> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: u.hostname, port: Number(u.port || 6379) });
    let buf = Buffer.alloc(0);
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error(`redis ${args[0]} timed out`));
    });
    socket.on('error', reject);
    socket.on('connect', () => {
      const parts = args.map(String);
      let out = `*${parts.length}\r\n`;
      for (const p of parts) out += `$${Buffer.byteLength(p)}\r\n${p}\r\n`;
      socket.write(out);
    });
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const r = parse(buf, 0);
      if (!r) return;
      socket.end();
      resolve(r[0]);
    });
  });
}

/** Subscribers of one channel (PUBSUB NUMSUB). */
export async function numsub(url: string, channel: string): Promise<number> {
  const reply = (await redisCommand(url, 'PUBSUB', 'NUMSUB', channel)) as [string, number];
  return reply[1];
}
