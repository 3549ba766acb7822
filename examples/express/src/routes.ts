import { loadCount, loadItem, type NightlyRun, runNightlyJob } from '@cachex/example-shared/backend'
import { toJSONSafe } from '@cachex/example-shared/json'
import { type Cache, ConnectionError, LockNotOwnedError } from '@cachex/redis'
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
    // A value another app stored (Django) may hold integers beyond 2^53: cachex reads them as
    // bigints, which res.json refuses. toJSONSafe answers them as decimal strings.
    res.json(toJSONSafe({ item, loaded, loads: loadCount(id) }))
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
    // Past 2^53 the count is a bigint (exact): answer it as a string, which Number() would round.
    const hits = await cache.incr('hits')
    res.json({ hits: typeof hits === 'bigint' ? hits.toString() : hits })
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
      // Released before answering, so a client that saw the answer can run the job again. A
      // release Redis did not answer (a ConnectionError; TimeoutError is one) must not replace the
      // job's outcome: a 500 after a job that ran makes the client retry, and run the job twice
      // once the lock expired. Logged instead; the lock expires by its `timeout`. Nor must a lock
      // lost while the job ran (LockNotOwnedError: it expired, or Redis restarted empty).
      await lock.release().catch((error: unknown) => {
        if (error instanceof LockNotOwnedError) {
          console.error('the nightly lock was lost while the job ran:', error.message)
          return
        }
        if (!(error instanceof ConnectionError)) throw error
        console.error('could not release the nightly lock; it expires in 10 s:', error)
      })
    }
    res.json(result)
  })

  return router
}
