import calculateSlot from 'cluster-key-slot';
import { Cluster, type ClusterOptions } from 'ioredis';
import type { ClusterNode } from '../config.ts';
import type { PublishItem } from './broker.ts';
import { failFastOptions, isReplyError, quitGracefully, reconnectDelay } from './redis-connection.ts';
import type { RedisTopology, TopologyContext } from './redis-topology.ts';

// Redis Cluster with sharded pub/sub, for when one Redis is the limit. A location's channel and history share one hash
// slot (`<prefix>sky:{london}`, `<prefix>history:{london}`), so its traffic and history live on one shard and adding
// shards spreads locations. Live delivery is SPUBLISH/SSUBSCRIBE: a shard's messages stay on that shard (classic
// PUBLISH is broadcast over the cluster bus to every node, which is what stops a classic cluster from scaling).
//
// One ioredis Cluster with `shardedSubscribers`: it keeps one subscriber connection per master, routes SSUBSCRIBE to the
// master owning the channel's slot, and after a subscriber connection is lost it replaces it (slot refresh, backoff) and
// SSUBSCRIBEs again everything it holds. The broker keeps the local reference counts and catches up on what an outage
// hid once ioredis reports its subscribers ready again; releases wait here until the cluster is connected.

/** A node that keeps failing is reported at most this often. */
const NODE_WARN_INTERVAL_MS = 10_000;

/** How often the slot map is asked for while all is well; a failing node asks at once. */
const SLOTS_REFRESH_MS = 1000;

/** Options every connection to the cluster shares, the broker's and the presence store's. */
export function clusterOptions(connectionName: string, commandTimeoutMs: number): ClusterOptions {
  return {
    redisOptions: failFastOptions({ connectionName, commandTimeoutMs }),
    // No queue at the cluster level either (see failFastOptions); redirections (MOVED/ASK) are still followed.
    enableOfflineQueue: false,
    clusterRetryStrategy: reconnectDelay,
    // A node connection that drops reconnects by itself (a restarted master on the same address comes back).
    clusterNodeRetryStrategy: reconnectDelay,
    // A master that dies does not answer MOVED: without asking again, ioredis keeps sending its slots' commands and
    // subscriptions to the dead address long after its replica took over. Asked every SLOTS_REFRESH_MS (one CLUSTER
    // SLOTS), and at once when a node connection fails.
    slotsRefreshInterval: SLOTS_REFRESH_MS,
  };
}

export class ClusterTopology implements RedisTopology {
  readonly kind = 'redis-cluster';
  readonly label = 'redis cluster';
  readonly hashTag = true;
  readonly announce = 'spublish';
  readonly commands: Cluster;
  /** pub/sub keys released while the cluster was not ready: SUNSUBSCRIBE them once it is */
  private readonly releaseLater = new Set<string>();
  private readonly nodeWarnedAt = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly nodes: readonly ClusterNode[],
    private readonly context: TopologyContext,
  ) {
    this.commands = new Cluster(
      nodes.map((n) => ({ host: n.host, port: n.port })),
      {
        ...clusterOptions(context.clientName, context.commandTimeoutMs),
        shardedSubscribers: true,
        // The broker fails fast: a command caught in a failover or a down cluster fails now (the next tick follows).
        retryDelayOnFailover: 0,
        retryDelayOnClusterDown: 0,
        slotsRefreshTimeout: 2000,
      },
    );
    this.commands.on('smessage', (key: string, payload: string) => context.events.message(key, payload));
    // ioredis has SSUBSCRIBEd again on replaced subscriber connections: deliver what the outage hid.
    this.commands.on('subscribersReady', () => {
      if (!this.closed && this.commands.status === 'ready') context.events.subscriptionsRestored();
    });
    this.watch();
  }

  /** One line when the cluster is lost or back, and a rate-limited warning per failing node: not one per retry. */
  private watch(): void {
    const { log, events } = this.context;
    let everUp = false;
    let up = false;
    let downSince = Date.now();
    this.commands.on('ready', () => {
      if (everUp) {
        events.reconnected();
        log.info({ downMs: Date.now() - downSince }, 'redis cluster connection restored');
      } else log.info({ nodes: this.nodes.map((n) => `${n.host}:${n.port}`) }, 'redis cluster connected');
      everUp = up = true;
      this.releasePending();
    });
    this.commands.on('close', () => {
      if (!up) return;
      up = false;
      downSince = Date.now();
      if (!this.closed) log.warn('redis cluster connection lost; reconnecting');
    });
    // 'error' carries cluster-wide failures (no startup node reachable, a subscriber that cannot connect); without a
    // listener an EventEmitter 'error' would crash the process.
    this.commands.on('error', (err: Error) => this.nodeTrouble('cluster', err));
    this.commands.on('node error', (err: Error, node: string) => this.nodeTrouble(node, err));
    this.commands.on('nodeError', (err: Error, node: string) => this.nodeTrouble(node, err));
  }

  private nodeTrouble(node: string, err: Error): void {
    const { log } = this.context;
    log.debug({ node, err: err.message }, 'redis cluster error');
    if (this.closed) return;
    // Maybe a failover: learn who owns the slots now (ioredis runs one refresh at a time and queues the rest).
    if (!isReplyError(err)) this.commands.refreshSlotsCache(() => {});
    const now = Date.now();
    if (now - (this.nodeWarnedAt.get(node) ?? 0) < NODE_WARN_INTERVAL_MS) return;
    this.nodeWarnedAt.set(node, now);
    log.warn({ node, err: err.message }, 'redis cluster node unreachable; retrying');
  }

  /** By the master that owns each item's slot: one pipeline per shard (a MULTI cannot span slots, nor a pipeline nodes). */
  pipelineGroups(items: readonly PublishItem[], slotKey: (item: PublishItem) => string): PublishItem[][] {
    const groups = new Map<string, PublishItem[]>();
    for (const item of items) {
      const slot = calculateSlot(slotKey(item));
      const owner = this.commands.slots[slot]?.[0] ?? `slot ${slot}`;
      let group = groups.get(owner);
      if (!group) groups.set(owner, (group = []));
      group.push(item);
    }
    return [...groups.values()];
  }

  subscribe(...keys: string[]): Promise<unknown> {
    return this.commands.ssubscribe(...keys);
  }

  release(key: string): void {
    if (this.closed) return;
    // While the cluster is down ioredis would not even record the release, and would SSUBSCRIBE the channel again on
    // reconnect: remember it and release it once connected.
    if (this.commands.status !== 'ready') this.releaseLater.add(key);
    else this.sunsubscribe(key);
  }

  private releasePending(): void {
    for (const key of this.releaseLater) if (!this.context.events.isHeld(key)) this.sunsubscribe(key);
    this.releaseLater.clear();
  }

  private sunsubscribe(key: string): void {
    // Sent even when the shard's subscriber is down: ioredis drops the channel from the set it resubscribes first.
    // Commands on one subscriber connection run in order, so an SUNSUBSCRIBE behind a pending SSUBSCRIBE wins.
    const failed = (err: Error): void => this.context.log.debug({ key, err: err.message }, 'sunsubscribe failed');
    try {
      this.commands.sunsubscribe(key).catch(failed);
    } catch (err) {
      failed(err as Error);
    }
  }

  notReady(): string | undefined {
    return this.commands.status === 'ready' ? undefined : `redis cluster is not connected (${this.commands.status})`;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.releaseLater.clear();
    await quitGracefully(this.commands);
  }
}
