import type { AdminHandler } from '@cachex/admin'
import { type Cache, ConnectionError } from '@cachex/redis'
import express, { type ErrorRequestHandler } from 'express'
import { cacheRoutes } from './routes.ts'

/** Options of `createApp`. */
export interface AppOptions {
  /** The admin UI (`createAdminHandler`), mounted at `/admin` when given. */
  admin?: AdminHandler | undefined
}

/** The Express app, over a cache the caller configured. */
export function createApp(cache: Cache, options: AppOptions = {}): express.Express {
  const app = express()
  // The admin UI at /admin. `app.use` strips the mount path (the admin finds it in
  // `req.originalUrl`), so it needs no `basePath`; it reads its JSON bodies itself, or takes what
  // an `express.json()` mounted before it parsed.
  if (options.admin !== undefined) app.use('/admin', options.admin)
  app.use(cacheRoutes(cache))
  // Express 5 forwards rejected promises of async handlers here (a Redis timeout, say). The
  // error's message is for the log: it names Redis's address, which clients need not know. Redis
  // down or not answering (a ConnectionError; TimeoutError is one) is a 503 a client may retry.
  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    console.error(error)
    if (error instanceof ConnectionError) {
      res.status(503).json({ error: 'the cache is unavailable, try again later' })
    } else {
      res.status(500).json({ error: 'internal error' })
    }
  }
  app.use(onError)
  return app
}
