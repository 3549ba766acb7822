import type { FastifyPluginAsync } from 'fastify'

/** `/hits`: an atomic counter. */
const hits: FastifyPluginAsync = async (fastify) => {
  // `add` creates the counter once (never expiring), `incr` is one INCRBY.
  fastify.post('/', async () => {
    await fastify.cache.add('hits', 0, null)
    // Past 2^53 the count is a bigint (exact): answer it as a string, which Number() would round.
    const hits = await fastify.cache.incr('hits')
    return { hits: typeof hits === 'bigint' ? hits.toString() : hits }
  })
}

export default hits
