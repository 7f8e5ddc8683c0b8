import type { ChainableCommander } from 'ioredis';
import type { Logger } from '../log.ts';
import {
  BrokerUnavailableError,
  decodeMessage,
  encodeMessage,
  SKY_EVENT,
  type BrokerMessage,
  type MessageHandler,
  type PublishItem,
  type PublishResult,
  type Unsubscribe,
} from './broker.ts';

// What the one-Redis broker (redis.ts) and the Redis Cluster broker (redis-cluster.ts) have in common: key naming, the
// commands that store and announce one tick, reading the history back, local reference counting of channels, and
// counting what cannot be decoded. Only the transport differs (PUBLISH/SUBSCRIBE on one server; SPUBLISH/SSUBSCRIBE
// per shard).

/** The one field of a history stream entry. */
export const HISTORY_FIELD = 'data';
/** Unparsable messages are counted each time but logged at most this often. */
const UNPARSABLE_LOG_INTERVAL_MS = 10_000;

export interface RedisKeys {
  /** the pub/sub channel of a grid location */
  sky(channel: string): string;
  /** the capped stream that keeps its recent ticks */
  history(channel: string): string;
  /** the grid location of a pub/sub channel name, or undefined when it is not one of ours */
  channelOf(skyKey: string): string | undefined;
}

/**
 * `<prefix>sky:<id>` and `<prefix>history:<id>`. With `hashTag` (Redis Cluster) the id is wrapped in `{}`, so a location's
 * channel and history hash to one slot: they live on one shard, and locations spread over the shards.
 */
export function redisKeys(prefix: string, { hashTag }: { hashTag: boolean }): RedisKeys {
  const skyPrefix = `${prefix}sky:`;
  const historyPrefix = `${prefix}history:`;
  const [open, close] = hashTag ? ['{', '}'] : ['', ''];
  return {
    sky: (channel) => `${skyPrefix}${open}${channel}${close}`,
    history: (channel) => `${historyPrefix}${open}${channel}${close}`,
    channelOf: (key) => {
      if (!key.startsWith(skyPrefix + open) || !key.endsWith(close)) return undefined;
      return key.slice(skyPrefix.length + open.length, key.length - close.length);
    },
  };
}

export interface TickStore {
  keys: RedisKeys;
  /** approximate number of entries kept per history stream (MAXLEN ~) */
  historyLength: number;
  /** history streams expire this long after their last write */
  historyTtlMs: number;
}

/** Commands queued per item by queueTick: XADD, PEXPIRE, (S)PUBLISH. */
const COMMANDS_PER_ITEM = 3;

/**
 * Queues one item: XADD to the capped history (entry id `<ms>-0`), refresh its expiry, then announce it. XADD before
 * the announcement on one connection: whoever receives a message finds it in the history.
 */
export function queueTick(
  pipeline: ChainableCommander,
  store: TickStore,
  item: PublishItem,
  announce: 'publish' | 'spublish',
): void {
  const { channel, id } = item;
  const data = encodeMessage(item);
  const hkey = store.keys.history(channel);
  pipeline.xadd(hkey, 'MAXLEN', '~', String(store.historyLength), `${id}-0`, HISTORY_FIELD, data);
  pipeline.pexpire(hkey, store.historyTtlMs);
  pipeline[announce](store.keys.sky(channel), data);
}

export type PipelineReplies = [Error | null, unknown][];

/** Adds the outcome of `items` (queued in order by queueTick) to `result`; returns whether any error was not a reply. */
export function collectTickReplies(items: readonly PublishItem[], replies: PipelineReplies, result: PublishResult): boolean {
  items.forEach((item, i) => {
    const xaddError = replies[i * COMMANDS_PER_ITEM]?.[0];
    const publishError = replies[i * COMMANDS_PER_ITEM + 2]?.[0];
    const err = xaddError ?? publishError;
    if (!err) result.published++;
    else result.failed.push({ channel: item.channel, id: item.id, reason: err.message });
  });
  return replies.some(([e]) => e && !isReplyError(e));
}

/** Runs a queued pipeline; a transport failure (not a per-command reply) is BrokerUnavailableError. */
export async function execPipeline(pipeline: ChainableCommander): Promise<PipelineReplies> {
  let replies: PipelineReplies | null;
  try {
    replies = await pipeline.exec();
  } catch (err) {
    throw new BrokerUnavailableError(`publish failed: ${(err as Error).message}`);
  }
  if (!replies) throw new BrokerUnavailableError('publish failed: no reply');
  return replies;
}

/** Nothing went out and something failed for want of a server: the caller should skip, not count refusals. */
export function assertSomePublished(result: PublishResult, unreachable: boolean): void {
  if (result.published === 0 && result.failed.length > 0 && unreachable) {
    throw new BrokerUnavailableError(`publish failed: ${result.failed[0]!.reason}`);
  }
}

/** XRANGE arguments after the key: entries after `afterId`, bounded so one resume cannot pull an unbounded reply. */
export function historyRangeArgs(afterId: number, historyLength: number): [string, string, 'COUNT', number] {
  const limit = Math.min(Math.max(historyLength * 2, 100), 100_000);
  return [`(${afterId}-0`, '+', 'COUNT', limit];
}

/**
 * Stream entries → messages, oldest first as given. The stream entry id is the authority; a payload that disagrees
 * with it is as unusable as one that does not parse, and is counted, not returned.
 */
export function decodeHistory(
  entries: [id: string, fields: string[]][],
  onUnusable: (length: number) => void,
): BrokerMessage[] {
  const out: BrokerMessage[] = [];
  for (const [entryId, fields] of entries) {
    const data = fields[0] === HISTORY_FIELD ? fields[1] : undefined;
    const message = data === undefined ? undefined : decodeMessage(data);
    if (!message || `${message.id}-0` !== entryId) {
      onUnusable(data?.length ?? 0);
      continue;
    }
    out.push(message);
  }
  return out;
}

export function isReplyError(err: unknown): boolean {
  return err instanceof Error && err.name === 'ReplyError';
}

/** Counts undecodable payloads, logging at most one line per interval (a broken publisher must not flood the log). */
export class UnparsableCounter {
  total = 0;
  private lastLog = 0;

  constructor(private readonly log: Logger) {}

  count(key: string, length: number): void {
    this.total++;
    const now = Date.now();
    if (now - this.lastLog >= UNPARSABLE_LOG_INTERVAL_MS) {
      this.lastLog = now;
      this.log.warn({ channel: key, length, total: this.total }, 'dropped unparsable message');
    }
  }
}

export interface ChannelEntry {
  handlers: Set<MessageHandler>;
  /** resolves when the server confirmed the subscription for this entry */
  confirmed: Promise<unknown>;
  /** highest id delivered, so a re-delivery (two workers, backfill after a reconnect) is not passed on twice */
  lastId: number;
}

/** How LocalSubscriptions reaches the server: one remote subscription per channel with local handlers. */
export interface SubscriptionTransport {
  /** Subscribes `channel` on the server; resolves once confirmed. */
  open(channel: string): Promise<unknown>;
  /** The last local handler of `channel` is gone: drop the server-side subscription (best effort, never throws). */
  close(channel: string): void;
}

/**
 * One server subscription per channel per process, however many local handlers; the last handler releases it.
 * Messages reach handlers once each, in increasing id order per channel.
 */
export class LocalSubscriptions {
  private readonly channels = new Map<string, ChannelEntry>();

  constructor(
    private readonly transport: SubscriptionTransport,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.channels.size;
  }

  /** Entries with local handlers, for resubscribing and catching up after a reconnect. */
  entries(): [string, ChannelEntry][] {
    return [...this.channels.entries()];
  }

  /** Whether `entry` is still the live subscription of `channel` (not released and subscribed again since). */
  isCurrent(channel: string, entry: ChannelEntry): boolean {
    return this.channels.get(channel) === entry;
  }

  has(channel: string): boolean {
    return this.channels.has(channel);
  }

  async add(channel: string, handler: MessageHandler): Promise<Unsubscribe> {
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { handlers: new Set(), confirmed: this.transport.open(channel), lastId: 0 };
      this.channels.set(channel, entry);
    }
    const current = entry;
    // A wrapper, so subscribing the same function twice gives two independent subscriptions.
    const own: MessageHandler = (m) => handler(m);
    current.handlers.add(own);
    const release = (): void => {
      current.handlers.delete(own);
      if (current.handlers.size > 0 || this.channels.get(channel) !== current) return;
      this.channels.delete(channel);
      this.transport.close(channel);
    };
    try {
      await current.confirmed;
    } catch (err) {
      release();
      throw new BrokerUnavailableError(`subscribe to ${channel} failed: ${(err as Error).message}`);
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      release();
    };
  }

  /** A live payload for `channel`: decoded and delivered, or counted as unparsable. */
  receive(channel: string, payload: string, unparsable: UnparsableCounter, key: string): void {
    const entry = this.channels.get(channel);
    if (!entry) return; // released while the message was in flight
    const message = decodeMessage(payload);
    if (!message) {
      unparsable.count(key, payload.length);
      return;
    }
    this.deliver(entry, message);
  }

  deliver(entry: ChannelEntry, message: BrokerMessage): void {
    if (message.id <= entry.lastId) return;
    entry.lastId = message.id;
    for (const h of [...entry.handlers]) {
      try {
        h(message);
      } catch (err) {
        this.log.error({ err }, 'stream handler threw');
      }
    }
  }

  clear(): void {
    this.channels.clear();
  }

  /**
   * After a reconnect: what the outage hid from each channel with local handlers. Every sky event after the last id
   * delivered (a happening is never skipped) and the newest snapshot (older ones are worthless once it exists); or,
   * for a channel that has delivered nothing yet, the newest stored message.
   */
  catchUp(reader: {
    history(channel: string, afterId: number): Promise<BrokerMessage[]>;
    latest(channel: string): Promise<BrokerMessage | undefined>;
  }): void {
    for (const [channel, entry] of this.entries()) {
      const read = entry.lastId > 0 ? reader.history(channel, entry.lastId) : reader.latest(channel).then((m) => (m ? [m] : []));
      read.then(
        (missed) => {
          if (!this.isCurrent(channel, entry)) return;
          let lastSnapshot = -1;
          missed.forEach((m, i) => m.event !== SKY_EVENT && (lastSnapshot = i));
          missed.forEach((m, i) => (m.event === SKY_EVENT || i === lastSnapshot) && this.deliver(entry, m));
        },
        () => {},
      );
    }
  }
}

/** QUIT when connected (lets in-flight replies arrive), otherwise just drop the sockets and stop reconnecting. */
export async function quitGracefully(conn: { status: string; quit(): Promise<unknown>; disconnect(): void }): Promise<void> {
  if (conn.status !== 'ready') {
    conn.disconnect();
    return;
  }
  const timer = setTimeout(() => conn.disconnect(), 1000);
  try {
    await conn.quit();
  } catch {
    conn.disconnect();
  } finally {
    clearTimeout(timer);
  }
}
