import { afterEach, describe, expect, inject, it } from 'vitest';
import { SKY_EVENT, type Broker, type BrokerMessage } from '../../../src/broker/broker.ts';
import { createMemoryBroker } from '../../../src/broker/memory.ts';
import { createRedisBroker } from '../../../src/broker/redis.ts';
import { createApp } from '../../../src/http/app.ts';
import { Hub } from '../../../src/hub/hub.ts';
import { silentLogger } from '../../../src/log.ts';
import { findLocation } from '../../../src/sky/locations.ts';
import { HappeningsAhead } from '../../../src/worker/happenings-ahead.ts';
import { createSkyTick } from '../../../src/worker/sky-publisher.ts';
import { uniquePrefix } from '../../../scripts/processes.ts';
import { USNO_MOON_PHASES_APRIL_2024 } from '../../fixtures/sky-references.ts';

// A happening pushed live: the worker's tick function driven with a controlled clock across the full Moon of
// 2024-04-23 (USNO 23:49 UT), through a real broker (memory, and a real Redis), the hub and GET /stream. The sky-event
// must go out at the tick at or just after its instant (within 2 s), be the calendar's object, reach a live SSE
// client as `event: sky-event`, and come back to a client resuming with Last-Event-ID from before it.

const TICK_MS = 1000;
const FULL = USNO_MOON_PHASES_APRIL_2024.find(([, p]) => p === 'full')![0];
const london = findLocation('london')!;
const tokyo = findLocation('tokyo')!;
const redisUrl = inject('redisUrl');

async function readUntil(res: Response, until: (text: string) => boolean, timeoutMs = 8000): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (!until(text)) {
      const next = await Promise.race([
        reader.read(),
        new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`timeout; got ${text.slice(-2000)}`)), deadline - Date.now())),
      ]);
      if (next.done) break;
      text += decoder.decode(next.value, { stream: true });
    }
  } finally {
    await reader.cancel();
  }
  return text;
}

const until = async (cond: () => boolean, timeoutMs = 5000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

const brokers: [string, () => Broker][] = [
  ['memory', () => createMemoryBroker({ historyLimit: 200 })],
  ['redis', () => createRedisBroker({ url: redisUrl, prefix: uniquePrefix('events'), historyLength: 200, historyTtlMs: 60_000, log: silentLogger })],
];

describe.each(brokers)('happenings pushed live (%s broker)', (_name, make) => {
  let broker: Broker | undefined;
  afterEach(async () => {
    await broker?.close();
  });

  it('the full Moon reaches /stream/london within 2 s of its instant, as the calendar has it, and replays on resume', async () => {
    broker = make();
    await until(() => broker!.ready());
    const hub = new Hub(broker, silentLogger);
    const app = createApp({ ready: () => broker!.ready(), stream: { hub, heartbeatMs: 60_000 } });

    // The calendar's full Moon for London (to the minute of USNO's, tested elsewhere).
    const fullMs = Date.parse(FULL);
    const cal = (await (
      await app.request(`/events?location=london&kinds=phase&from=${new Date(fullMs - 3_600_000).toISOString()}&to=${new Date(fullMs + 3_600_000).toISOString()}`)
    ).json()) as { events: { phase: string; time: string }[] };
    const calendarFull = cal.events.find((e) => e.phase === 'full')!;
    const eventMs = Date.parse(calendarFull.time);

    // Every message of both channels, with the tick that published it.
    let currentTick = 0;
    const seen: { channel: string; tick: number; m: BrokerMessage }[] = [];
    for (const l of [london, tokyo]) await broker.subscribe(l.id, (m) => seen.push({ channel: l.id, tick: currentTick, m }));

    const live = await app.request('/stream/london');
    const liveText = readUntil(live, (t) => /event: sky-event\ndata: \{[^\n]*"phase":"full"/.test(t));
    await until(() => hub.clientCount('london') === 1);

    const startMs = eventMs - 20_000;
    const ahead = new HappeningsAhead({ locations: [london, tokyo], tickMs: TICK_MS, startMs });
    const tick = createSkyTick({ broker, locations: [london, tokyo], log: silentLogger, happenings: ahead, happeningsBudgetMs: 60_000 });
    const first = Math.ceil(startMs / TICK_MS) * TICK_MS;
    for (let t = first; t <= eventMs + 3 * TICK_MS; t += TICK_MS) {
      currentTick = t;
      await tick(t);
      // Redis delivers asynchronously: let this tick's messages arrive before the clock moves on.
      await until(() => seen.some((s) => s.m.id === t && s.channel === 'tokyo'));
    }

    const full = seen.filter((s) => s.m.event === SKY_EVENT && JSON.parse(s.m.data).phase === 'full');
    expect(full.map((s) => s.channel).sort()).toEqual(['london', 'tokyo']);
    for (const s of full) {
      expect(s.tick - eventMs).toBeGreaterThanOrEqual(0);
      expect(s.tick - eventMs).toBeLessThanOrEqual(2000);
      expect(s.m.id).toBeGreaterThan(s.tick - TICK_MS);
      expect(s.m.id).toBeLessThan(s.tick);
    }
    const londonFull = full.find((s) => s.channel === 'london')!;
    expect(JSON.parse(londonFull.m.data)).toEqual(calendarFull);

    // One rising id sequence per channel, snapshots and happenings together.
    const ids = seen.filter((s) => s.channel === 'london').map((s) => s.m.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);

    const text = await liveText;
    expect(text).toContain(`id: ${londonFull.m.id}\nevent: sky-event\ndata: ${londonFull.m.data}\n\n`);

    // A client that saw the snapshot before the happening and reconnects gets the happening, then the snapshots after.
    const before = londonFull.tick - TICK_MS;
    const resumed = await app.request('/stream/london', { headers: { 'Last-Event-ID': String(before) } });
    const replay = await readUntil(resumed, (t) => t.includes(`id: ${londonFull.tick}\nevent: update`));
    const at = replay.indexOf(`id: ${londonFull.m.id}\nevent: sky-event\n`);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(at).toBeLessThan(replay.indexOf(`id: ${londonFull.tick}\nevent: update`));
    expect(replay).not.toContain(`id: ${before}\n`);
  });
});
