import { type Cache, createCache } from '@cachex/redis'

// One cache per server process, configured once. It lives on `globalThis` because Next.js may
// evaluate this module more than once: each route handler is bundled on its own, and `next dev`
// evaluates modules again after every edit. Nothing connects before the first command, so
// `next build`, which loads the routes, never touches Redis.
const globalForCache = globalThis as typeof globalThis & { cachexExampleCache?: Cache }

globalForCache.cachexExampleCache ??= createAppCache()

export const cache: Cache = globalForCache.cachexExampleCache

// Not closed on SIGTERM or SIGINT: `next start` then lets the requests in flight finish, and they
// use the cache; it exits the process afterwards, which ends the cache's connections (every write
// a request made was awaited by it, so nothing is left to send).
function createAppCache(): Cache {
  return createCache({
    location: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    keyPrefix: 'example-nextjs',
    timeout: 300,
  })
}
