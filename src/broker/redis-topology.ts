import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../log.ts';
import type { PublishItem } from './broker.ts';

// The seam of the Redis broker (redis.ts): what differs between one Redis server (redis-single.ts) and a Redis Cluster
// (redis-cluster.ts). Only the connections, the announce command (PUBLISH or SPUBLISH), how a publish is split into
// pipelines (one, or one per master by slot), and when a released channel is unsubscribed. Keys, the history, the
// reference counting of channels, the catch-up after an outage and the error mapping are the broker's, written once.

/** What a topology tells the broker about its connections. */
export interface TopologyEvents {
  /** A live payload arrived on a subscribed pub/sub key. */
  message(key: string, payload: string): void;
  /** The subscriber connection is back and holds no subscriptions: subscribe every held channel again, then catch up. */
  subscriptionsLost(): void;
  /** The client library has subscribed everything again on new connections: catch up on what the outage hid. */
  subscriptionsRestored(): void;
  /** A connection was restored after a loss (counted in the broker's stats). */
  reconnected(): void;
  /** Whether the broker holds a subscription to this pub/sub key again (a deferred release then does not apply). */
  isHeld(key: string): boolean;
}

export interface RedisTopology {
  readonly kind: 'redis' | 'redis-cluster';
  /** how log lines and errors name the backend: `redis`, `redis cluster` */
  readonly label: string;
  /** keys carry a {hash tag}, so a location's channel and history share one cluster slot */
  readonly hashTag: boolean;
  /** the command that announces a message to subscribers */
  readonly announce: 'publish' | 'spublish';
  /** where XADD, XRANGE and pipelines go */
  readonly commands: Redis | Cluster;
  /** Splits a publish into groups, each sent as one pipeline (a pipeline cannot span cluster nodes). */
  pipelineGroups(items: readonly PublishItem[], slotKey: (item: PublishItem) => string): PublishItem[][];
  /** Subscribes pub/sub keys; resolves once the server confirmed. */
  subscribe(...keys: string[]): Promise<unknown>;
  /** The last local handler of this key is gone: drop the server side subscription (best effort, never throws). */
  release(key: string): void;
  /** Why commands (`command`) or new subscriptions (`subscribe`) cannot be served now; undefined when they can. */
  notReady(use: 'command' | 'subscribe'): string | undefined;
  close(): Promise<void>;
}

/** Everything a topology needs to open its connections. */
export interface TopologyContext {
  events: TopologyEvents;
  log: Logger;
  commandTimeoutMs: number;
  /** CLIENT SETNAME base */
  clientName: string;
}
