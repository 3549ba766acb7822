import { loadCount, loadItem } from '@cachex/example-shared/backend'
import { toJSONSafe } from '@cachex/example-shared/json'
import type { FastifyPluginAsync } from 'fastify'

/** `/items`: a read-through cache of the backend, and its invalidation. */
const items: FastifyPluginAsync = async (fastify) => {
  // Read-through: served from Redis when cached, loaded from the backend (and cached) otherwise.
  fastify.get<{ Params: { id: string } }>('/:id', async (request) => {
    const { id } = request.params
    let loaded = false
    const item = await fastify.cache.getOrSet(
      `item:${id}`,
      () => {
        loaded = true
        return loadItem(id)
      },
      { timeout: 60 },
    )
    // A value another app stored (Django) may hold integers beyond 2^53: cachex reads them as
    // bigints, which JSON.stringify refuses. toJSONSafe answers them as decimal strings.
    return toJSONSafe({ item, loaded, loads: loadCount(id) })
  })

  // Invalidation: one item, or every item at once (SCAN + UNLINK of `item:*`).
  fastify.delete<{ Params: { id: string } }>('/:id', async (request) => {
    return { deleted: await fastify.cache.delete(`item:${request.params.id}`) }
  })
  fastify.delete('/', async () => {
    return { deleted: await fastify.cache.deletePattern('item:*') }
  })
}

export default items
