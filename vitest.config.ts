import { defineConfig } from 'vitest/config'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

/**
 * The test files that take longest, slowest first (measured in CI on a clean clone: each waits
 * out backoffs, failovers or child processes for 30 s or more), started first. Without earlier
 * results — every CI run is on a fresh clone — vitest starts the largest files first, and a slow
 * small file started last is the run's tail, with the other workers idle.
 */
const SLOWEST_FIRST = [
  'local-tier-coherence-cluster.test.ts',
  'scan-bounds.test.ts',
  'fuzz-read.test.ts',
  'local-tier-coherence.test.ts',
  'auth-refused-topologies.test.ts',
  'stampede-hung-holder.test.ts',
  'local-tier-coherence-sentinel.test.ts',
  'cache-stampede.test.ts',
  'auth-refused.test.ts',
  'cluster-refresh-frozen-seed.test.ts',
  'scan-walk-server-change.test.ts',
  'auth-hint-topologies.test.ts',
  'undo-long-freeze.test.ts',
  'local-tier-frozen.test.ts',
  'sentinel-frozen-primary.test.ts',
  'sentinel.test.ts',
  'local-tier-down-node.test.ts',
]

/** vitest's order (earlier results, else size), with `SLOWEST_FIRST` moved to the front. */
class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    const rank = (spec: TestSpecification) => {
      const at = SLOWEST_FIRST.findIndex((name) => spec.moduleId.endsWith(`/${name}`))
      return at === -1 ? SLOWEST_FIRST.length : at
    }
    // Array.prototype.sort is stable: the rest keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b))
  }
}

export default defineConfig({
  test: {
    // Examples are checked end to end by their own `test-start` scripts (`pnpm test:examples`).
    projects: ['packages/*'],
    sequence: { sequencer: SlowestFirst },
    // CI also writes a JSON report, from which .ci/run prints its "N passed, N failed" line.
    reporters: process.env.CI
      ? ['default', ['json', { outputFile: '.tmp/vitest-results.json' }]]
      : ['default'],
  },
})
