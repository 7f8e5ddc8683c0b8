import { expect, it } from 'vitest';
import type { Broker, PublishItem } from '../../../src/broker/broker.ts';
import { createMemoryBroker } from '../../../src/broker/memory.ts';
import { silentLogger } from '../../../src/log.ts';
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

it('spreads a tick evenly over spreadMs after the tick instant, one location per slice, ids = the tick', async () => {
  const { broker, calls } = recording();
  const spreadMs = 400;
  const tick = createSkyTick({ broker, locations, log: silentLogger, spreadMs });
  await tick(Date.now() - 60_000); // warm up the grid (the first compute is slow), slots long past
  calls.length = 0;
  const T = Math.ceil((Date.now() + 100) / 100) * 100;
  await new Promise((r) => setTimeout(r, T - Date.now()));
  const report = await tick(T);
  expect(report).toMatchObject({ locations: 5, published: 5, slices: 5 });
  expect(calls.map((c) => c.items.map((i) => i.channel))).toEqual(locations.map((l) => [l.id]));
  for (const [k, call] of calls.entries()) {
    const item = call.items[0]!;
    expect(item.id).toBe(T);
    const snap = JSON.parse(item.data) as { time: string; publishedAt: number };
    expect(snap.time).toBe(new Date(T).toISOString());
    // Slot k is at T + k × 80 ms; timers fire at or after it (a busy machine may add a little), publishedAt is
    // stamped there.
    const slot = T + (k * spreadMs) / locations.length;
    expect(snap.publishedAt).toBeGreaterThanOrEqual(slot);
    expect(snap.publishedAt - slot).toBeLessThan(150);
    expect(call.at).toBeGreaterThanOrEqual(snap.publishedAt);
  }
});

it('without a spread (or for a past tick) publishes every location in one call', async () => {
  const { broker, calls } = recording();
  await createSkyTick({ broker, locations, log: silentLogger })(Date.now());
  expect(calls).toHaveLength(1);
  expect(calls[0]!.items).toHaveLength(5);
  // A tick whose slots have all passed does not wait: the slices go out back to back.
  const late = recording();
  const started = Date.now();
  const report = await createSkyTick({ broker: late.broker, locations, log: silentLogger, spreadMs: 400 })(started - 10_000);
  expect(Date.now() - started).toBeLessThan(300);
  expect(report).toMatchObject({ published: 5, slices: 5 });
});
