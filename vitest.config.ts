import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The containers' tests need a Docker engine: `npm run test:docker` (vitest.docker.config.ts).
    exclude: ['test/docker/**', '**/node_modules/**'],
    globalSetup: ['test/setup/global.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration, stack and browser tests start real processes on a 2-core machine.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
