import { ConnectionError, type CreateCacheOptions } from '@cachex/redis'
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify'
import admin from './plugins/admin.ts'
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
  /**
   * The admin UI's token: given, the admin of the cache is served at `/admin`. Leave it out to
   * serve no admin.
   */
  adminToken?: string | undefined
}

/** The Fastify app: the cache plugin first, then the routes that use `fastify.cache`. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? true })
  // Graceful shutdown with keep-alive clients: `close()` closes the idle connections
  // (`forceCloseConnections: 'idle'`, the default) and answers requests that arrive afterwards
  // 503 with `Connection: close`; a request already in flight is answered, with `Connection:
  // close` too, so that its connection closes then instead of holding `close()` until
  // `keepAliveTimeout` (72 s).
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close')
  })
  // Fastify answers a thrown error with its message, which for the cache's errors names Redis's
  // address: logged instead, not handed to clients. Redis down or not answering (a
  // ConnectionError; TimeoutError is one) is a 503 a client may retry; errors that carry a client
  // status of their own (validation: 400) keep it.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500
    if (status < 500) return reply.send(error)
    request.log.error({ err: error }, 'request failed')
    if (error instanceof ConnectionError) {
      return reply.code(503).send({ error: 'the cache is unavailable, try again later' })
    }
    return reply.code(500).send({ error: 'internal error' })
  })
  await app.register(cache, options.cache)
  if (options.adminToken) await app.register(admin, { token: options.adminToken })
  await app.register(items, { prefix: '/items' })
  await app.register(hits, { prefix: '/hits' })
  await app.register(jobs, { prefix: '/jobs' })
  return app
}
