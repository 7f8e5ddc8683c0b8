import { redisTarget, type Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { Broker } from './broker.ts';
import { createMemoryBroker } from './memory.ts';
import { createRedisBroker } from './redis.ts';

// The one decision between the embedded broker, one Redis and a Redis Cluster, from configuration.

export type BrokerConfig = Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES' | 'REDIS_PREFIX' | 'TICK_MS' | 'HISTORY_SECONDS'>;

/** Ticks kept per channel: HISTORY_SECONDS worth at TICK_MS. */
export const historyLength = (config: BrokerConfig): number =>
  Math.max(1, Math.ceil((config.HISTORY_SECONDS * 1000) / config.TICK_MS));

export function createBroker(config: BrokerConfig, log: Logger): Broker {
  const target = redisTarget(config);
  if (!target) return createMemoryBroker({ historyLimit: historyLength(config) });
  return createRedisBroker({
    ...target,
    prefix: config.REDIS_PREFIX,
    historyLength: historyLength(config),
    historyTtlMs: config.HISTORY_SECONDS * 1000,
    log,
  });
}
