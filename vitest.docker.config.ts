import { defineConfig } from 'vitest/config';

// `npm run test:docker`: the stack as containers (test/docker/). One compose project at a time: each runs the whole
// stack, and the cluster overlay's fixed subnet admits one.
export default defineConfig({
  test: {
    include: ['test/docker/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 900_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
});
