import { Cluster, Redis } from 'ioredis';
import { clusterOptions } from '../broker/redis-cluster.ts';
import { failFastOptions, quitGracefully } from '../broker/redis-connection.ts';
import type { RedisTarget } from '../config.ts';
import type { Logger } from '../log.ts';
import { decodeReport, encodeReport, reportKey, type PresenceStore, type Report } from './store.ts';

// Presence on Redis: one hash `<prefix>{presence}` with a field per process (`node:<id>`, `worker:<id>`) holding its
// JSON report and its expiry instant. Readers drop (and HDEL) expired fields; the hash itself expires when every
// process has stopped writing. One key, so it works the same on a Redis Cluster. A connection of its own, off the
// publish and subscribe connections, and never on the per-message path; the same connection options, retry schedule
// and failover handling as the broker's.

export type RedisPresenceOptions = RedisTarget & {
  prefix: string;
  log: Logger;
};

const CONNECTION_NAME = 'orrery-presence';
const COMMAND_TIMEOUT_MS = 3000;
/** How long a call made before the connection was ever ready waits for it. */
const FIRST_CONNECT_WAIT_MS = 2000;

export function createRedisPresence(options: RedisPresenceOptions): PresenceStore {
  const conn: Redis | Cluster = options.nodes
    ? new Cluster([...options.nodes], clusterOptions(CONNECTION_NAME, COMMAND_TIMEOUT_MS))
    : new Redis(options.url, failFastOptions({ connectionName: CONNECTION_NAME, commandTimeoutMs: COMMAND_TIMEOUT_MS }));
  // Errors are the broker's to report (it watches the same server); here they only fail a write or a read.
  conn.on('error', (err: Error) => options.log.debug({ err: err.message }, 'presence connection error'));
  // The first status round runs as the process starts, while this connection is still being made: without the
  // offline queue it would fail at once and the node would report the store unreachable on every start. Until the
  // connection has been ready once, a call waits for it, briefly.
  let everReady = false;
  const firstReady = new Promise<void>((resolve) => conn.once('ready', resolve)).then(() => {
    everReady = true;
  });
  const connecting = async (): Promise<void> => {
    if (everReady) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([firstReady, new Promise<void>((resolve) => (timer = setTimeout(resolve, FIRST_CONNECT_WAIT_MS)))]);
    clearTimeout(timer);
  };
  const key = `${options.prefix}{presence}`;
  let maxTtl = 0;
  return {
    async put(report: Report, ttlMs: number) {
      maxTtl = Math.max(maxTtl, ttlMs);
      await connecting();
      await conn
        .multi()
        .hset(key, reportKey(report.kind, report.id), encodeReport(report, ttlMs))
        .pexpire(key, maxTtl * 2)
        .exec();
    },
    async remove(kind, id) {
      await connecting();
      await conn.hdel(key, reportKey(kind, id));
    },
    async readAll() {
      await connecting();
      const all = await conn.hgetall(key);
      const now = Date.now();
      const out: Report[] = [];
      const stale: string[] = [];
      for (const [field, json] of Object.entries(all)) {
        const r = decodeReport(json, now);
        if (r) out.push(r);
        else stale.push(field);
      }
      if (stale.length > 0) conn.hdel(key, ...stale).catch(() => {});
      return out;
    },
    async close() {
      await quitGracefully(conn);
    },
  };
}
