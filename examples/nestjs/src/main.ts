import 'reflect-metadata'
import { NestFactory } from '@nestjs/core'
import { AppModule } from './app.module.ts'

const app = await NestFactory.create(AppModule)
await app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1')
console.log(`cachex NestJS example listening on ${await app.getUrl()}`)

// Graceful shutdown: app.close() stops the server and runs the shutdown hooks (CachexModule
// closes the caches), then the process exits 0. (enableShutdownHooks() would re-raise the signal.)
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error)
        process.exit(1)
      },
    )
  })
}
