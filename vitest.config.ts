import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration, stack and browser tests start real processes on a 2-core machine.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
