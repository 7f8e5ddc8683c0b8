import { configDefaults, defineConfig } from 'vitest/config';
import { filesMissingPrograms } from './test/setup/programs.ts';
import { dockerAnswers } from './test/setup/redis.ts';

// Files that need a program this machine lacks (Chromium, nginx, redis-server, …) are left out locally, with the
// reason printed; under CI=true the run fails instead (test/setup/programs.ts).
export default defineConfig(async () => {
  // The same choice as test/setup/global.ts: a Redis from REDIS_URL or Testcontainers needs no redis-server here.
  const forced = process.env.ORRERY_TEST_REDIS;
  const sharedRedisElsewhere =
    Boolean(process.env.REDIS_URL) || forced === 'testcontainers' || (forced === undefined && (await dockerAnswers(1000)));
  return {
    test: {
      include: ['test/**/*.test.ts'],
      // The containers' tests need a Docker engine: `npm run test:docker` (vitest.docker.config.ts).
      exclude: [...configDefaults.exclude, 'test/docker/**', ...filesMissingPrograms(process.cwd(), sharedRedisElsewhere)],
      globalSetup: ['test/setup/global.ts'],
      // Limits against a hang, not against slowness: a test that is merely slow on a busy 2-core machine must still
      // pass. Tests assert behaviour; speed is measured in the benchmarks (BENCHMARKS.md). A test keeps a timing of its
      // own only where the time is the promise itself, with its reason beside it.
      testTimeout: 180_000,
      hookTimeout: 300_000,
      expect: { poll: { timeout: 10_000 } },
      // Integration, stack and browser tests start real processes on a 2-core machine.
      fileParallelism: true,
      maxWorkers: 2,
    },
  };
});
