import { Redis } from 'ioredis';
import type { PublishItem } from './broker.ts';
import { failFastOptions, quitGracefully, redactUrl } from './redis-connection.ts';
import type { RedisTopology, TopologyContext } from './redis-topology.ts';

// One Redis server: PUBLISH/SUBSCRIBE on `<prefix>sky:<channel>`. Two connections, because a subscribed connection can
// run nothing but (UN)SUBSCRIBE. Resubscription after a reconnect is the broker's rather than ioredis' (autoResubscribe
// off), so a channel released during an outage stays released.

export function singleServer(url: string, context: TopologyContext): RedisTopology {
  const { events, log } = context;
  const options = (role: string) => ({
    ...failFastOptions({ connectionName: `${context.clientName}-${role}`, commandTimeoutMs: context.commandTimeoutMs }),
    autoResubscribe: false,
  });
  const pub = new Redis(url, options('pub'));
  const sub = new Redis(url, options('sub'));
  let closed = false;
  watchConnection(pub, 'publisher');
  watchConnection(sub, 'subscriber');
  sub.on('message', (key: string, payload: string) => events.message(key, payload));
  sub.on('ready', () => {
    if (!closed) events.subscriptionsLost();
  });

  /** One warning when a connection is lost and one line when it is back: not one per retry or per tick. */
  function watchConnection(conn: Redis, role: string): void {
    let up = false;
    let everUp = false;
    let downSince = Date.now();
    let lastError: string | undefined;
    let reportedUnreachable = false;
    conn.on('error', (err: Error) => {
      lastError = err.message;
      log.debug({ role, err: err.message }, 'redis connection error');
      if (!everUp && !reportedUnreachable && !closed) {
        reportedUnreachable = true;
        log.warn({ role, url: redactUrl(url), err: err.message }, 'redis unreachable; retrying');
      }
    });
    conn.on('ready', () => {
      if (everUp) {
        events.reconnected();
        log.info({ role, downMs: Date.now() - downSince }, 'redis connection restored');
      } else log.info({ role, url: redactUrl(url) }, 'redis connected');
      up = everUp = true;
    });
    conn.on('close', () => {
      if (!up) return;
      up = false;
      downSince = Date.now();
      if (!closed) log.warn({ role, err: lastError }, 'redis connection lost; reconnecting');
    });
  }

  return {
    kind: 'redis',
    label: 'redis',
    hashTag: false,
    announce: 'publish',
    commands: pub,
    pipelineGroups: (items: readonly PublishItem[]) => [[...items]],
    subscribe: (...keys) => sub.subscribe(...keys),
    release(key) {
      // Commands on one connection run in order, so an UNSUBSCRIBE queued behind a pending SUBSCRIBE wins.
      // While disconnected there is nothing to undo: the reconnect only resubscribes channels still held.
      if (sub.status !== 'ready' || closed) return;
      sub.unsubscribe(key).catch((err: Error) => log.debug({ key, err: err.message }, 'unsubscribe failed'));
    },
    notReady(use) {
      const conn = use === 'command' ? pub : sub;
      return conn.status === 'ready' ? undefined : `redis is not connected (${conn.status})`;
    },
    async close() {
      closed = true;
      await Promise.all([quitGracefully(pub), quitGracefully(sub)]);
    },
  };
}
