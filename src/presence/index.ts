import { createRedisPresence } from '../broker/redis-presence.ts';
import { parseClusterNodes } from '../broker/redis-cluster.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { createMemoryPresence, type PresenceStore } from './store.ts';

// Where presence reports live: beside the broker (same Redis or Redis Cluster, same prefix), or in memory for one process.

export function createPresenceStore(
  config: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES' | 'REDIS_PREFIX'>,
  log: Logger,
): PresenceStore {
  const plog = log.child({ component: 'presence' });
  if (config.REDIS_CLUSTER_NODES) {
    return createRedisPresence({ clusterNodes: parseClusterNodes(config.REDIS_CLUSTER_NODES), prefix: config.REDIS_PREFIX, log: plog });
  }
  if (config.REDIS_URL) return createRedisPresence({ url: config.REDIS_URL, prefix: config.REDIS_PREFIX, log: plog });
  return createMemoryPresence();
}
