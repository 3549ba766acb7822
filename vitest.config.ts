import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // Examples are checked end to end by their own `test-start` scripts (`pnpm test:examples`).
    projects: ['packages/*'],
    // CI also writes a JSON report, from which .ci/run prints its "N passed, N failed" line.
    reporters: process.env.CI
      ? ['default', ['json', { outputFile: '.tmp/vitest-results.json' }]]
      : ['default'],
  },
})
