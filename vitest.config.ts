import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Two cores in CI: keep one worker per core and leave headroom for spawned services.
    maxWorkers: 2,
    testTimeout: 60_000,
  },
});
