import { configDefaults, defineConfig } from 'vitest/config';
import { filesMissingPrograms } from './test/setup/programs.ts';
import { dockerAnswers } from './test/setup/redis.ts';

// Files that need a program this machine lacks (Chromium, nginx, redis-server, …) are left out locally, with the
// reason printed; under CI=true the run fails instead (test/setup/programs.ts).
export default defineConfig(async () => {
  const sharedRedisElsewhere = Boolean(process.env.REDIS_URL) || (await dockerAnswers(1000));
  return {
    test: {
      include: ['test/**/*.test.ts'],
      exclude: [...configDefaults.exclude, ...filesMissingPrograms(process.cwd(), sharedRedisElsewhere)],
      globalSetup: ['test/setup/global.ts'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      // Integration, stack and browser tests start real processes on a 2-core machine.
      fileParallelism: true,
      maxWorkers: 2,
    },
  };
});
