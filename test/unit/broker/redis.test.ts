import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { BrokerMessage } from '../../../src/broker/broker.ts';
import { type RedisBroker, createRedisBroker } from '../../../src/broker/redis.ts';
import { silentLogger } from '../../../src/log.ts';
import { uniquePrefix } from '../../../scripts/processes.ts';
import { numsub, redisCommand } from '../../../scripts/resp.ts';
import { brokerSuite, payload, skyEvent } from './suite.ts';

// The shared contract against a real Redis, then what only the Redis broker does.

const url = inject('redisUrl');
const make = (historyLength: number, prefix = uniquePrefix('broker')): RedisBroker =>
  createRedisBroker({ url, prefix, historyLength, historyTtlMs: 60_000, log: silentLogger });

const until = async (cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

brokerSuite('redis', async (historyLength) => ({ broker: make(historyLength) }));

describe('redis broker specifics', () => {
  let prefix: string;
  let broker: RedisBroker;
  beforeEach(async () => {
    prefix = uniquePrefix('broker');
    broker = make(20, prefix);
    await until(() => broker.ready());
  });
  afterEach(() => broker.close());

  /** Replaces this test's broker by one whose connections carry a name of their own; returns that name. */
  const renameBroker = async (suffix: string): Promise<string> => {
    const name = `orrery-test-${process.pid}-${Date.now()}${suffix}`;
    await broker.close();
    broker = createRedisBroker({ url, prefix, historyLength: 20, historyTtlMs: 60_000, log: silentLogger, clientName: name });
    await until(() => broker.ready());
    return name;
  };

  /** Kills the named broker's subscriber connection only (other test files share the Redis). */
  const killSubscriber = async (name: string): Promise<void> => {
    const clients = (await redisCommand(url, 'CLIENT', 'LIST')) as string;
    const line = clients.split('\n').find((l) => l.includes(` name=${name}-sub `));
    expect(line).toBeDefined();
    const id = /\bid=(\d+)/.exec(line!)![1]!;
    expect(await redisCommand(url, 'CLIENT', 'KILL', 'ID', id)).toBe(1);
  };

  it('one SUBSCRIBE per channel however many local subscribers; the last one out unsubscribes', async () => {
    const channel = `${prefix}sky:alpha`;
    const offs = await Promise.all([1, 2, 3].map(() => broker.subscribe('alpha', () => {})));
    expect(await numsub(url, channel)).toBe(1);
    offs[0]!();
    offs[1]!();
    expect(await numsub(url, channel)).toBe(1);
    offs[2]!();
    await until(async () => (await numsub(url, channel)) === 0);
  });

  it('writes the history as a stream with the tick id, field data, capped and expiring', async () => {
    const m = payload(1);
    await broker.publish([{ channel: 'alpha', ...m }]);
    const entries = (await redisCommand(url, 'XRANGE', `${prefix}history:alpha`, '-', '+')) as [string, string[]][];
    expect(entries).toEqual([[`${m.id}-0`, ['data', expect.any(String)]]]);
    expect(JSON.parse(entries[0]![1][1]!)).toEqual(JSON.parse(m.data));
    const ttl = (await redisCommand(url, 'PTTL', `${prefix}history:alpha`)) as number;
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('drops unparsable live messages (counted), and keeps delivering the good ones', async () => {
    const got: BrokerMessage[] = [];
    await broker.subscribe('alpha', (m) => got.push(m));
    const channel = `${prefix}sky:alpha`;
    await redisCommand(url, 'PUBLISH', channel, 'not json');
    await redisCommand(url, 'PUBLISH', channel, '{"time":"yesterday"}');
    await redisCommand(url, 'PUBLISH', channel, '[1,2]');
    await broker.publish([{ channel: 'alpha', ...payload(1) }]);
    await until(() => got.length === 1);
    expect(got).toEqual([payload(1)]);
    expect(broker.stats().unparsable).toBe(3);
  });

  it('skips history entries whose payload does not match the entry id', async () => {
    await broker.publish([{ channel: 'alpha', ...payload(1) }]);
    await redisCommand(url, 'XADD', `${prefix}history:alpha`, `${payload(2).id}-0`, 'data', 'garbage');
    await redisCommand(url, 'XADD', `${prefix}history:alpha`, `${payload(3).id}-0`, 'data', payload(4).data);
    expect(await broker.history('alpha', 0)).toEqual([payload(1)]);
    expect(await broker.latest('alpha')).toBeUndefined();
    expect(broker.stats().unparsable).toBe(3);
  });

  it('resubscribes after its connection is killed, and catches up with the latest message it missed', async () => {
    const name = await renameBroker('');
    const got: number[] = [];
    await broker.subscribe('alpha', (m) => got.push(m.id));
    const other = make(20, prefix);
    await until(() => other.ready());
    try {
      await other.publish([{ channel: 'alpha', ...payload(1) }]);
      await until(() => got.length === 1);
      await killSubscriber(name);
      // Published while the subscriber is away: must still arrive, via the catch-up read after the reconnect.
      await other.publish([{ channel: 'alpha', ...payload(2) }]);
      await until(() => broker.ready() && got.length === 2, 10_000);
      await until(async () => (await numsub(url, `${prefix}sky:alpha`)) === 1);
      await other.publish([{ channel: 'alpha', ...payload(3) }]);
      await until(() => got.length === 3);
      expect(got).toEqual([1, 2, 3].map((n) => payload(n).id));
    } finally {
      await other.close();
    }
  });

  it('after a reconnect, catches up with every sky event it missed and the newest snapshot', async () => {
    const name = await renameBroker('-ev');
    const got: BrokerMessage[] = [];
    await broker.subscribe('alpha', (m) => got.push(m));
    const other = make(20, prefix);
    await until(() => other.ready());
    try {
      await other.publish([{ channel: 'alpha', ...payload(1) }]);
      await until(() => got.length === 1);
      await killSubscriber(name);
      // While the subscriber is away: two snapshots and two happenings.
      await other.publish([payload(2), skyEvent(2), skyEvent(3), payload(4)].map((m) => ({ channel: 'alpha', ...m })));
      await until(() => broker.ready() && got.length === 4, 10_000);
      // The happenings all arrive; of the snapshots only the newest (an old snapshot is worthless once a newer exists).
      expect(got).toEqual([payload(1), skyEvent(2), skyEvent(3), payload(4)]);
    } finally {
      await other.close();
    }
  });

  it('fails fast, as unavailable, when Redis cannot be reached', async () => {
    const dead = createRedisBroker({
      url: 'redis://127.0.0.1:1',
      prefix,
      historyLength: 10,
      historyTtlMs: 10_000,
      log: silentLogger,
    });
    try {
      expect(dead.ready()).toBe(false);
      await expect(dead.publish([{ channel: 'alpha', ...payload(1) }])).rejects.toThrow(/not connected/);
      await expect(dead.subscribe('alpha', () => {})).rejects.toThrow(/not connected/);
      await expect(dead.history('alpha', 0)).rejects.toThrow(/not connected/);
    } finally {
      await dead.close();
    }
  });
});
