// The seam between the tick publisher and the API nodes' fan-out. Implementations chosen at start-up (index.ts):
// memory.ts (no REDIS_URL: one process) and redis.ts (pub/sub + a capped stream per channel), on one server
// (REDIS_URL, redis-single.ts) or a Redis Cluster (REDIS_CLUSTER_NODES, sharded pub/sub, redis-cluster.ts).
// A channel is a grid location id; implementations add their own naming (prefix, `sky:`, `history:`).
// Payloads are opaque strings (the SSE `data` line); ids are epoch ms and increase per channel: a snapshot's is its
// tick instant, a sky event's its own instant (between two ticks), so both share one rising sequence per channel.

/** The SSE event name of a happening; a message without `event` is a snapshot (`event: update`). */
export const SKY_EVENT = 'sky-event';

export interface BrokerMessage {
  /** epoch ms: the tick instant of a snapshot, the instant of a sky event; also the SSE `id` */
  id: number;
  /** the SSE `data` payload (Snapshot or Happening JSON on one line) */
  data: string;
  /** `sky-event` for a happening; absent for a snapshot */
  event?: typeof SKY_EVENT;
}

/**
 * A message that carries the value its `data` encodes (equal to JSON.parse(data)), from a broker that made the text
 * from that value on this node (spots/spot-broker.ts): the delta encoder (hub/delta.ts) reads the value instead of
 * parsing the text back, which would cost more than making the snapshot did. The value is shared: never modified.
 */
export interface ValueMessage extends BrokerMessage {
  readonly value: object;
}

export const hasValue = (m: BrokerMessage): m is ValueMessage => 'value' in m;

export interface PublishItem extends BrokerMessage {
  channel: string;
}

export interface PublishResult {
  /** items stored in the history and sent live */
  published: number;
  /** items refused one by one (e.g. an id not above the channel's last one); the others still went out */
  failed: { channel: string; id: number; reason: string }[];
}

export type MessageHandler = (message: BrokerMessage) => void;
export type Unsubscribe = () => void;

export interface BrokerStats {
  /** live messages dropped because they could not be decoded */
  unparsable: number;
  /** channels this process is subscribed to */
  channels: number;
  /** connections to the backend restored after a loss (absent for the memory broker) */
  reconnects?: number;
}

export interface Broker {
  readonly kind: 'memory' | 'redis' | 'redis-cluster';
  /** Stores each item in its channel's history and delivers it live, all in one round trip. */
  publish(items: readonly PublishItem[]): Promise<PublishResult>;
  /**
   * Resolves once live delivery is in place (every message published after that reaches `handler`).
   * The returned function is idempotent; the last local handler of a channel releases the channel.
   */
  subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe>;
  /** Stored messages with id > afterId, oldest first. */
  history(channel: string, afterId: number): Promise<BrokerMessage[]>;
  /** The newest stored message, or undefined when the channel has none. */
  latest(channel: string): Promise<BrokerMessage | undefined>;
  /** Whether publish/subscribe/history can work right now (for /readyz and the worker's skip logic). */
  ready(): boolean;
  stats(): BrokerStats;
  close(): Promise<void>;
}

/**
 * A broker that answers latest() for some channels from what it holds on this node, with no round trip
 * (spots/spot-broker.ts computes a spot's from the frame it keeps): the hub keeps no copy of those channels' newest
 * message. A copy per channel, replaced every tick, lives just long enough to reach the old generation, and for
 * thousands of one-viewer channels the garbage collector's work on those copies outweighs everything else.
 */
export interface LatestAtHand {
  latestAtHand(channel: string): boolean;
}

export const hasLatestAtHand = (broker: Broker): broker is Broker & LatestAtHand => 'latestAtHand' in broker;

export class BrokerError extends Error {
  override name = 'BrokerError';
}

/** The broker cannot reach its backend right now; callers skip or tell the client to retry. */
export class BrokerUnavailableError extends BrokerError {
  override name = 'BrokerUnavailableError';
}

export class BrokerClosedError extends BrokerError {
  override name = 'BrokerClosedError';
  constructor() {
    super('broker is closed');
  }
}

const SKY_EVENT_PREFIX = `${SKY_EVENT} `;

/**
 * A message as one Redis string (pub/sub payload, history entry): a snapshot is its JSON as is (its id is its `time`);
 * a sky event is `sky-event <id> <json>`, its id spelt out since it is not derived from the JSON.
 */
export function encodeMessage(m: BrokerMessage): string {
  return m.event === SKY_EVENT ? `${SKY_EVENT_PREFIX}${m.id} ${m.data}` : m.data;
}

/** encodeMessage() reversed; undefined when the payload is unusable. */
export function decodeMessage(payload: string): BrokerMessage | undefined {
  if (!payload.startsWith(SKY_EVENT_PREFIX)) return decodeSnapshotMessage(payload);
  const space = payload.indexOf(' ', SKY_EVENT_PREFIX.length);
  if (space < 0) return undefined;
  const id = Number(payload.slice(SKY_EVENT_PREFIX.length, space));
  const data = payload.slice(space + 1);
  if (!Number.isSafeInteger(id) || id < 0 || data[0] !== '{') return undefined;
  return { id, data, event: SKY_EVENT };
}

/** Decodes a live or stored payload: a JSON object whose `time` is the tick instant. Undefined if unusable. */
function decodeSnapshotMessage(data: string): BrokerMessage | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const time = (parsed as { time?: unknown }).time;
  if (typeof time !== 'string') return undefined;
  const id = Date.parse(time);
  if (!Number.isSafeInteger(id) || id < 0) return undefined;
  return { id, data };
}
