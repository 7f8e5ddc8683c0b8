import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../log.ts';
import {
  BrokerClosedError,
  BrokerError,
  BrokerUnavailableError,
  decodeSnapshotMessage,
  type Broker,
  type BrokerMessage,
  type BrokerStats,
  type MessageHandler,
  type PublishItem,
  type PublishResult,
  type Unsubscribe,
} from './broker.ts';

// Redis: PUBLISH on `<prefix>sky:<channel>` for live delivery, XADD to the capped stream `<prefix>history:<channel>`
// (entry id `<ms>-0`, field `data`) for resume and latest. Two connections, because a subscribed connection can run
// nothing but (UN)SUBSCRIBE. One SUBSCRIBE per channel per process, reference-counted here; resubscription after a
// reconnect is ours rather than ioredis' (autoResubscribe off), so a channel released during an outage stays released.

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

interface ChannelEntry {
  handlers: Set<MessageHandler>;
  /** resolves when Redis confirmed the SUBSCRIBE for this entry */
  confirmed: Promise<unknown>;
  /** highest id delivered, so a re-delivery (two workers, backfill after a reconnect) is not passed on twice */
  lastId: number;
}

const HISTORY_FIELD = 'data';
/** Unparsable messages are counted each time but logged at most this often. */
const UNPARSABLE_LOG_INTERVAL_MS = 10_000;

export class RedisBroker implements Broker {
  readonly kind = 'redis' as const;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly channels = new Map<string, ChannelEntry>();
  private readonly skyPrefix: string;
  private readonly historyPrefix: string;
  private readonly log: Logger;
  private closed = false;
  private unparsable = 0;
  private lastUnparsableLog = 0;

  constructor(private readonly options: RedisBrokerOptions) {
    this.log = options.log.child({ component: 'broker' });
    this.skyPrefix = `${options.prefix}sky:`;
    this.historyPrefix = `${options.prefix}history:`;
    const common: RedisOptions = {
      // Fail fast instead of queueing: a tick that cannot go out now is worthless later, and a stream client is
      // better told to retry than left hanging.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResubscribe: false,
      autoResendUnfulfilledCommands: false,
      commandTimeout: options.commandTimeoutMs ?? 5000,
      connectTimeout: 5000,
      retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2000),
    };
    const name = options.clientName ?? 'orrery';
    this.pub = new Redis(options.url, { ...common, connectionName: `${name}-pub` });
    this.sub = new Redis(options.url, { ...common, connectionName: `${name}-sub` });
    this.watch(this.pub, 'publisher');
    this.watch(this.sub, 'subscriber');
    this.sub.on('message', (key: string, payload: string) => this.onMessage(key, payload));
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
      if (everUp) this.log.info({ role, downMs: Date.now() - downSince }, 'redis connection restored');
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

  private onMessage(key: string, payload: string): void {
    if (!key.startsWith(this.skyPrefix)) return;
    const entry = this.channels.get(key.slice(this.skyPrefix.length));
    if (!entry) return; // released while the message was in flight
    const message = decodeSnapshotMessage(payload);
    if (!message) {
      this.countUnparsable(key, payload.length);
      return;
    }
    this.deliver(entry, message);
  }

  private deliver(entry: ChannelEntry, message: BrokerMessage): void {
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

  private countUnparsable(key: string, length: number): void {
    this.unparsable++;
    const now = Date.now();
    if (now - this.lastUnparsableLog >= UNPARSABLE_LOG_INTERVAL_MS) {
      this.lastUnparsableLog = now;
      this.log.warn({ channel: key, length, total: this.unparsable }, 'dropped unparsable message');
    }
  }

  /** After a reconnect: SUBSCRIBE again to every channel with local handlers, then catch up on what the outage hid. */
  private resubscribe(): void {
    if (this.channels.size === 0 || this.closed) return;
    const entries = [...this.channels.entries()];
    const confirmed = this.sub.subscribe(...entries.map(([channel]) => this.skyKey(channel)));
    for (const [, entry] of entries) entry.confirmed = confirmed;
    confirmed.then(
      () => {
        this.log.info({ channels: entries.length }, 'resubscribed after reconnect');
        for (const [channel, entry] of entries) {
          this.latest(channel).then(
            (m) => m && this.channels.get(channel) === entry && this.deliver(entry, m),
            () => {},
          );
        }
      },
      (err: Error) => this.log.warn({ err: err.message }, 'resubscribe failed; will retry on the next reconnect'),
    );
  }

  private skyKey(channel: string): string {
    return this.skyPrefix + channel;
  }

  private historyKey(channel: string): string {
    return this.historyPrefix + channel;
  }

  private assertOpen(conn: Redis): void {
    if (this.closed) throw new BrokerClosedError();
    if (conn.status !== 'ready') throw new BrokerUnavailableError(`redis is not connected (${conn.status})`);
  }

  async publish(items: readonly PublishItem[]): Promise<PublishResult> {
    this.assertOpen(this.pub);
    const maxLen = String(this.options.historyLength);
    const ttl = this.options.historyTtlMs;
    // XADD before PUBLISH for each channel, on one connection: whoever receives a message finds it in the history.
    const pipeline = this.pub.pipeline();
    for (const { channel, id, data } of items) {
      const hkey = this.historyKey(channel);
      pipeline.xadd(hkey, 'MAXLEN', '~', maxLen, `${id}-0`, HISTORY_FIELD, data);
      pipeline.pexpire(hkey, ttl);
      pipeline.publish(this.skyKey(channel), data);
    }
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await pipeline.exec();
    } catch (err) {
      throw new BrokerUnavailableError(`publish failed: ${(err as Error).message}`);
    }
    if (!replies) throw new BrokerUnavailableError('publish failed: no reply');
    const result: PublishResult = { published: 0, failed: [] };
    items.forEach((item, i) => {
      const xaddError = replies![i * 3]?.[0];
      const publishError = replies![i * 3 + 2]?.[0];
      const err = xaddError ?? publishError;
      if (!err) result.published++;
      else result.failed.push({ channel: item.channel, id: item.id, reason: err.message });
    });
    if (result.published === 0 && result.failed.length > 0 && replies.some(([e]) => e && !isReplyError(e))) {
      throw new BrokerUnavailableError(`publish failed: ${result.failed[0]!.reason}`);
    }
    return result;
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe> {
    this.assertOpen(this.sub);
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { handlers: new Set(), confirmed: this.sub.subscribe(this.skyKey(channel)), lastId: 0 };
      this.channels.set(channel, entry);
    }
    const own: MessageHandler = (m) => handler(m);
    entry.handlers.add(own);
    const release = (): void => {
      entry.handlers.delete(own);
      if (entry.handlers.size > 0 || this.channels.get(channel) !== entry) return;
      this.channels.delete(channel);
      // Commands on one connection run in order, so an UNSUBSCRIBE queued behind a pending SUBSCRIBE wins.
      // While disconnected there is nothing to undo: the reconnect only resubscribes channels still in the map.
      if (this.sub.status === 'ready' && !this.closed) {
        this.sub.unsubscribe(this.skyKey(channel)).catch((err: Error) => {
          this.log.debug({ channel, err: err.message }, 'unsubscribe failed');
        });
      }
    };
    try {
      await entry.confirmed;
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

  async history(channel: string, afterId: number): Promise<BrokerMessage[]> {
    this.assertOpen(this.pub);
    const limit = Math.min(Math.max(this.options.historyLength * 2, 100), 100_000);
    const entries = await this.read(() =>
      this.pub.xrange(this.historyKey(channel), `(${afterId}-0`, '+', 'COUNT', limit),
    );
    return this.decodeEntries(channel, entries);
  }

  async latest(channel: string): Promise<BrokerMessage | undefined> {
    this.assertOpen(this.pub);
    const entries = await this.read(() => this.pub.xrevrange(this.historyKey(channel), '+', '-', 'COUNT', 1));
    return this.decodeEntries(channel, entries)[0];
  }

  private async read<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      if (isReplyError(err)) throw new BrokerError((err as Error).message);
      throw new BrokerUnavailableError(`redis read failed: ${(err as Error).message}`);
    }
  }

  private decodeEntries(channel: string, entries: [id: string, fields: string[]][]): BrokerMessage[] {
    const out: BrokerMessage[] = [];
    for (const [entryId, fields] of entries) {
      const data = fields[0] === HISTORY_FIELD ? fields[1] : undefined;
      const message = data === undefined ? undefined : decodeSnapshotMessage(data);
      // The stream entry id is the authority; a payload that disagrees with it is as unusable as one that does not parse.
      if (!message || `${message.id}-0` !== entryId) {
        this.countUnparsable(this.historyKey(channel), data?.length ?? 0);
        continue;
      }
      out.push(message);
    }
    return out;
  }

  ready(): boolean {
    return !this.closed && this.pub.status === 'ready' && this.sub.status === 'ready';
  }

  stats(): BrokerStats {
    return { unparsable: this.unparsable, channels: this.channels.size };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    await Promise.all([quit(this.pub), quit(this.sub)]);
  }
}

export function createRedisBroker(options: RedisBrokerOptions): RedisBroker {
  return new RedisBroker(options);
}

function isReplyError(err: unknown): boolean {
  return err instanceof Error && err.name === 'ReplyError';
}

/** QUIT when connected (lets in-flight replies arrive), otherwise just drop the socket and stop reconnecting. */
async function quit(conn: Redis): Promise<void> {
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

function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
