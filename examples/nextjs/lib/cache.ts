import { type Cache, createCache } from '@cachex/redis'

// One cache per server process, configured once. It lives on `globalThis` because Next.js may
// evaluate this module more than once: each route handler is bundled on its own, and `next dev`
// evaluates modules again after every edit. Nothing connects before the first command, so
// `next build`, which loads the routes, never touches Redis.
const globalForCache = globalThis as typeof globalThis & { cachexExampleCache?: Cache }

globalForCache.cachexExampleCache ??= createAppCache()

export const cache: Cache = globalForCache.cachexExampleCache

function createAppCache(): Cache {
  const created = createCache({
    location: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    keyPrefix: 'example-nextjs',
    timeout: 300,
  })
  // Graceful shutdown: on SIGTERM or SIGINT `next start` closes its HTTP server, letting requests
  // in flight finish, then exits; the cache closes meanwhile.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void created.close())
  }
  return created
}
