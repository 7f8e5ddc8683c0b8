import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/log.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { uniquePrefix } from '../../scripts/processes.ts';
import { redisCommand } from '../../scripts/resp.ts';
import { openStream, type SseStream } from '../../scripts/sse-client.ts';

// Resume honesty (issue 14, point 6), on a real Redis: a client resuming from an event the history still holds gets
// what followed it and nothing else; one resuming from an event the history no longer holds (a Redis restarted
// without persistence, or an id older than HISTORY_SECONDS) is told so with `event: resume` {"recovered":false},
// then gets what is kept and the live feed.

const redisUrl = inject('redisUrl');
const prefix = uniquePrefix('resume');
// Recent ids: the history keeps HISTORY_SECONDS back from now.
const T0 = Math.floor(Date.now() / 1000) * 1000 - 10_000;
let server: RunningServer;
const streams: SseStream[] = [];

beforeAll(async () => {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', REDIS_URL: redisUrl, REDIS_PREFIX: prefix, HEARTBEAT_MS: '60000' });
  server = await startServer({ config, log: silentLogger });
  const deadline = Date.now() + 10_000;
  while (!server.broker.ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
});
afterAll(async () => {
  for (const s of streams) s.close();
  await server?.close();
});

const publish = (n: number): Promise<unknown> =>
  server.broker.publish([{ channel: 'london', id: T0 + n * 1000, data: JSON.stringify({ time: new Date(T0 + n * 1000).toISOString(), n }) }]);
const open = async (lastEventId: number): Promise<SseStream> => {
  const s = await openStream(`${server.url}/stream/london`, { headers: { 'Last-Event-ID': String(lastEventId) } });
  streams.push(s);
  return s;
};

it('resuming from a kept event: what followed it, no resume notice', async () => {
  for (let n = 0; n < 3; n++) await publish(n);
  const s = await open(T0 + 1000);
  await s.waitFor((ms) => ms.some((m) => m.id === String(T0 + 2000)), 5000, 'the missed event');
  expect(s.updates().map((m) => Number(m.id))).toEqual([T0 + 2000]);
  expect(s.messages.some((m) => m.event === 'resume')).toBe(false);
});

it('resuming from an event the history lost: event: resume {"recovered":false} first, then what is kept, then live', async () => {
  // What a Redis restart without persistence leaves: no history at all.
  await redisCommand(redisUrl, 'DEL', `${prefix}history:london`);
  await publish(3);
  const s = await open(T0 + 1000);
  await s.waitFor((ms) => ms.some((m) => m.id === String(T0 + 3000)), 5000, 'the kept event');
  const resume = s.messages.find((m) => m.event === 'resume');
  expect(resume, JSON.stringify(s.messages)).toBeDefined();
  expect(JSON.parse(resume!.data!)).toEqual({ recovered: false, lastEventId: String(T0 + 1000), oldest: String(T0 + 3000) });
  expect(resume!.id).toBeUndefined();
  expect(s.messages.indexOf(resume!)).toBeLessThan(s.messages.findIndex((m) => m.event === 'update'));
  await publish(4);
  await s.waitFor((ms) => ms.some((m) => m.id === String(T0 + 4000)), 5000, 'live');
  expect(s.updates().map((m) => Number(m.id))).toEqual([T0 + 3000, T0 + 4000]);
});
