import 'reflect-metadata'
import type { Server } from 'node:http'
import { createAdminHandler } from '@cachex/admin'
import { caches } from '@cachex/redis'
import { NestFactory } from '@nestjs/core'
import type { NestExpressApplication } from '@nestjs/platform-express'
import { AppModule } from './app.module.ts'

const app = await NestFactory.create<NestExpressApplication>(AppModule)

// The admin UI (`@cachex/admin`) at /admin, only when CACHEX_ADMIN_TOKEN is set: the example never
// serves it without credentials (a token shorter than 16 characters makes the start fail). It is
// Express middleware here: `app.use` strips the mount path (no `basePath`), and the admin takes
// the JSON body Nest's body parser read. `caches` is the registry CachexModule configured.
const token = process.env.CACHEX_ADMIN_TOKEN
const admin = token ? createAdminHandler({ caches, auth: { token } }) : undefined
if (admin !== undefined) app.use('/admin', admin)

await app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1')
console.log(`cachex NestJS example listening on ${await app.getUrl()}`)
if (admin !== undefined) console.log(`admin UI on ${await app.getUrl()}/admin/`)

// Graceful shutdown: app.close() stops the server and runs the shutdown hooks (CachexModule
// closes the caches), then the process exits 0. (enableShutdownHooks() would re-raise the signal.)
// Closing the server closes the idle keep-alive connections, but one whose request is in flight
// would stay open once answered, holding app.close() until the client or the keep-alive timeout
// (5 s) closes it: it is closed as soon as its response is sent. (Nest's `forceCloseConnections`
// would cut the request in flight.)
const server: Server = app.getHttpServer()
let closing = false
server.on('request', (_request, response) => {
  response.once('finish', () => {
    if (closing) server.closeIdleConnections()
  })
})
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    closing = true
    app.close().then(
      () => {
        admin?.close()
        process.exit(0)
      },
      (error: unknown) => {
        console.error(error)
        process.exit(1)
      },
    )
  })
}
