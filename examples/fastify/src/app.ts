import type { CreateCacheOptions } from '@cachex/redis'
import Fastify, { type FastifyInstance } from 'fastify'
import cache from './plugins/cache.ts'
import hits from './routes/hits.ts'
import items from './routes/items.ts'
import jobs from './routes/jobs.ts'

/** Options of `buildApp`. */
export interface AppOptions {
  /** The cache's options (`createCache`'s). */
  cache: CreateCacheOptions
  /** Fastify's logger. @default true */
  logger?: boolean
}

/** The Fastify app: the cache plugin first, then the routes that use `fastify.cache`. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? true })
  await app.register(cache, options.cache)
  await app.register(items, { prefix: '/items' })
  await app.register(hits, { prefix: '/hits' })
  await app.register(jobs, { prefix: '/jobs' })
  return app
}
