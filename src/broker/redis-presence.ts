import { Cluster, Redis } from 'ioredis';
import type { Logger } from '../log.ts';
import { decodeReport, encodeReport, reportKey, type PresenceStore, type Report } from '../presence/store.ts';
import { quitGracefully } from './redis-common.ts';

// Presence on Redis: one hash `<prefix>{presence}` with a field per process (`node:<id>`, `worker:<id>`) holding its
// JSON report and its expiry instant. Readers drop (and HDEL) expired fields; the hash itself expires when every
// process has stopped writing. One key, so it works the same on a Redis Cluster. A connection of its own, off the
// publish and subscribe connections, and never on the per-message path.

export interface RedisPresenceOptions {
  url?: string;
  /** Redis Cluster seeds instead of url */
  clusterNodes?: { host: string; port: number }[];
  prefix: string;
  log: Logger;
}

export function createRedisPresence(options: RedisPresenceOptions): PresenceStore {
  const common = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 3000,
    connectTimeout: 5000,
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 4), 500),
  };
  const conn: Redis | Cluster = options.clusterNodes
    ? new Cluster(options.clusterNodes, { enableOfflineQueue: false, redisOptions: { ...common, connectionName: 'orrery-presence' } })
    : new Redis(options.url!, { ...common, connectionName: 'orrery-presence' });
  // Errors are the broker's to report (it watches the same server); here they only fail a write or a read.
  conn.on('error', (err: Error) => options.log.debug({ err: err.message }, 'presence connection error'));
  const key = `${options.prefix}{presence}`;
  let maxTtl = 0;
  return {
    async put(report: Report, ttlMs: number) {
      maxTtl = Math.max(maxTtl, ttlMs);
      await conn
        .multi()
        .hset(key, reportKey(report.kind, report.id), encodeReport(report, ttlMs))
        .pexpire(key, maxTtl * 2)
        .exec();
    },
    async remove(kind, id) {
      await conn.hdel(key, reportKey(kind, id));
    },
    async readAll() {
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
