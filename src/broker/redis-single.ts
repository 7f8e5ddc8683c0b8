import { Redis } from 'ioredis';
import type { PublishItem } from './broker.ts';
import { failFastOptions, quitGracefully, redactUrl } from './redis-connection.ts';
import type { RedisTopology, TopologyContext } from './redis-topology.ts';

// One Redis server: PUBLISH/SUBSCRIBE on `<prefix>sky:<channel>`. Two connections, because a subscribed connection can
// run nothing but (UN)SUBSCRIBE. Resubscription after a reconnect is the broker's rather than ioredis' (autoResubscribe
// off), so a channel released during an outage stays released.

export class SingleServerTopology implements RedisTopology {
  readonly kind = 'redis';
  readonly label = 'redis';
  readonly hashTag = false;
  readonly announce = 'publish';
  readonly commands: Redis;
  private readonly sub: Redis;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly context: TopologyContext,
  ) {
    this.commands = this.connect('pub', 'publisher');
    this.sub = this.connect('sub', 'subscriber');
    this.sub.on('message', (key: string, payload: string) => context.events.message(key, payload));
    this.sub.on('ready', () => {
      if (!this.closed) context.events.subscriptionsLost();
    });
  }

  private connect(name: string, role: string): Redis {
    const { clientName, commandTimeoutMs } = this.context;
    const conn = new Redis(this.url, {
      ...failFastOptions({ connectionName: `${clientName}-${name}`, commandTimeoutMs }),
      autoResubscribe: false,
    });
    this.watch(conn, role);
    return conn;
  }

  /** One warning when a connection is lost and one line when it is back: not one per retry or per tick. */
  private watch(conn: Redis, role: string): void {
    const { log, events } = this.context;
    const url = redactUrl(this.url);
    let up = false;
    let everUp = false;
    let downSince = Date.now();
    let lastError: string | undefined;
    conn.on('error', (err: Error) => {
      log.debug({ role, err: err.message }, 'redis connection error');
      // Before the first connection: one warning, not one per retry.
      if (!everUp && lastError === undefined && !this.closed) log.warn({ role, url, err: err.message }, 'redis unreachable; retrying');
      lastError = err.message;
    });
    conn.on('ready', () => {
      if (everUp) {
        events.reconnected();
        log.info({ role, downMs: Date.now() - downSince }, 'redis connection restored');
      } else log.info({ role, url }, 'redis connected');
      up = everUp = true;
    });
    conn.on('close', () => {
      if (!up) return;
      up = false;
      downSince = Date.now();
      if (!this.closed) log.warn({ role, err: lastError }, 'redis connection lost; reconnecting');
    });
  }

  pipelineGroups(items: readonly PublishItem[]): PublishItem[][] {
    return [[...items]];
  }

  subscribe(...keys: string[]): Promise<unknown> {
    return this.sub.subscribe(...keys);
  }

  release(key: string): void {
    // Commands on one connection run in order, so an UNSUBSCRIBE queued behind a pending SUBSCRIBE wins.
    // While disconnected there is nothing to undo: the reconnect only resubscribes channels still held.
    if (this.sub.status !== 'ready' || this.closed) return;
    this.sub.unsubscribe(key).catch((err: Error) => this.context.log.debug({ key, err: err.message }, 'unsubscribe failed'));
  }

  notReady(use: 'command' | 'subscribe'): string | undefined {
    const conn = use === 'command' ? this.commands : this.sub;
    return conn.status === 'ready' ? undefined : `redis is not connected (${conn.status})`;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([quitGracefully(this.commands), quitGracefully(this.sub)]);
  }
}
