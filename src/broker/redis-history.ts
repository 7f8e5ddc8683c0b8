import type { ChainableCommander } from 'ioredis';
import type { Logger } from '../log.ts';
import { decodeMessage, encodeMessage, type BrokerMessage, type PublishItem, type PublishResult } from './broker.ts';
import { isUnavailable } from './redis-connection.ts';

// What the Redis broker stores and how, whatever the topology: key naming, the commands that store and announce one
// message, reading the history back, and counting what cannot be decoded.

/** The one field of a history stream entry. */
const HISTORY_FIELD = 'data';
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

/** Where and how long the broker keeps messages: the key names, the history cap and its expiry. */
export interface RedisLayout {
  keys: RedisKeys;
  /** approximate number of entries kept per history stream (MAXLEN ~) */
  historyLength: number;
  /** history streams expire this long after their last write */
  historyTtlMs: number;
}

/** Commands queued per item by queueMessage: XADD, PEXPIRE, (S)PUBLISH. */
const COMMANDS_PER_ITEM = 3;

/**
 * Queues one item: XADD to the capped history (entry id `<ms>-0`), refresh its expiry, then announce it. XADD before
 * the announcement on one connection: whoever receives a message finds it in the history.
 */
export function queueMessage(
  pipeline: ChainableCommander,
  layout: RedisLayout,
  item: PublishItem,
  announce: 'publish' | 'spublish',
): void {
  const { channel, id } = item;
  const data = encodeMessage(item);
  const hkey = layout.keys.history(channel);
  pipeline.xadd(hkey, 'MAXLEN', '~', String(layout.historyLength), `${id}-0`, HISTORY_FIELD, data);
  pipeline.pexpire(hkey, layout.historyTtlMs);
  pipeline[announce](layout.keys.sky(channel), data);
}

/** The outcome of one pipeline of queued messages: its replies, or the error that sank it whole. */
export type PipelineOutcome = { replies: [Error | null, unknown][] } | { error: Error };

export async function runPipeline(pipeline: ChainableCommander): Promise<PipelineOutcome> {
  try {
    const replies = await pipeline.exec();
    return replies ? { replies } : { error: new Error('no reply') };
  } catch (err) {
    return { error: err as Error };
  }
}

/**
 * Adds the outcome of `items` (queued in order by queueMessage) to `result`; returns whether anything failed because the
 * backend could not serve (rather than refused one item).
 */
export function collectOutcome(items: readonly PublishItem[], outcome: PipelineOutcome, result: PublishResult): boolean {
  if ('error' in outcome) {
    for (const { channel, id } of items) result.failed.push({ channel, id, reason: outcome.error.message });
    return true;
  }
  const { replies } = outcome;
  items.forEach((item, i) => {
    const err = replies[i * COMMANDS_PER_ITEM]?.[0] ?? replies[i * COMMANDS_PER_ITEM + 2]?.[0];
    if (!err) result.published++;
    else result.failed.push({ channel: item.channel, id: item.id, reason: err.message });
  });
  return replies.some(([e]) => e && isUnavailable(e));
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
