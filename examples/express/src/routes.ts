import { loadCount, loadItem, type NightlyRun, runNightlyJob } from '@cachex/example-shared/backend'
import type { Cache } from '@cachex/redis'
import { Router } from 'express'

/** The routes, over the cache configured at start-up. */
export function cacheRoutes(cache: Cache): Router {
  const router = Router()

  // Read-through: served from Redis when cached, loaded from the backend (and cached) otherwise.
  router.get('/items/:id', async (req, res) => {
    const { id } = req.params
    let loaded = false
    const item = await cache.getOrSet(
      `item:${id}`,
      () => {
        loaded = true
        return loadItem(id)
      },
      { timeout: 60 },
    )
    res.json({ item, loaded, loads: loadCount(id) })
  })

  // Invalidation: one item, or every item at once (SCAN + UNLINK of `item:*`).
  router.delete('/items/:id', async (req, res) => {
    res.json({ deleted: await cache.delete(`item:${req.params.id}`) })
  })
  router.delete('/items', async (_req, res) => {
    res.json({ deleted: await cache.deletePattern('item:*') })
  })

  // An atomic counter: `add` creates it once (never expiring), `incr` is one INCRBY.
  router.post('/hits', async (_req, res) => {
    await cache.add('hits', 0, null)
    res.json({ hits: Number(await cache.incr('hits')) })
  })

  // A job that must not run twice at once: whoever gets the lock runs it, the others get 409.
  // The lock expires after 10 s by itself, should this process die while holding it.
  router.post('/jobs/nightly', async (_req, res) => {
    const lock = cache.lock('nightly', { timeout: 10 })
    if (!(await lock.acquire({ blocking: false }))) {
      res.status(409).json({ error: 'the nightly job is already running' })
      return
    }
    let result: NightlyRun
    try {
      result = await runNightlyJob()
    } finally {
      // Released before answering, so a client that saw the answer can run the job again.
      await lock.release()
    }
    res.json(result)
  })

  return router
}
