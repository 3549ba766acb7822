import { defineProject, mergeConfig } from 'vitest/config'
import { sharedConfig } from '../../vitest.shared.ts'

const config = mergeConfig(sharedConfig, defineProject({ test: { name: 'redis' } }))

// Without Vite's `module` condition here: vitest hands the SSR conditions to Node
// (`--conditions`), and under `module` Node's require('@opentelemetry/api') (from the SDK's
// CommonJS builds) loads that package's bundler-only ESM build, which Node cannot run
// (extensionless imports). No other dependency of this package has a `module` export condition.
const conditions: string[] = config.ssr?.resolve?.conditions ?? []
config.ssr = {
  ...config.ssr,
  resolve: { ...config.ssr?.resolve, conditions: conditions.filter((c) => c !== 'module') },
}

export default config
