import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { Broker, PublishItem } from '../../../src/broker/broker.ts';
import { createMemoryBroker } from '../../../src/broker/memory.ts';
import { silentLogger } from '../../../src/log.ts';
import { FRAME_CHANNEL } from '../../../src/spots/channel.ts';
import { createSkyTick, selectLocations } from '../../../src/worker/sky-publisher.ts';

const locations = selectLocations('london,paris,tokyo,sydney,new-york');

/** A memory broker that also records when each publish call happened and what it carried. */
function recording(): { broker: Broker; calls: { at: number; items: PublishItem[] }[] } {
  const inner = createMemoryBroker({ historyLimit: 10 });
  const calls: { at: number; items: PublishItem[] }[] = [];
  const broker: Broker = {
    ...inner,
    kind: inner.kind,
    publish: (items) => {
      calls.push({ at: Date.now(), items: [...items] });
      return inner.publish(items);
    },
  };
  return { broker, calls };
}

// Fake timers and clock (setTimeout and Date only; the grid's own performance.now() timings stay real): slots are
// checked to the millisecond, whatever the machine's speed.
const T = 1_800_000_000_000; // a tick instant (2027-01-15T08:00:00Z)

beforeEach(() => {
  vi.useFakeTimers({ now: T - 50, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Lets promise chains that wait on no timer run to the end (setImmediate is not faked). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
};

/** A tick that must not wait on any timer: it has finished once the pending promise chains have run. */
async function withoutWaiting<R>(tick: Promise<R>): Promise<R> {
  let done = false;
  const result = tick.finally(() => (done = true));
  await settle();
  expect(done, 'the tick waited on a timer').toBe(true);
  return result;
}

it('spreads a tick evenly over spreadMs after the tick instant, one location per slice, ids = the tick', async () => {
  const { broker, calls } = recording();
  const spreadMs = 400;
  const tick = createSkyTick({ broker, locations, log: silentLogger, spreadMs });
  let done = false;
  const reporting = tick(T).then((r) => {
    done = true;
    return r;
  });
  // Nothing before the tick instant; then one slice every spreadMs / 5 = 80 ms.
  await vi.advanceTimersByTimeAsync(49);
  expect(calls).toHaveLength(0);
  await vi.advanceTimersByTimeAsync(1 + 4 * 80 - 1);
  expect(calls).toHaveLength(4);
  expect(done).toBe(false);
  await vi.advanceTimersByTimeAsync(1);
  await settle();
  expect(done).toBe(true);
  const report = await reporting;
  // Five snapshots and the tick's geocentric frame (exact spots), which goes first, at the tick instant.
  expect(report).toMatchObject({ locations: 5, published: 6, slices: 5 });
  expect(calls.map((c) => c.items.map((i) => i.channel))).toEqual(locations.map((l, k) => (k === 0 ? [FRAME_CHANNEL, l.id] : [l.id])));
  for (const [k, call] of calls.entries()) {
    const item = call.items.at(-1)!;
    expect(item.id).toBe(T);
    const snap = JSON.parse(item.data) as { time: string; publishedAt: number };
    expect(snap.time).toBe(new Date(T).toISOString());
    // Slot k is at T + k × 80 ms; publishedAt is stamped there, and the publish follows.
    expect(snap.publishedAt).toBe(T + (k * spreadMs) / locations.length);
    expect(call.at).toBe(snap.publishedAt);
  }
});

it('without a spread (or for a past tick) publishes every location in one call', async () => {
  const { broker, calls } = recording();
  await withoutWaiting(createSkyTick({ broker, locations, log: silentLogger })(Date.now()));
  expect(calls).toHaveLength(1);
  expect(calls[0]!.items).toHaveLength(5 + 1);
  // A tick whose slots have all passed does not wait: the slices go out back to back, with no timer advanced.
  const late = recording();
  const started = Date.now();
  const report = await withoutWaiting(createSkyTick({ broker: late.broker, locations, log: silentLogger, spreadMs: 400 })(started - 10_000));
  expect(report).toMatchObject({ published: 5 + 1, slices: 5 });
  expect(late.calls.map((c) => c.at)).toEqual([started, started, started, started, started]);
  expect(vi.getTimerCount()).toBe(0);
});
