import { Redis, type RedisOptions } from 'ioredis';
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

// Redis: PUBLISH on `<prefix>sky:<channel>` for live delivery, XADD to the capped stream `<prefix>history:<channel>`
// (entry id `<ms>-0`, field `data`) for resume and latest. Two connections, because a subscribed connection can run
// nothing but (UN)SUBSCRIBE. One SUBSCRIBE per channel per process, reference-counted here; resubscription after a
// reconnect is ours rather than ioredis' (autoResubscribe off), so a channel released during an outage stays released.
// Key naming, the tick commands, history decoding and the reference counting are shared with the cluster broker
// (redis-common.ts).

export interface RedisBrokerOptions {
  url: string;
  /** prefix of every key and channel, e.g. `orrery:` */
  prefix: string;
  /** approximate number of entries kept per history stream (MAXLEN ~) */
  historyLength: number;
  /** history streams expire this long after their last write, so a stopped worker leaves nothing behind */
  historyTtlMs: number;
  log: Logger;
  /** a command that gets no reply within this time fails (default 5000) */
  commandTimeoutMs?: number;
  /** CLIENT SETNAME base, shown in CLIENT LIST as `<name>-pub` / `<name>-sub` (default `orrery`) */
  clientName?: string;
}

export class RedisBroker implements Broker {
  readonly kind = 'redis' as const;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly store: TickStore;
  private readonly subscriptions: LocalSubscriptions;
  private readonly unparsable: UnparsableCounter;
  private readonly log: Logger;
  private closed = false;
  private reconnects = 0;

  constructor(private readonly options: RedisBrokerOptions) {
    this.log = options.log.child({ component: 'broker' });
    this.store = {
      keys: redisKeys(options.prefix, { hashTag: false }),
      historyLength: options.historyLength,
      historyTtlMs: options.historyTtlMs,
    };
    this.unparsable = new UnparsableCounter(this.log);
    const common: RedisOptions = {
      // Fail fast instead of queueing: a tick that cannot go out now is worthless later, and a stream client is
      // better told to retry than left hanging.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResubscribe: false,
      autoResendUnfulfilledCommands: false,
      commandTimeout: options.commandTimeoutMs ?? 5000,
      connectTimeout: 5000,
      // At most half a second between attempts: live updates resume within about a second of Redis coming back.
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 4), 500),
    };
    const name = options.clientName ?? 'orrery';
    this.pub = new Redis(options.url, { ...common, connectionName: `${name}-pub` });
    this.sub = new Redis(options.url, { ...common, connectionName: `${name}-sub` });
    this.subscriptions = new LocalSubscriptions(
      {
        open: (channel) => this.sub.subscribe(this.store.keys.sky(channel)),
        close: (channel) => {
          // Commands on one connection run in order, so an UNSUBSCRIBE queued behind a pending SUBSCRIBE wins.
          // While disconnected there is nothing to undo: the reconnect only resubscribes channels still in the map.
          if (this.sub.status === 'ready' && !this.closed) {
            this.sub.unsubscribe(this.store.keys.sky(channel)).catch((err: Error) => {
              this.log.debug({ channel, err: err.message }, 'unsubscribe failed');
            });
          }
        },
      },
      this.log,
    );
    this.watch(this.pub, 'publisher');
    this.watch(this.sub, 'subscriber');
    this.sub.on('message', (key: string, payload: string) => {
      const channel = this.store.keys.channelOf(key);
      if (channel !== undefined) this.subscriptions.receive(channel, payload, this.unparsable, key);
    });
    this.sub.on('ready', () => this.resubscribe());
  }

  /** One warning when a connection is lost and one line when it is back: not one per retry or per tick. */
  private watch(conn: Redis, role: string): void {
    let up = false;
    let everUp = false;
    let downSince = Date.now();
    let lastError: string | undefined;
    let reportedUnreachable = false;
    conn.on('error', (err: Error) => {
      lastError = err.message;
      this.log.debug({ role, err: err.message }, 'redis connection error');
      if (!everUp && !reportedUnreachable && !this.closed) {
        reportedUnreachable = true;
        this.log.warn({ role, url: redactUrl(this.options.url), err: err.message }, 'redis unreachable; retrying');
      }
    });
    conn.on('ready', () => {
      if (everUp) {
        this.reconnects++;
        this.log.info({ role, downMs: Date.now() - downSince }, 'redis connection restored');
      }
      else this.log.info({ role, url: redactUrl(this.options.url) }, 'redis connected');
      up = true;
      everUp = true;
    });
    conn.on('close', () => {
      if (!up) return;
      up = false;
      downSince = Date.now();
      if (!this.closed) this.log.warn({ role, err: lastError }, 'redis connection lost; reconnecting');
    });
  }

  /**
   * After a reconnect: SUBSCRIBE again to every channel with local handlers, then catch up on what the outage hid
   * (every missed sky event, the newest snapshot).
   */
  private resubscribe(): void {
    if (this.subscriptions.size === 0 || this.closed) return;
    const entries = this.subscriptions.entries();
    const confirmed = this.sub.subscribe(...entries.map(([channel]) => this.store.keys.sky(channel)));
    for (const [, entry] of entries) entry.confirmed = confirmed;
    confirmed.then(
      () => {
        this.log.info({ channels: entries.length }, 'resubscribed after reconnect');
        this.subscriptions.catchUp(this);
      },
      (err: Error) => this.log.warn({ err: err.message }, 'resubscribe failed; will retry on the next reconnect'),
    );
  }

  private assertOpen(conn: Redis): void {
    if (this.closed) throw new BrokerClosedError();
    if (conn.status !== 'ready') throw new BrokerUnavailableError(`redis is not connected (${conn.status})`);
  }

  async publish(items: readonly PublishItem[]): Promise<PublishResult> {
    this.assertOpen(this.pub);
    // One pipeline on one connection: each item's XADD goes before its PUBLISH (see queueTick).
    const pipeline = this.pub.pipeline();
    for (const item of items) queueTick(pipeline, this.store, item, 'publish');
    const replies = await execPipeline(pipeline);
    const result: PublishResult = { published: 0, failed: [] };
    const unreachable = collectTickReplies(items, replies, result);
    assertSomePublished(result, unreachable);
    return result;
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe> {
    this.assertOpen(this.sub);
    return this.subscriptions.add(channel, handler);
  }

  async history(channel: string, afterId: number): Promise<BrokerMessage[]> {
    this.assertOpen(this.pub);
    const key = this.store.keys.history(channel);
    const entries = await this.read(() => this.pub.xrange(key, ...historyRangeArgs(afterId, this.options.historyLength)));
    return decodeHistory(entries, (length) => this.unparsable.count(key, length));
  }

  async latest(channel: string): Promise<BrokerMessage | undefined> {
    this.assertOpen(this.pub);
    const key = this.store.keys.history(channel);
    const entries = await this.read(() => this.pub.xrevrange(key, '+', '-', 'COUNT', 1));
    return decodeHistory(entries, (length) => this.unparsable.count(key, length))[0];
  }

  private async read<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      if (isReplyError(err)) throw new BrokerError((err as Error).message);
      throw new BrokerUnavailableError(`redis read failed: ${(err as Error).message}`);
    }
  }

  ready(): boolean {
    return !this.closed && this.pub.status === 'ready' && this.sub.status === 'ready';
  }

  stats(): BrokerStats {
    return { unparsable: this.unparsable.total, channels: this.subscriptions.size, reconnects: this.reconnects };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscriptions.clear();
    await Promise.all([quitGracefully(this.pub), quitGracefully(this.sub)]);
  }
}

export function createRedisBroker(options: RedisBrokerOptions): RedisBroker {
  return new RedisBroker(options);
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
