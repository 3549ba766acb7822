import type { FastifyPluginAsync } from 'fastify'

/** `/hits`: an atomic counter. */
const hits: FastifyPluginAsync = async (fastify) => {
  // `add` creates the counter once (never expiring), `incr` is one INCRBY.
  fastify.post('/', async () => {
    await fastify.cache.add('hits', 0, null)
    return { hits: Number(await fastify.cache.incr('hits')) }
  })
}

export default hits
