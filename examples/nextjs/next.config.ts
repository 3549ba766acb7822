import { fileURLToPath } from 'node:url'
import type { NextConfig } from 'next'

// The monorepo's root, where pnpm keeps node_modules and the workspace packages are.
const root = fileURLToPath(new URL('../..', import.meta.url))

const nextConfig: NextConfig = {
  outputFileTracingRoot: root,
  turbopack: { root },
  poweredByHeader: false,
  // The examples' shared fake backend is a workspace package published as TypeScript source.
  transpilePackages: ['@cachex/example-shared'],
}

export default nextConfig
