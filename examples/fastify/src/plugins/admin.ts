import { createAdminHandler } from '@cachex/admin'
import fp from 'fastify-plugin'

/** Options of the admin plugin. */
export interface AdminPluginOptions {
  /** The admin's bearer token (`CACHEX_ADMIN_TOKEN`), 16 characters or more. */
  token: string
  /** Where the admin is served. @default '/admin' */
  path?: string
}

/**
 * Serves the admin UI (`@cachex/admin`) of `fastify.cache` under `path`. The admin is a `node:http`
 * handler that reads its own request bodies, so it gets the raw request and response in an
 * `onRequest` hook, before Fastify parses a body, and `reply.hijack()` tells Fastify it answers.
 * Registered with `fastify-plugin`, the hook sees every request of the app, unknown routes too.
 */
export default fp<AdminPluginOptions>(
  async (fastify, options) => {
    const path = options.path ?? '/admin'
    const admin = createAdminHandler({
      caches: { default: fastify.cache },
      auth: { token: options.token },
      // Fastify leaves the path in `req.url`: the admin strips it.
      basePath: path,
    })
    fastify.addHook('onRequest', (request, reply, done) => {
      const pathname = request.url.split('?', 1)[0] ?? ''
      if (pathname !== path && !pathname.startsWith(`${path}/`)) {
        done()
        return
      }
      reply.hijack()
      admin(request.raw, reply.raw)
    })
    fastify.addHook('onClose', async () => {
      admin.close()
    })
  },
  { name: 'cachex-admin', fastify: '5.x', dependencies: ['cachex'] },
)
