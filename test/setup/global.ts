import type { TestProject } from 'vitest/node';
import { NATIVE_FANOUT, buildNativeFanout } from '../../scripts/build.ts';
import { isCi } from './programs.ts';
import { INSTALL_HINT, type RedisServer, dockerAnswers, startRedisServer } from './redis.ts';

// Global setup: one real Redis for the whole run, handed to tests as inject('redisUrl').
// REDIS_URL if set; else Testcontainers (redis:7-alpine) when a Docker engine answers within a second and starts it; else a
// redis-server process on a free loopback port; else the run fails saying what to install. ORRERY_TEST_REDIS=
// testcontainers or redis-server forces one of the two (CI runs the integration tests on both); forced, Testcontainers
// has no fallback.
// Tests isolate with their own REDIS_PREFIX (uniquePrefix() in scripts/processes.ts), so one server serves every file.

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    /** how the Redis was obtained: env, testcontainers or redis-server */
    redisSource: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // API nodes started by tests (from the sources or the bundles) write through dist/fanout.node as production does.
  const native = buildNativeFanout();
  if (!native.ok) process.stderr.write(`global setup: ${NATIVE_FANOUT} not built (${native.reason}); API nodes in tests write through net.Socket\n`);
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) {
    project.provide('redisUrl', fromEnv);
    project.provide('redisSource', 'env');
    return async () => {};
  }
  const forced = process.env.ORRERY_TEST_REDIS;
  if (forced !== undefined && forced !== 'testcontainers' && forced !== 'redis-server') {
    throw new Error(`ORRERY_TEST_REDIS=${forced}: expected testcontainers or redis-server`);
  }
  if (forced === 'testcontainers' || (forced === undefined && (await dockerAnswers(1000)))) {
    // Ryuk, Testcontainers' reaper, is an image from Docker Hub, which test machines here cannot pull; the teardown
    // below stops the container instead (and `docker ps --filter label=org.testcontainers` finds any a crash left).
    process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
    // An engine that answers may still be unable to give us the image (no registry from this machine, say): unless
    // Testcontainers was asked for, the run goes on with a redis-server process, as without Docker.
    try {
      const { RedisContainer } = await import('@testcontainers/redis');
      const container = await new RedisContainer('redis:7-alpine').start();
      project.provide('redisUrl', container.getConnectionUrl());
      project.provide('redisSource', 'testcontainers');
      return async () => {
        await container.stop();
      };
    } catch (err) {
      if (forced === 'testcontainers') throw err;
      process.stderr.write(`global setup: Docker answers but no redis container (${(err as Error).message}); using redis-server\n`);
    }
  }
  let server: RedisServer;
  try {
    server = await startRedisServer();
  } catch (err) {
    const message = `no Redis for the tests: ${(err as Error).message}\n${INSTALL_HINT}`;
    // Locally, the files that need it were left out (vitest.config.ts, programs.ts); in CI nothing may skip.
    if (isCi()) throw new Error(message);
    process.stderr.write(`global setup: ${message}\n`);
    project.provide('redisUrl', '');
    project.provide('redisSource', 'none');
    return async () => {};
  }
  project.provide('redisUrl', server.url);
  project.provide('redisSource', 'redis-server');
  return () => server.stop();
}
