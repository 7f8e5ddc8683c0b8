import { describe, expect, it, vi } from 'vitest';
import type { Broker, LatestAtHand, MessageHandler } from '../../../src/broker/broker.ts';
import { createMemoryBroker } from '../../../src/broker/memory.ts';
import { Hub, type HubClient } from '../../../src/hub/hub.ts';
import { silentLogger } from '../../../src/log.ts';
import { payload } from '../broker/suite.ts';

/** Records what the hub hands it. */
class FakeClient implements HubClient {
  frames: Buffer[] = [];
  ids: number[] = [];
  closed: string[] = [];
  push(id: number, frame: Buffer): void {
    this.ids.push(id);
    this.frames.push(frame);
  }
  close(reason: string): void {
    this.closed.push(reason);
  }
}

/** A real memory broker that counts the hub's subscribe/unsubscribe calls. */
function countingBroker(): { broker: Broker; subscribes: () => number; unsubscribes: () => number } {
  const inner = createMemoryBroker({ historyLimit: 10 });
  let subs = 0;
  let unsubs = 0;
  const broker: Broker = {
    ...inner,
    kind: inner.kind,
    subscribe: async (channel: string, handler: MessageHandler) => {
      subs++;
      const off = await inner.subscribe(channel, handler);
      return () => {
        unsubs++;
        off();
      };
    },
  };
  return { broker, subscribes: () => subs, unsubscribes: () => unsubs };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('Hub', () => {
  it('subscribes the broker for the first client of a channel and releases it with the last', async () => {
    const { broker, subscribes, unsubscribes } = countingBroker();
    const hub = new Hub(broker, silentLogger);
    const [a, b, c] = [new FakeClient(), new FakeClient(), new FakeClient()];
    await Promise.all([hub.join('london', a), hub.join('london', b)]);
    await hub.join('paris', c);
    expect(subscribes()).toBe(2);
    expect(hub.stats()).toMatchObject({ channels: 2, clients: 3 });
    hub.leave('london', a, 'client_gone');
    hub.leave('london', a, 'client_gone'); // twice: no effect on the count of clients
    await flush();
    expect(unsubscribes()).toBe(0);
    hub.leave('london', b);
    await flush();
    expect(unsubscribes()).toBe(1);
    expect(hub.clientCount('london')).toBe(0);
    expect(broker.stats().channels).toBe(1);
    hub.leave('paris', c);
    await flush();
    expect(unsubscribes()).toBe(2);
    expect(broker.stats().channels).toBe(0);
    // Coming back re-subscribes.
    await hub.join('london', a);
    expect(subscribes()).toBe(3);
  });

  it('frames each message once and hands the same Buffer to every client of the channel only', async () => {
    const broker = createMemoryBroker({ historyLimit: 10 });
    const hub = new Hub(broker, silentLogger);
    const [a, b, other] = [new FakeClient(), new FakeClient(), new FakeClient()];
    await hub.join('london', a);
    await hub.join('london', b);
    await hub.join('paris', other);
    const m = payload(1);
    await broker.publish([{ channel: 'london', ...m }]);
    expect(a.frames).toHaveLength(1);
    expect(a.frames[0]).toBe(b.frames[0]);
    expect(a.frames[0]!.toString()).toBe(`id: ${m.id}\nevent: update\ndata: ${m.data}\n\n`);
    expect(other.frames).toHaveLength(0);
    expect(hub.stats().dispatched).toBe(1);
  });

  it('drops a re-delivered or older id', async () => {
    const inner = createMemoryBroker({ historyLimit: 10 });
    let deliver!: MessageHandler;
    const broker: Broker = { ...inner, kind: inner.kind, subscribe: async (_c, h) => ((deliver = h), () => {}) };
    const hub = new Hub(broker, silentLogger);
    const a = new FakeClient();
    await hub.join('london', a);
    deliver(payload(2));
    deliver(payload(2));
    deliver(payload(1));
    deliver(payload(3));
    expect(a.ids).toEqual([payload(2).id, payload(3).id]);
  });

  it('serves latest from the live feed once it has one, else from the broker', async () => {
    const broker = createMemoryBroker({ historyLimit: 10 });
    await broker.publish([{ channel: 'london', ...payload(1) }]);
    const hub = new Hub(broker, silentLogger);
    const a = new FakeClient();
    await hub.join('london', a);
    expect((await hub.latest('london'))?.id).toBe(payload(1).id);
    await broker.publish([{ channel: 'london', ...payload(2) }]);
    const latest = await hub.latest('london');
    expect(latest?.id).toBe(payload(2).id);
    expect(latest?.frame).toBe(a.frames[0]); // the very Buffer the live feed framed
    expect(await hub.latest('nobody-watches')).toBeUndefined();
    expect((await hub.history('london', payload(1).id)).map((m) => m.id)).toEqual([payload(2).id]);
  });

  it('keeps no copy of a channel whose broker has its latest at hand: asks the broker each time', async () => {
    const inner = createMemoryBroker({ historyLimit: 10 });
    const asked: string[] = [];
    const broker: Broker & LatestAtHand = {
      ...inner,
      kind: inner.kind,
      latest: (channel) => (asked.push(channel), inner.latest(channel)),
      latestAtHand: (channel) => channel.startsWith('spot:'),
    };
    const hub = new Hub(broker, silentLogger);
    const [spot, city] = [new FakeClient(), new FakeClient()];
    await hub.join('spot:1,2,0', spot);
    await hub.join('london', city);
    await broker.publish([
      { channel: 'spot:1,2,0', ...payload(1) },
      { channel: 'london', ...payload(1) },
    ]);
    expect(spot.ids).toEqual([payload(1).id]);
    // The city's latest is the live feed's frame; the spot's is the broker's, asked again each time.
    expect((await hub.latest('london'))?.frame).toBe(city.frames[0]);
    const first = await hub.latest('spot:1,2,0');
    const second = await hub.latest('spot:1,2,0');
    expect(first?.id).toBe(payload(1).id);
    expect(first?.frame.equals(spot.frames[0]!)).toBe(true);
    expect(first?.frame).not.toBe(spot.frames[0]);
    expect(second?.frame).not.toBe(first?.frame);
    expect(asked).toEqual(['spot:1,2,0', 'spot:1,2,0']);
  });

  it('a failing subscription rejects the join and leaves nothing behind', async () => {
    const inner = createMemoryBroker({ historyLimit: 10 });
    const broker: Broker = {
      ...inner,
      kind: inner.kind,
      subscribe: async () => {
        throw new Error('redis is not connected');
      },
    };
    const hub = new Hub(broker, silentLogger);
    await expect(hub.join('london', new FakeClient())).rejects.toThrow(/not connected/);
    expect(hub.stats()).toMatchObject({ channels: 0, clients: 0 });
  });

  it('a join while the broker is still connecting waits for it, within readyWaitMs', async () => {
    const inner = createMemoryBroker({ historyLimit: 10 });
    let ready = false;
    const broker: Broker = {
      ...inner,
      kind: inner.kind,
      ready: () => ready,
      subscribe: (c, h) => (ready ? inner.subscribe(c, h) : Promise.reject(new Error('redis is not connected'))),
    };
    // Fake timers and clock: the wait is checked against readyWaitMs exactly, whatever the machine's speed.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    try {
      const hub = new Hub(broker, silentLogger, { readyWaitMs: 400 });
      const a = new FakeClient();
      setTimeout(() => (ready = true), 150);
      const joining = hub.join('london', a);
      await vi.advanceTimersByTimeAsync(200);
      await joining;
      expect(hub.clientCount('london')).toBe(1);

      ready = false;
      let settled = false;
      const refused = expect(hub.join('paris', new FakeClient()).finally(() => (settled = true))).rejects.toThrow(/not connected/);
      await vi.advanceTimersByTimeAsync(350);
      expect(settled).toBe(false); // still waiting for the broker
      await vi.advanceTimersByTimeAsync(100);
      await refused;
      expect(hub.clientCount('paris')).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('closeAll closes every client with the reason; leave counts reasons', async () => {
    const hub = new Hub(createMemoryBroker({ historyLimit: 10 }), silentLogger);
    const [a, b] = [new FakeClient(), new FakeClient()];
    await hub.join('london', a);
    await hub.join('paris', b);
    hub.closeAll('shutdown');
    expect(a.closed).toEqual(['shutdown']);
    expect(b.closed).toEqual(['shutdown']);
    hub.leave('london', a, 'shutdown');
    hub.leave('paris', b, 'slow_client');
    expect(hub.stats().closed).toEqual({ shutdown: 1, slow_client: 1 });
  });
});
