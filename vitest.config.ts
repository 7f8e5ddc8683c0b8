import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
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
});
