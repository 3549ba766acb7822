import { fileURLToPath } from 'node:url'
import type { NextConfig } from 'next'

// The monorepo's root, where pnpm keeps node_modules and the workspace packages are.
const root = fileURLToPath(new URL('../..', import.meta.url))

const nextConfig: NextConfig = {
  outputFileTracingRoot: root,
  turbopack: { root },
  poweredByHeader: false,
  // The admin UI (pages/api/admin/[[...path]].ts) is a page at /api/admin/ whose links are relative,
  // so its URL must keep its trailing slash; by default Next.js redirects /api/admin/ to /api/admin,
  // which the admin redirects back to /api/admin/. The app's other routes answer both forms.
  skipTrailingSlashRedirect: true,
  // The examples' shared fake backend is a workspace package published as TypeScript source.
  transpilePackages: ['@cachex/example-shared'],
}

export default nextConfig
