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
    // Every suite starts its own redis-server processes; two cores run two files at a time.
    fileParallelism: true,
    maxWorkers: 2,
  },
})
