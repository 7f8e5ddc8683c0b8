import calculateSlot from 'cluster-key-slot';
import { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from '../log.ts';
import {
  BrokerClosedError,
  BrokerError,
  BrokerUnavailableError,
  type Broker,
  type BrokerMessage,
  type BrokerStats,
  type MessageHandler,
  type PublishItem,
  type PublishResult,
  type Unsubscribe,
} from './broker.ts';
import {
  LocalSubscriptions,
  UnparsableCounter,
  assertSomePublished,
  collectTickReplies,
  decodeHistory,
  execPipeline,
  historyRangeArgs,
  isReplyError,
  queueTick,
  quitGracefully,
  redisKeys,
  type TickStore,
} from './redis-common.ts';

// Redis Cluster with sharded pub/sub, for when one Redis is the limit. A location's channel and history share one hash
// slot (`<prefix>sky:{london}`, `<prefix>history:{london}`), so its traffic and history live on one shard and adding
// shards spreads locations. Live delivery is SPUBLISH/SSUBSCRIBE: a shard's messages stay on that shard (classic
// PUBLISH is broadcast over the cluster bus to every node, which is what stops a classic cluster from scaling).
//
// One ioredis Cluster with `shardedSubscribers`: it keeps one subscriber connection per master, routes SSUBSCRIBE to the
// master owning the channel's slot, and after a subscriber connection is lost it replaces it (slot refresh, backoff) and
// SSUBSCRIBEs again everything it holds. We keep the local reference counts, release channels, and catch up on what
// an outage hid once ioredis reports its subscribers ready again.

export interface RedisClusterBrokerOptions {
  /** seed nodes; the rest of the cluster is discovered from them */
  nodes: readonly { host: string; port: number }[];
  /** prefix of every key and channel, e.g. `orrery:` */
  prefix: string;
  /** approximate number of entries kept per history stream (MAXLEN ~) */
  historyLength: number;
  /** history streams expire this long after their last write, so a stopped worker leaves nothing behind */
  historyTtlMs: number;
  log: Logger;
  /** a command that gets no reply within this time fails (default 5000) */
  commandTimeoutMs?: number;
  /** CLIENT SETNAME base (default `orrery`) */
  clientName?: string;
}

/** Errors that say "this shard cannot serve right now", as opposed to a refusal of one command. */
const UNAVAILABLE_REPLY = /^(CLUSTERDOWN|TRYAGAIN|MOVED|ASK|LOADING|MASTERDOWN|READONLY)\b/;
const unavailable = (err: Error): boolean => !isReplyError(err) || UNAVAILABLE_REPLY.test(err.message);
/** A node that keeps failing is reported at most this often. */
const NODE_WARN_INTERVAL_MS = 10_000;

/** How often the slot map is asked for while all is well; a failing node asks at once. */
export const SLOTS_REFRESH_MS = 1000;

const backoff = (attempt: number): number => Math.min(100 * 2 ** Math.min(attempt, 5), 2000);

export class RedisClusterBroker implements Broker {
  readonly kind = 'redis-cluster' as const;
  private readonly cluster: Cluster;
  private readonly store: TickStore;
  private readonly subscriptions: LocalSubscriptions;
  private readonly unparsable: UnparsableCounter;
  private readonly log: Logger;
  /** channels released while the cluster was not ready: SUNSUBSCRIBE them once it is */
  private readonly releaseLater = new Set<string>();
  private readonly nodeWarnedAt = new Map<string, number>();
  private closed = false;
  private reconnects = 0;

  constructor(private readonly options: RedisClusterBrokerOptions) {
    this.log = options.log.child({ component: 'broker' });
    this.store = {
      keys: redisKeys(options.prefix, { hashTag: true }),
      historyLength: options.historyLength,
      historyTtlMs: options.historyTtlMs,
    };
    this.unparsable = new UnparsableCounter(this.log);
    const redisOptions: RedisOptions = {
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: options.commandTimeoutMs ?? 5000,
      connectTimeout: 5000,
      connectionName: options.clientName ?? 'orrery',
    };
    const clusterOptions: ClusterOptions = {
      shardedSubscribers: true,
      redisOptions,
      // Fail fast rather than queue or retry: a tick that cannot go out now is worthless later, the next one follows,
      // and a stream client is better told to retry than left hanging. Redirections (MOVED/ASK) are still followed.
      enableOfflineQueue: false,
      retryDelayOnFailover: 0,
      retryDelayOnClusterDown: 0,
      clusterRetryStrategy: backoff,
      // A node connection that drops reconnects by itself (a restarted master on the same address comes back).
      clusterNodeRetryStrategy: backoff,
      slotsRefreshTimeout: 2000,
      // A master that dies does not answer MOVED: without asking again, ioredis keeps sending its slots' commands and
      // subscriptions to the dead address long after its replica took over. Asked every second (one CLUSTER SLOTS),
      // and at once when a node connection fails (nodeTrouble).
      slotsRefreshInterval: SLOTS_REFRESH_MS,
    };
    this.cluster = new Cluster(
      options.nodes.map((n) => ({ host: n.host, port: n.port })),
      clusterOptions,
    );
    this.subscriptions = new LocalSubscriptions(
      {
        open: (channel) => this.cluster.ssubscribe(this.store.keys.sky(channel)),
        close: (channel) => this.release(channel),
      },
      this.log,
    );
    this.cluster.on('smessage', (key: string, payload: string) => {
      const channel = this.store.keys.channelOf(key);
      if (channel !== undefined) this.subscriptions.receive(channel, payload, this.unparsable, key);
    });
    // ioredis has SSUBSCRIBEd again on replaced subscriber connections: deliver what the outage hid.
    this.cluster.on('subscribersReady', () => this.catchUp());
    this.watch();
  }

  /** One line when the cluster is lost or back, and a rate-limited warning per failing node: not one per retry. */
  private watch(): void {
    const nodes = this.options.nodes.map((n) => `${n.host}:${n.port}`);
    let everUp = false;
    let up = false;
    let downSince = Date.now();
    this.cluster.on('ready', () => {
      if (everUp) {
        this.reconnects++;
        this.log.info({ downMs: Date.now() - downSince }, 'redis cluster connection restored');
      }
      else this.log.info({ nodes }, 'redis cluster connected');
      everUp = up = true;
      this.releasePending();
    });
    this.cluster.on('close', () => {
      if (!up) return;
      up = false;
      downSince = Date.now();
      if (!this.closed) this.log.warn('redis cluster connection lost; reconnecting');
    });
    // 'error' carries cluster-wide failures (no startup node reachable, a subscriber that cannot connect); without a
    // listener an EventEmitter 'error' would crash the process.
    this.cluster.on('error', (err: Error) => this.nodeTrouble('cluster', err));
    this.cluster.on('node error', (err: Error, node: string) => this.nodeTrouble(node, err));
    this.cluster.on('nodeError', (err: Error, node: string) => this.nodeTrouble(node, err));
  }

  private nodeTrouble(node: string, err: Error): void {
    this.log.debug({ node, err: err.message }, 'redis cluster error');
    if (this.closed) return;
    // Maybe a failover: learn who owns the slots now (ioredis runs one refresh at a time and queues the rest).
    if (!isReplyError(err)) this.cluster.refreshSlotsCache(() => {});
    const now = Date.now();
    if (now - (this.nodeWarnedAt.get(node) ?? 0) < NODE_WARN_INTERVAL_MS) return;
    this.nodeWarnedAt.set(node, now);
    this.log.warn({ node, err: err.message }, 'redis cluster node unreachable; retrying');
  }

  /** Every channel with local handlers gets the sky events it missed and the newest snapshot (see LocalSubscriptions). */
  private catchUp(): void {
    if (this.closed || this.cluster.status !== 'ready') return;
    this.subscriptions.catchUp(this);
  }

  private release(channel: string): void {
    if (this.closed) return;
    // While the cluster is down ioredis would not even record the release, and would SSUBSCRIBE the channel again on
    // reconnect: remember it and release it once connected.
    if (this.cluster.status !== 'ready') {
      this.releaseLater.add(channel);
      return;
    }
    this.sunsubscribe(channel);
  }

  private releasePending(): void {
    for (const channel of this.releaseLater) {
      if (!this.subscriptions.has(channel)) this.sunsubscribe(channel);
    }
    this.releaseLater.clear();
  }

  private sunsubscribe(channel: string): void {
    // Sent even when the shard's subscriber is down: ioredis drops the channel from the set it resubscribes first.
    // Commands on one subscriber connection run in order, so an SUNSUBSCRIBE behind a pending SSUBSCRIBE wins.
    try {
      this.cluster.sunsubscribe(this.store.keys.sky(channel)).catch((err: Error) => {
        this.log.debug({ channel, err: err.message }, 'sunsubscribe failed');
      });
    } catch (err) {
      this.log.debug({ channel, err: (err as Error).message }, 'sunsubscribe failed');
    }
  }

  private assertReady(): void {
    if (this.closed) throw new BrokerClosedError();
    if (this.cluster.status !== 'ready') throw new BrokerUnavailableError(`redis cluster is not connected (${this.cluster.status})`);
  }

  /**
   * Items grouped by the master that owns their slot, one pipeline per master, all masters at once: one round trip per
   * shard (a MULTI cannot span slots, and a pipeline cannot span nodes). A shard that is down fails only its items.
   */
  async publish(items: readonly PublishItem[]): Promise<PublishResult> {
    this.assertReady();
    const groups = new Map<string, PublishItem[]>();
    for (const item of items) {
      const slot = calculateSlot(this.store.keys.history(item.channel));
      const owner = this.cluster.slots[slot]?.[0] ?? `slot ${slot}`;
      let group = groups.get(owner);
      if (!group) groups.set(owner, (group = []));
      group.push(item);
    }
    const outcomes = await Promise.all(
      [...groups.values()].map(async (group) => {
        const pipeline = this.cluster.pipeline();
        for (const item of group) queueTick(pipeline, this.store, item, 'spublish');
        try {
          return { group, replies: await execPipeline(pipeline) };
        } catch (err) {
          return { group, error: err as Error };
        }
      }),
    );
    const result: PublishResult = { published: 0, failed: [] };
    let unreachable = false;
    for (const outcome of outcomes) {
      if (outcome.replies) {
        collectTickReplies(outcome.group, outcome.replies, result);
        if (outcome.replies.some(([e]) => e && unavailable(e))) unreachable = true;
      } else {
        unreachable = true;
        for (const { channel, id } of outcome.group) result.failed.push({ channel, id, reason: outcome.error.message });
      }
    }
    assertSomePublished(result, unreachable);
    return result;
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe> {
    this.assertReady();
    return this.subscriptions.add(channel, handler);
  }

  async history(channel: string, afterId: number): Promise<BrokerMessage[]> {
    this.assertReady();
    const key = this.store.keys.history(channel);
    const entries = await this.read(() => this.cluster.xrange(key, ...historyRangeArgs(afterId, this.options.historyLength)));
    return decodeHistory(entries, (length) => this.unparsable.count(key, length));
  }

  async latest(channel: string): Promise<BrokerMessage | undefined> {
    this.assertReady();
    const key = this.store.keys.history(channel);
    const entries = await this.read(() => this.cluster.xrevrange(key, '+', '-', 'COUNT', 1));
    return decodeHistory(entries, (length) => this.unparsable.count(key, length))[0];
  }

  private async read<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      if (!unavailable(err as Error)) throw new BrokerError((err as Error).message);
      throw new BrokerUnavailableError(`redis cluster read failed: ${(err as Error).message}`);
    }
  }

  ready(): boolean {
    return !this.closed && this.cluster.status === 'ready';
  }

  stats(): BrokerStats {
    return { unparsable: this.unparsable.total, channels: this.subscriptions.size, reconnects: this.reconnects };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscriptions.clear();
    this.releaseLater.clear();
    await quitGracefully(this.cluster);
  }
}

export function createRedisClusterBroker(options: RedisClusterBrokerOptions): RedisClusterBroker {
  return new RedisClusterBroker(options);
}

/** `host:port,host:port` (validated by src/config.ts) → seed nodes. */
export function parseClusterNodes(value: string): { host: string; port: number }[] {
  return value.split(',').map((seed) => {
    const colon = seed.lastIndexOf(':');
    return { host: seed.slice(0, colon), port: Number(seed.slice(colon + 1)) };
  });
}
