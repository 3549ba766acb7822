import { buildApp } from './app.ts'

// The cache is configured once, here, and created by the cache plugin when the app starts.
const app = await buildApp({
  cache: {
    location: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    keyPrefix: 'example-fastify',
    timeout: 300,
  },
  // The admin UI (`@cachex/admin`) at /admin, only when CACHEX_ADMIN_TOKEN is set: the example
  // never serves it without credentials (a token shorter than 16 characters makes the start fail).
  adminToken: process.env.CACHEX_ADMIN_TOKEN,
})

await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' })

// Graceful shutdown: `close()` stops accepting connections, lets requests in flight finish and
// runs the `onClose` hooks, which close the cache.
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  app.log.info(`${signal}: shutting down`)
  setTimeout(() => {
    app.log.error('shutdown took longer than 10 s, exiting')
    process.exit(1)
  }, 10_000).unref()
  await app.close()
}

process.once('SIGTERM', (signal) => void shutdown(signal))
process.once('SIGINT', (signal) => void shutdown(signal))
