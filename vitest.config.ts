import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/isolated-home.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Suites start brokers and agent processes on loopback ports; two cores, so keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
