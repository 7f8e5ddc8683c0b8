import { redisTarget, type Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { createRedisPresence } from './redis-store.ts';
import { createMemoryPresence, type PresenceStore } from './store.ts';

// Where presence reports live: beside the broker (same Redis or Redis Cluster, same prefix), or in memory for one process.

export function createPresenceStore(
  config: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES' | 'REDIS_PREFIX'>,
  log: Logger,
): PresenceStore {
  const target = redisTarget(config);
  if (!target) return createMemoryPresence();
  return createRedisPresence({ ...target, prefix: config.REDIS_PREFIX, log: log.child({ component: 'presence' }) });
}
