import { defineConfig } from 'tsdown'
import { packageBuild } from '../../tsdown.shared.ts'

// Two builds, so that no chunk is shared: `testing` imports the package's own entry and vitest /
// fast-check at run time, and the main entry must never load it.
export default defineConfig([
  packageBuild(['src/index.ts', 'src/internal.ts']),
  {
    ...packageBuild(['src/testing.ts']),
    clean: false,
    external: ['@cachex/core', '@cachex/core/internal', 'vitest', 'fast-check'],
  },
])
