import { defineConfig } from 'vitest/config'

/**
 * Settings every package's vitest project merges in. Tests run against `src` through the
 * `@cachex/source` export condition, so `pnpm test` needs no build first.
 */
export const sharedConfig = defineConfig({
  resolve: {
    conditions: ['@cachex/source', 'module', 'node', 'development|production'],
  },
  ssr: {
    resolve: {
      conditions: ['@cachex/source', 'module', 'node', 'development|production'],
    },
  },
  test: {
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Every suite starts its own redis-server processes, and most of a test's time is spent
    // waiting on them (a failover, a timeout, a child process): three files at a time keep two
    // cores busy. Measured in CI on a clean clone, the whole suite: 747 s with 2; 575 s with 3,
    // though other work loaded the machine during that run.
    fileParallelism: true,
    maxWorkers: 3,
  },
})
