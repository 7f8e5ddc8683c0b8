// The seam between the tick publisher and the API nodes' fan-out. Implementations chosen at start-up:
// memory.ts (no REDIS_URL: one process), redis.ts (pub/sub + a capped stream per channel) and redis-cluster.ts
// (REDIS_CLUSTER_NODES: the same on a Redis Cluster, sharded pub/sub).
// A channel is a grid location id; implementations add their own naming (prefix, `sky:`, `history:`).
// Payloads are opaque strings (the SSE `data` line); ids are the tick instant in epoch ms and increase per channel.

export interface BrokerMessage {
  /** tick instant, epoch ms; also the SSE `id` */
  id: number;
  /** the SSE `data` payload (Snapshot JSON on one line) */
  data: string;
}

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

/** Decodes a live or stored payload: a JSON object whose `time` is the tick instant. Undefined if unusable. */
export function decodeSnapshotMessage(data: string): BrokerMessage | undefined {
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
