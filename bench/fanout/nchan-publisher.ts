import { Agent, request } from 'node:http';
import type { Broker, PublishItem, PublishResult } from '../../src/broker/broker.ts';
import { silentLogger } from '../../src/log.ts';
import { createSkyTick, selectLocations } from '../../src/worker/sky-publisher.ts';
import { startTickLoop } from '../../src/worker/tick-loop.ts';

// The publisher for the nchan runs of bench/fanout.ts (forked with IPC). It is the Orrery worker's own tick function
// (createSkyTick: same grid, same snapshot bytes, same schedule, burst or spread) with a broker that POSTs each
// snapshot to nchan's publisher location instead of Redis. With `bytes` set, each message is replaced by one of that
// size that keeps the fields the load client reads: `"time"` (the tick) and `"publishedAt"` (stamped by the tick).
//
// Messages: parent → child `start`, `report` (ticks published per channel in a window), `stop`.

export interface PublisherStart {
  type: 'start';
  port: number;
  channels: string[];
  tickMs: number;
  spreadMs: number;
  /** 0: the real snapshots */
  bytes: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
/** published ticks per channel */
const published = new Map<string, number[]>();
let failures = 0;
let lastError = '';

/** Same size as asked, same fields the meter reads; the tick's real bytes are dropped. */
function resize(item: PublishItem, bytes: number): string {
  const publishedAt = /"publishedAt":(\d+)\}$/.exec(item.data)?.[1] ?? String(Date.now());
  const head = `{"location":{"id":"${item.channel}"},"time":"${new Date(item.id).toISOString()}","pad":"`;
  const tail = `","publishedAt":${publishedAt}}`;
  return head + 'x'.repeat(Math.max(0, bytes - head.length - tail.length)) + tail;
}

function post(port: number, channel: string, body: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `/pub/${channel}`,
        agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 201 || res.statusCode === 202));
      },
    );
    req.on('error', (err) => {
      lastError = err.message;
      resolve(false);
    });
    req.end(body);
  });
}

function nchanBroker(port: number, bytes: number): Broker {
  const unsupported = (): never => {
    throw new Error('the nchan publisher only publishes');
  };
  return {
    kind: 'memory',
    // nchan answers a POST after handing the message to its subscribers, so the answer takes as long as the fan-out.
    // Waiting for it would let the fan-out of one slice delay the next slice (Redis answers the Orrery worker at
    // once): the POSTs go out on the tick's schedule and their answers are counted as they come.
    async publish(items: readonly PublishItem[]): Promise<PublishResult> {
      for (const item of items) {
        void post(port, item.channel, bytes > 0 ? resize(item, bytes) : item.data).then((ok) => {
          if (ok) {
            let ticks = published.get(item.channel);
            if (!ticks) published.set(item.channel, (ticks = []));
            ticks.push(item.id);
          } else {
            failures++;
          }
        });
      }
      return { published: items.length, failed: [] };
    },
    subscribe: unsupported,
    history: unsupported,
    latest: unsupported,
    ready: () => true,
    stats: () => ({ unparsable: 0, channels: 0 }),
    close: async () => {
      agent.destroy();
    },
  };
}

let stop: (() => Promise<void>) | undefined;

process.on('message', (m: PublisherStart | { type: 'report'; w0: number; w1: number; channels: string[] } | { type: 'stop' }) => {
  switch (m.type) {
    case 'start': {
      const locations = selectLocations(m.channels.join(','));
      const broker = nchanBroker(m.port, m.bytes);
      const tick = createSkyTick({ broker, locations, log: silentLogger, spreadMs: m.spreadMs });
      const loop = startTickLoop({ periodMs: m.tickMs, tick, log: silentLogger });
      stop = async () => {
        await loop.stop();
        await broker.close();
      };
      process.send!({ type: 'started' });
      break;
    }
    case 'report':
      process.send!({
        type: 'published',
        perChannel: m.channels.map((c) => (published.get(c) ?? []).filter((t) => t >= m.w0 && t < m.w1).length),
        failures,
        lastError,
      });
      break;
    case 'stop':
      void (stop?.() ?? Promise.resolve()).then(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
