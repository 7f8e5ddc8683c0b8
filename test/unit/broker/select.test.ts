import { describe, expect, it } from 'vitest';
import { createBroker } from '../../../src/broker/index.ts';
import { redisKeys } from '../../../src/broker/redis-history.ts';
import { ConfigError, loadConfig, parseClusterNodes } from '../../../src/config.ts';
import { silentLogger } from '../../../src/log.ts';

// REDIS_CLUSTER_NODES from the environment to the broker: validation, the one-or-the-other rule, broker selection, and
// the key names each Redis broker uses.

const configError = (env: NodeJS.ProcessEnv): string => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
};

describe('REDIS_CLUSTER_NODES', () => {
  it('accepts comma-separated host:port seeds and parses them', () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000,redis-a.internal:7001,10.0.0.3:65535' });
    expect(parseClusterNodes(config.REDIS_CLUSTER_NODES!)).toEqual([
      { host: '127.0.0.1', port: 7000 },
      { host: 'redis-a.internal', port: 7001 },
      { host: '10.0.0.3', port: 65535 },
    ]);
  });

  it.each(['127.0.0.1', '127.0.0.1:', ':7000', '127.0.0.1:0', '127.0.0.1:70000', 'a:1,,b:2', 'a:1, b:2', 'redis://a:1', 'a:x'])(
    'refuses %j with a message naming the setting',
    (value) => {
      const message = configError({ REDIS_CLUSTER_NODES: value });
      expect(message).toContain(`REDIS_CLUSTER_NODES=${JSON.stringify(value)}`);
      expect(message).toMatch(/host:port/);
    },
  );

  it('refuses REDIS_URL and REDIS_CLUSTER_NODES together: pick one', () => {
    const message = configError({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: '127.0.0.1:7000' });
    expect(message).toMatch(/REDIS_CLUSTER_NODES/);
    expect(message).toMatch(/pick one/);
  });

  it('selects the broker: memory without either, redis with REDIS_URL, redis-cluster with REDIS_CLUSTER_NODES', async () => {
    const kinds: string[] = [];
    for (const env of [{}, { REDIS_URL: 'redis://127.0.0.1:1' }, { REDIS_CLUSTER_NODES: '127.0.0.1:1' }]) {
      const broker = createBroker(loadConfig({ ...env, LOG_LEVEL: 'silent' }), silentLogger);
      kinds.push(broker.kind);
      // Nothing listens on port 1: not ready, and closing stops the reconnect attempts.
      if (broker.kind !== 'memory') expect(broker.ready()).toBe(false);
      await broker.close();
    }
    expect(kinds).toEqual(['memory', 'redis', 'redis-cluster']);
  });
});

describe('Redis key names', () => {
  it('one Redis: <prefix>sky:<id> and <prefix>history:<id>', () => {
    const keys = redisKeys('orrery:', { hashTag: false });
    expect(keys.sky('london')).toBe('orrery:sky:london');
    expect(keys.history('london')).toBe('orrery:history:london');
    expect(keys.channelOf('orrery:sky:london')).toBe('london');
    expect(keys.channelOf('other:sky:london')).toBeUndefined();
  });

  it('cluster: the location id is the hash tag of both keys', () => {
    const keys = redisKeys('orrery:', { hashTag: true });
    expect(keys.sky('new-york')).toBe('orrery:sky:{new-york}');
    expect(keys.history('new-york')).toBe('orrery:history:{new-york}');
    expect(keys.channelOf('orrery:sky:{new-york}')).toBe('new-york');
    expect(keys.channelOf('orrery:sky:new-york')).toBeUndefined();
  });
});
