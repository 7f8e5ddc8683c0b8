import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SKY_EVENT, type Broker, type BrokerMessage } from '../../../src/broker/broker.ts';

// One behavioural suite for every Broker implementation: what the hub and the worker rely on.

export interface BrokerFixture {
  broker: Broker;
  cleanup?: () => Promise<void>;
}

const T0 = Date.UTC(2026, 10, 22, 1, 0, 0);

/** A snapshot-shaped payload for tick `n` (the Redis broker reads the id from `time`), with non-ASCII to check bytes. */
export function payload(n: number, extra = ''): BrokerMessage {
  const id = T0 + n * 1000;
  return { id, data: JSON.stringify({ time: new Date(id).toISOString(), n, note: `é✓${extra}`, publishedAt: id }) };
}

const until = async (cond: () => boolean, timeoutMs = 10_000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** A sky event between ticks n and n + 1 (its id is not derived from its JSON). */
export function skyEvent(n: number): BrokerMessage {
  const id = T0 + n * 1000 + 437;
  return { id, data: JSON.stringify({ kind: 'rise', time: new Date(id + 0.4).toISOString(), body: 'moon', az: 90.5, alt: 0.01 }), event: SKY_EVENT };
}

export function brokerSuite(name: string, make: (historyLength: number) => Promise<BrokerFixture>): void {
  describe(`Broker contract: ${name}`, () => {
    let fx: BrokerFixture;
    let broker: Broker;
    beforeEach(async () => {
      fx = await make(20);
      broker = fx.broker;
      await until(() => broker.ready());
    });
    afterEach(async () => {
      await broker.close();
      await fx.cleanup?.();
    });

    it('delivers published messages to a subscriber, in order, with the exact payload', async () => {
      const got: BrokerMessage[] = [];
      await broker.subscribe('alpha', (m) => got.push(m));
      const sent = [1, 2, 3].map((n) => payload(n));
      for (const m of sent) await broker.publish([{ channel: 'alpha', ...m }]);
      await until(() => got.length === 3);
      expect(got).toEqual(sent);
    });

    it('carries sky events, kind and id intact, live and in the history, in one sequence with the snapshots', async () => {
      const got: BrokerMessage[] = [];
      await broker.subscribe('alpha', (m) => got.push(m));
      const sent = [payload(1), skyEvent(1), payload(2)];
      await broker.publish(sent.map((m) => ({ channel: 'alpha', ...m })));
      await until(() => got.length === 3);
      expect(got).toEqual(sent);
      expect(await broker.history('alpha', payload(1).id)).toEqual(sent.slice(1));
      expect(await broker.latest('alpha')).toEqual(payload(2));
    });

    it('keeps channels apart and publishes many channels in one call', async () => {
      const a: number[] = [];
      const b: number[] = [];
      await broker.subscribe('alpha', (m) => a.push(m.id));
      await broker.subscribe('beta', (m) => b.push(m.id));
      const m1 = payload(1);
      const m2 = payload(2);
      const result = await broker.publish([
        { channel: 'alpha', ...m1 },
        { channel: 'beta', ...m2 },
        { channel: 'gamma', ...m1 },
      ]);
      expect(result).toEqual({ published: 3, failed: [] });
      await until(() => a.length === 1 && b.length === 1);
      expect(a).toEqual([m1.id]);
      expect(b).toEqual([m2.id]);
      expect(await broker.latest('gamma')).toEqual(m1);
    });

    it('stores history: latest and the messages after an id, oldest first', async () => {
      for (let n = 1; n <= 5; n++) await broker.publish([{ channel: 'alpha', ...payload(n) }]);
      expect(await broker.latest('alpha')).toEqual(payload(5));
      expect(await broker.history('alpha', payload(2).id)).toEqual([3, 4, 5].map((n) => payload(n)));
      expect((await broker.history('alpha', 0)).map((m) => m.id)).toEqual([1, 2, 3, 4, 5].map((n) => payload(n).id));
      expect(await broker.history('alpha', payload(5).id)).toEqual([]);
      expect(await broker.history('alpha', payload(9).id)).toEqual([]);
      expect(await broker.latest('nothing-here')).toBeUndefined();
      expect(await broker.history('nothing-here', 0)).toEqual([]);
    });

    it('caps the history, keeping the newest', async () => {
      const total = 300;
      for (let start = 1; start <= total; start += 50) {
        const batch = [];
        for (let n = start; n < start + 50; n++) batch.push({ channel: 'alpha', ...payload(n) });
        expect((await broker.publish(batch)).published).toBe(50);
      }
      const all = await broker.history('alpha', 0);
      expect(all.length).toBeGreaterThanOrEqual(20);
      expect(all.length).toBeLessThan(total);
      expect(all.at(-1)).toEqual(payload(total));
      const ids = all.map((m) => m.id);
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
    });

    it('refuses an id that is not above the channel’s last one, and keeps the history as it was', async () => {
      await broker.publish([{ channel: 'alpha', ...payload(5) }]);
      const result = await broker.publish([
        { channel: 'alpha', ...payload(5, 'again') },
        { channel: 'alpha', ...payload(4) },
        { channel: 'beta', ...payload(1) },
      ]);
      expect(result.published).toBe(1);
      expect(result.failed.map((f) => f.id)).toEqual([payload(5).id, payload(4).id]);
      expect(await broker.history('alpha', 0)).toEqual([payload(5)]);
    });

    it('stops delivery after unsubscribe (idempotent) and keeps other subscribers of the channel', async () => {
      const first: number[] = [];
      const second: number[] = [];
      const off1 = await broker.subscribe('alpha', (m) => first.push(m.id));
      const off2 = await broker.subscribe('alpha', (m) => second.push(m.id));
      await broker.publish([{ channel: 'alpha', ...payload(1) }]);
      await until(() => first.length === 1 && second.length === 1);
      off1();
      off1();
      await broker.publish([{ channel: 'alpha', ...payload(2) }]);
      await until(() => second.length === 2);
      expect(first).toEqual([payload(1).id]);
      expect(broker.stats().channels).toBe(1);
      off2();
      expect(broker.stats().channels).toBe(0);
      // Subscribing again after the channel was released works (a new SUBSCRIBE).
      const third: number[] = [];
      await broker.subscribe('alpha', (m) => third.push(m.id));
      await broker.publish([{ channel: 'alpha', ...payload(3) }]);
      await until(() => third.length === 1);
      expect(second).toEqual([payload(1).id, payload(2).id]);
    });

    it('a throwing handler does not keep the message from the others', async () => {
      const got: number[] = [];
      await broker.subscribe('alpha', () => {
        throw new Error('boom');
      });
      await broker.subscribe('alpha', (m) => got.push(m.id));
      await broker.publish([{ channel: 'alpha', ...payload(1) }]);
      await until(() => got.length === 1);
    });

    it('after close: not ready, and calls reject', async () => {
      await broker.close();
      expect(broker.ready()).toBe(false);
      await expect(broker.publish([{ channel: 'alpha', ...payload(1) }])).rejects.toThrow();
      await expect(broker.subscribe('alpha', () => {})).rejects.toThrow();
      await expect(broker.latest('alpha')).rejects.toThrow();
    });
  });
}
