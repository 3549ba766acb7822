import type { Server } from 'node:http'
import { createAdminHandler } from '@cachex/admin'
import { createCache } from '@cachex/redis'
import { serve } from '@hono/node-server'
import { createApp } from './app.ts'

// Configured once at start-up; nothing connects before the first command.
const cache = createCache({
  location: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
  keyPrefix: 'example-hono',
  timeout: 300,
})

const port = Number(process.env.PORT ?? 3000)
const hostname = process.env.HOST ?? '127.0.0.1'
// The admin UI (`@cachex/admin`) at /admin, only when CACHEX_ADMIN_TOKEN is set: the example never
// serves it without credentials (a token shorter than 16 characters makes the start fail).
const token = process.env.CACHEX_ADMIN_TOKEN
const admin = token
  ? createAdminHandler({ caches: { default: cache }, auth: { token }, basePath: '/admin' })
  : undefined
const app = createApp(cache, { admin })
// `serve` starts a `node:http` server (no `createServer` option given).
const server = serve({ fetch: app.fetch, port, hostname }, (info) => {
  console.log(`hono example listening on http://${info.address}:${info.port}`)
  if (admin !== undefined) console.log(`admin UI on http://${info.address}:${info.port}/admin/`)
}) as Server

// Graceful shutdown: stop accepting connections, let requests in flight finish, close the cache.
// `server.close()` closes the idle keep-alive connections, but one whose request is in flight would
// stay open once answered, holding `close()` until the client or the keep-alive timeout (5 s)
// closes it: close it as soon as its response is sent.
let closing = false
server.on('request', (_request, response) => {
  response.once('finish', () => {
    if (closing) server.closeIdleConnections()
  })
})
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  console.log(`${signal}: shutting down`)
  closing = true
  setTimeout(() => {
    console.error('shutdown took longer than 10 s, exiting')
    process.exit(1)
  }, 10_000).unref()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  admin?.close()
  await cache.close()
}

process.once('SIGTERM', (signal) => void shutdown(signal))
process.once('SIGINT', (signal) => void shutdown(signal))
