import type { RedisTarget } from '../config.ts';
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
import { LocalSubscriptions } from './local-subscriptions.ts';
import { ClusterTopology } from './redis-cluster.ts';
import { isUnavailable } from './redis-connection.ts';
import {
  UnparsableCounter,
  collectOutcome,
  decodeHistory,
  historyRangeArgs,
  queueMessage,
  redisKeys,
  runPipeline,
  type RedisLayout,
} from './redis-history.ts';
import { SingleServerTopology } from './redis-single.ts';
import type { RedisTopology } from './redis-topology.ts';

// The Redis broker, on one server or a Redis Cluster: (S)PUBLISH on `<prefix>sky:<channel>` for live delivery, XADD to
// the capped stream `<prefix>history:<channel>` (entry id `<ms>-0`, field `data`) for resume and latest. One server
// subscription per channel per process, reference-counted here, with a catch-up after every outage. What differs
// between one server and a cluster is behind the topology seam (redis-topology.ts); everything else is written once.

export type RedisBrokerOptions = RedisTarget & {
  /** prefix of every key and channel, e.g. `orrery:` */
  prefix: string;
  /** approximate number of entries kept per history stream (MAXLEN ~) */
  historyLength: number;
  /** history streams expire this long after their last write, so a stopped worker leaves nothing behind */
  historyTtlMs: number;
  log: Logger;
  /** a command that gets no reply within this time fails (default 5000) */
  commandTimeoutMs?: number;
  /** CLIENT SETNAME base, shown in CLIENT LIST (one server: `<name>-pub` / `<name>-sub`; default `orrery`) */
  clientName?: string;
};

export class RedisBroker implements Broker {
  readonly kind: RedisTopology['kind'];
  private readonly topology: RedisTopology;
  private readonly layout: RedisLayout;
  private readonly subscriptions: LocalSubscriptions;
  private readonly unparsable: UnparsableCounter;
  private readonly log: Logger;
  private closed = false;
  private reconnects = 0;

  constructor(options: RedisBrokerOptions) {
    this.log = options.log.child({ component: 'broker' });
    this.unparsable = new UnparsableCounter(this.log);
    const context = {
      log: this.log,
      commandTimeoutMs: options.commandTimeoutMs ?? 5000,
      clientName: options.clientName ?? 'orrery',
      events: {
        message: (key: string, payload: string) => this.receive(key, payload),
        subscriptionsLost: () => this.resubscribe(),
        subscriptionsRestored: () => this.subscriptions.catchUp(this),
        reconnected: () => this.reconnects++,
        isHeld: (key: string) => this.isHeld(key),
      },
    };
    this.topology = options.nodes ? new ClusterTopology(options.nodes, context) : new SingleServerTopology(options.url, context);
    this.kind = this.topology.kind;
    this.layout = {
      keys: redisKeys(options.prefix, { hashTag: this.topology.hashTag }),
      historyLength: options.historyLength,
      historyTtlMs: options.historyTtlMs,
    };
    this.subscriptions = new LocalSubscriptions(
      {
        open: (channel) => this.topology.subscribe(this.layout.keys.sky(channel)),
        close: (channel) => this.topology.release(this.layout.keys.sky(channel)),
      },
      this.log,
    );
  }

  private receive(key: string, payload: string): void {
    const channel = this.layout.keys.channelOf(key);
    if (channel !== undefined) this.subscriptions.receive(channel, payload, this.unparsable, key);
  }

  private isHeld(key: string): boolean {
    const channel = this.layout.keys.channelOf(key);
    return channel !== undefined && this.subscriptions.has(channel);
  }

  /**
   * After a reconnect that lost the server's subscriptions: subscribe again to every channel with local handlers, then
   * catch up on what the outage hid (every missed sky event, the newest snapshot).
   */
  private resubscribe(): void {
    if (this.subscriptions.size === 0 || this.closed) return;
    const entries = this.subscriptions.entries();
    const confirmed = this.topology.subscribe(...entries.map(([channel]) => this.layout.keys.sky(channel)));
    for (const [, entry] of entries) entry.confirmed = confirmed;
    confirmed.then(
      () => {
        this.log.info({ channels: entries.length }, 'resubscribed after reconnect');
        this.subscriptions.catchUp(this);
      },
      (err: Error) => this.log.warn({ err: err.message }, 'resubscribe failed; will retry on the next reconnect'),
    );
  }

  private assertReady(use: 'command' | 'subscribe'): void {
    if (this.closed) throw new BrokerClosedError();
    const reason = this.topology.notReady(use);
    if (reason) throw new BrokerUnavailableError(reason);
  }

  /**
   * Each group of the topology in one pipeline, all groups at once: XADD before (S)PUBLISH per item (queueMessage). A group
   * whose server is down fails only its items; nothing out and something unavailable is BrokerUnavailableError.
   */
  async publish(items: readonly PublishItem[]): Promise<PublishResult> {
    this.assertReady('command');
    const groups = this.topology.pipelineGroups(items, (item) => this.layout.keys.history(item.channel));
    const outcomes = await Promise.all(
      groups.map((group) => {
        const pipeline = this.topology.commands.pipeline();
        for (const item of group) queueMessage(pipeline, this.layout, item, this.topology.announce);
        return runPipeline(pipeline);
      }),
    );
    const result: PublishResult = { published: 0, failed: [] };
    let unavailable = false;
    outcomes.forEach((outcome, i) => {
      if (collectOutcome(groups[i]!, outcome, result)) unavailable = true;
    });
    if (result.published === 0 && result.failed.length > 0 && unavailable) {
      throw new BrokerUnavailableError(`publish failed: ${result.failed[0]!.reason}`);
    }
    return result;
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe> {
    this.assertReady('subscribe');
    return this.subscriptions.add(channel, handler);
  }

  async history(channel: string, afterId: number): Promise<BrokerMessage[]> {
    const key = this.layout.keys.history(channel);
    const range = historyRangeArgs(afterId, this.layout.historyLength);
    return this.readHistory(key, () => this.topology.commands.xrange(key, ...range));
  }

  async latest(channel: string): Promise<BrokerMessage | undefined> {
    const key = this.layout.keys.history(channel);
    return (await this.readHistory(key, () => this.topology.commands.xrevrange(key, '+', '-', 'COUNT', 1)))[0];
  }

  private async readHistory(key: string, command: () => Promise<[string, string[]][]>): Promise<BrokerMessage[]> {
    this.assertReady('command');
    let entries: [string, string[]][];
    try {
      entries = await command();
    } catch (err) {
      if (!isUnavailable(err as Error)) throw new BrokerError((err as Error).message);
      throw new BrokerUnavailableError(`${this.topology.label} read failed: ${(err as Error).message}`);
    }
    return decodeHistory(entries, (length) => this.unparsable.count(key, length));
  }

  ready(): boolean {
    return !this.closed && !this.topology.notReady('command') && !this.topology.notReady('subscribe');
  }

  stats(): BrokerStats {
    return { unparsable: this.unparsable.total, channels: this.subscriptions.size, reconnects: this.reconnects };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscriptions.clear();
    await this.topology.close();
  }
}

export function createRedisBroker(options: RedisBrokerOptions): RedisBroker {
  return new RedisBroker(options);
}
