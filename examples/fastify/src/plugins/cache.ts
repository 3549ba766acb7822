import { type Cache, type CreateCacheOptions, createCache } from '@cachex/redis'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyInstance {
    /** The cachex cache: created once when the app starts, closed when the app closes. */
    cache: Cache
  }
}

/**
 * Creates the cache once, decorates the instance with it (`fastify.cache`, visible to every plugin
 * registered after this one, thanks to `fastify-plugin`) and closes it in `onClose`. Options are
 * `createCache`'s.
 */
export default fp<CreateCacheOptions>(
  async (fastify, options) => {
    const cache = createCache(options)
    fastify.decorate('cache', cache)
    fastify.addHook('onClose', async () => {
      await cache.close()
    })
  },
  { name: 'cachex', fastify: '5.x' },
)
