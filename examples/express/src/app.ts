import type { Cache } from '@cachex/redis'
import express, { type ErrorRequestHandler } from 'express'
import { cacheRoutes } from './routes.ts'

/** The Express app, over a cache the caller configured. */
export function createApp(cache: Cache): express.Express {
  const app = express()
  app.use(cacheRoutes(cache))
  // Express 5 forwards rejected promises of async handlers here (a Redis timeout, say).
  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    console.error(error)
    res.status(500).json({ error: error instanceof Error ? error.message : String(error) })
  }
  app.use(onError)
  return app
}
