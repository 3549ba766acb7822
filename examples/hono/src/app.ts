import type { AdminHandler } from '@cachex/admin'
import { loadCount, loadItem, type NightlyRun, runNightlyJob } from '@cachex/example-shared/backend'
import { toJSONSafe } from '@cachex/example-shared/json'
import { type Cache, ConnectionError, LockNotOwnedError } from '@cachex/redis'
import type { HttpBindings } from '@hono/node-server'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import { type Context, Hono } from 'hono'

/**
 * The app's context: the cache configured at start-up, as a context variable (`c.var.cache`), and
 * Node's request and response, which the node adapter (`@hono/node-server`) binds to `c.env`.
 */
export type AppEnv = { Bindings: HttpBindings; Variables: { cache: Cache } }

/** Options of `createApp`. */
export interface AppOptions {
  /**
   * The admin UI (`createAdminHandler` with `basePath: '/admin'`), mounted at `/admin` when given.
   */
  admin?: AdminHandler | undefined
}

/** The Hono app, over a cache the caller configured. */
export function createApp(cache: Cache, options: AppOptions = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>()

  // The admin UI at /admin: a `node:http` handler, so it answers on Node's request and response
  // (`c.env`, the node adapter's bindings) and reads the body itself; `RESPONSE_ALREADY_SENT`
  // tells the adapter the answer is the admin's. Hono leaves the path in the URL: the admin was
  // created with `basePath: '/admin'`.
  const admin = options.admin
  if (admin !== undefined) {
    const mount = (c: Context<AppEnv>) => {
      admin(c.env.incoming, c.env.outgoing)
      return RESPONSE_ALREADY_SENT
    }
    app.all('/admin', mount)
    app.all('/admin/*', mount)
  }

  app.use(async (c, next) => {
    c.set('cache', cache)
    await next()
  })

  // Read-through: served from Redis when cached, loaded from the backend (and cached) otherwise.
  app.get('/items/:id', async (c) => {
    const id = c.req.param('id')
    let loaded = false
    const item = await c.var.cache.getOrSet(
      `item:${id}`,
      () => {
        loaded = true
        return loadItem(id)
      },
      { timeout: 60 },
    )
    // A value another app stored (Django) may hold integers beyond 2^53: cachex reads them as
    // bigints, which c.json refuses. toJSONSafe answers them as decimal strings.
    return c.json(toJSONSafe({ item, loaded, loads: loadCount(id) }))
  })

  // Invalidation: one item, or every item at once (SCAN + UNLINK of `item:*`).
  app.delete('/items/:id', async (c) => {
    return c.json({ deleted: await c.var.cache.delete(`item:${c.req.param('id')}`) })
  })
  app.delete('/items', async (c) => {
    return c.json({ deleted: await c.var.cache.deletePattern('item:*') })
  })

  // An atomic counter: `add` creates it once (never expiring), `incr` is one INCRBY.
  app.post('/hits', async (c) => {
    await c.var.cache.add('hits', 0, null)
    // Past 2^53 the count is a bigint (exact): answer it as a string, which Number() would round.
    const hits = await c.var.cache.incr('hits')
    return c.json({ hits: typeof hits === 'bigint' ? hits.toString() : hits })
  })

  // A job that must not run twice at once: whoever gets the lock runs it, the others get 409.
  // The lock expires after 10 s by itself, should this process die while holding it.
  app.post('/jobs/nightly', async (c) => {
    const lock = c.var.cache.lock('nightly', { timeout: 10 })
    if (!(await lock.acquire({ blocking: false }))) {
      return c.json({ error: 'the nightly job is already running' }, 409)
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
    return c.json(result)
  })

  // The error's message is for the log: it names Redis's address, which clients need not know.
  // Redis down or not answering (a ConnectionError; TimeoutError is one) is a 503 a client may
  // retry.
  app.onError((error, c) => {
    console.error(error)
    if (error instanceof ConnectionError) {
      return c.json({ error: 'the cache is unavailable, try again later' }, 503)
    }
    return c.json({ error: 'internal error' }, 500)
  })

  return app
}
