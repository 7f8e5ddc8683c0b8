import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BrokerMessage } from '../../../src/broker/broker.ts';
import { type RedisBroker, createRedisBroker } from '../../../src/broker/redis.ts';
import { silentLogger } from '../../../src/log.ts';
import { uniquePrefix } from '../../../scripts/processes.ts';
import { startRedisCluster, type RedisCluster } from '../../setup/redis-cluster.ts';
import { brokerSuite, payload } from './suite.ts';

// The shared Broker contract against a real three-master Redis Cluster (sharded pub/sub), then what only the cluster
// broker does: one slot per location, one pipeline per shard, SSUBSCRIBE ref-counting, a master that crashes and
// comes back on the same port.

let cluster: RedisCluster;

beforeAll(async () => {
  cluster = await startRedisCluster();
});

afterAll(async () => {
  await cluster?.stop();
});

const make = (historyLength: number, prefix = uniquePrefix('cluster')): RedisBroker =>
  createRedisBroker({ nodes: cluster.nodes, prefix, historyLength, historyTtlMs: 60_000, log: silentLogger });

const until = async (what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what}: not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

const shardNumSub = async (port: number, channel: string): Promise<number> => {
  const reply = (await cluster.command(port, ['PUBSUB', 'SHARDNUMSUB', channel])) as [string, number];
  return reply[1];
};

brokerSuite('redis-cluster', async (historyLength) => ({ broker: make(historyLength) }));

describe('redis cluster broker specifics', () => {
  let prefix: string;
  let broker: RedisBroker;
  /** Three channel names whose slots sit on three different masters, found by asking the cluster. */
  let spread: { channel: string; port: number }[];

  beforeAll(async () => {
    const byPort = new Map<number, string>();
    for (const channel of ['london', 'paris', 'tokyo', 'sydney', 'new-york', 'cairo', 'lima', 'oslo', 'delhi']) {
      const port = await cluster.ownerOf(`{${channel}}`);
      if (!byPort.has(port)) byPort.set(port, channel);
    }
    spread = [...byPort].map(([port, channel]) => ({ channel, port }));
    expect(spread).toHaveLength(3);
  });

  beforeEach(async () => {
    prefix = uniquePrefix('cluster');
    broker = make(20, prefix);
    await until('broker ready', () => broker.ready());
  });
  afterEach(() => broker.close());

  it('is a redis-cluster broker', () => {
    expect(broker.kind).toBe('redis-cluster');
  });

  it('keeps a location’s channel and history on one slot, on the master that owns it', async () => {
    for (const { channel, port } of spread) {
      const skySlot = await cluster.command(port, ['CLUSTER', 'KEYSLOT', `${prefix}sky:{${channel}}`]);
      const historySlot = await cluster.command(port, ['CLUSTER', 'KEYSLOT', `${prefix}history:{${channel}}`]);
      expect(skySlot).toBe(historySlot);
      expect(await cluster.ownerOf(`${prefix}history:{${channel}}`)).toBe(port);
    }
    // One publish call spanning all three shards: every item lands in the history on its own master.
    const m = payload(1);
    const result = await broker.publish(spread.map(({ channel }) => ({ channel, ...m })));
    expect(result).toEqual({ published: 3, failed: [] });
    for (const { channel, port } of spread) {
      const entries = (await cluster.command(port, ['XRANGE', `${prefix}history:{${channel}}`, '-', '+'])) as [string, string[]][];
      expect(entries).toEqual([[`${m.id}-0`, ['data', m.data]]]);
      const ttl = (await cluster.command(port, ['PTTL', `${prefix}history:{${channel}}`])) as number;
      expect(ttl).toBeGreaterThan(50_000);
    }
  });

  it('one SSUBSCRIBE per channel on its owning master; the last local subscriber out releases it', async () => {
    const [{ channel, port }] = spread as [{ channel: string; port: number }];
    const key = `${prefix}sky:{${channel}}`;
    const offs = await Promise.all([1, 2, 3].map(() => broker.subscribe(channel, () => {})));
    expect(await shardNumSub(port, key)).toBe(1);
    offs[0]!();
    offs[1]!();
    expect(await shardNumSub(port, key)).toBe(1);
    offs[2]!();
    await until('SHARDNUMSUB drops to 0', async () => (await shardNumSub(port, key)) === 0);
    expect(broker.stats().channels).toBe(0);
  });

  it('drops unparsable live messages (counted) and keeps delivering the good ones', async () => {
    const { channel, port } = spread[1]!;
    const got: BrokerMessage[] = [];
    await broker.subscribe(channel, (m) => got.push(m));
    const key = `${prefix}sky:{${channel}}`;
    for (const junk of ['not json', '{"time":"yesterday"}', '[1,2]']) await cluster.command(port, ['SPUBLISH', key, junk]);
    await broker.publish([{ channel, ...payload(1) }]);
    await until('the good message', () => got.length === 1);
    expect(got).toEqual([payload(1)]);
    expect(broker.stats().unparsable).toBe(3);
  });

  it('after its shard subscriber connection is killed: SSUBSCRIBEs again and catches up with what it missed', async () => {
    const name = `orrery-test-${process.pid}-${Date.now()}`;
    await broker.close();
    broker = createRedisBroker({ nodes: cluster.nodes, prefix, historyLength: 20, historyTtlMs: 60_000, log: silentLogger, clientName: name });
    await until('broker ready', () => broker.ready());
    const { channel, port } = spread[2]!;
    const key = `${prefix}sky:{${channel}}`;
    const got: number[] = [];
    await broker.subscribe(channel, (m) => got.push(m.id));
    await broker.publish([{ channel, ...payload(1) }]);
    await until('first message', () => got.length === 1);
    // Stored but never announced: only a catch-up read can deliver it.
    const missed = payload(2);
    await cluster.command(port, ['XADD', `${prefix}history:{${channel}}`, `${missed.id}-0`, 'data', missed.data]);
    const clients = (await cluster.command(port, ['CLIENT', 'LIST'])) as string;
    const line = clients.split('\n').find((l) => l.includes('ssubscriber') && l.includes(name));
    expect(line, clients).toBeDefined();
    expect(await cluster.command(port, ['CLIENT', 'KILL', 'ID', /\bid=(\d+)/.exec(line!)![1]!])).toBe(1);
    await until('the missed message, caught up', () => got.length === 2, 10_000);
    await until('SSUBSCRIBEd again', async () => (await shardNumSub(port, key)) === 1);
    await broker.publish([{ channel, ...payload(3) }]);
    await until('live again', () => got.length === 3);
    expect(got).toEqual([1, 2, 3].map((n) => payload(n).id));
  });

  it('survives a master crash: other shards keep going, the lost one resumes after restart, a release during the outage sticks', async () => {
    const [down, other] = spread as [{ channel: string; port: number }, { channel: string; port: number }];
    // A second location on the shard that goes down: subscribed before the crash, released during it.
    const sibling = await (async () => {
      for (const channel of ['rome', 'madrid', 'berlin', 'vienna', 'dublin', 'lisbon', 'athens', 'prague', 'warsaw']) {
        if (channel !== down.channel && (await cluster.ownerOf(`{${channel}}`)) === down.port) return channel;
      }
      throw new Error('no second channel on the shard');
    })();
    const gotDown: number[] = [];
    const gotOther: number[] = [];
    await broker.subscribe(down.channel, (m) => gotDown.push(m.id));
    await broker.subscribe(other.channel, (m) => gotOther.push(m.id));
    const offSibling = await broker.subscribe(sibling, () => {});
    let n = 0;
    const tick = (): Promise<{ published: number; failed: number }> => {
      n++;
      return broker.publish([down, other].map(({ channel }) => ({ channel, ...payload(n) }))).then(
        (r) => ({ published: r.published, failed: r.failed.length }),
        () => ({ published: 0, failed: 2 }),
      );
    };
    expect(await tick()).toEqual({ published: 2, failed: 0 });
    await until('first tick delivered', () => gotDown.length === 1 && gotOther.length === 1);

    await cluster.kill(down.port);
    expect(await tick()).toEqual({ published: 1, failed: 1 });
    await until('the healthy shard keeps delivering', () => gotOther.length === 2);
    expect(broker.ready()).toBe(true);
    offSibling();

    await cluster.restart(down.port);
    // The restarted master is empty (no persistence): the next tick starts a fresh stream. One tick only, published as
    // soon as the shard takes writes again: it reaches the subscriber live or, if ioredis has not SSUBSCRIBEd again yet,
    // by the catch-up once it has.
    await until('the restarted shard takes writes', async () => (await tick()).published === 2, 10_000);
    const resumed = payload(n).id;
    await until('delivery from the restarted shard', () => gotDown.includes(resumed), 10_000);
    expect(gotDown).toEqual([...gotDown].sort((a, b) => a - b));
    expect(await shardNumSub(down.port, `${prefix}sky:{${down.channel}}`)).toBe(1);
    expect(await shardNumSub(down.port, `${prefix}sky:{${sibling}}`)).toBe(0);
    expect(await broker.latest(down.channel)).toEqual(payload(n));
  });
});
