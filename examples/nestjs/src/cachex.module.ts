import { type Cache, caches, configureCaches } from '@cachex/redis'
import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common'

/** The injection token of the default cachex cache. */
export const CACHEX = Symbol('cachex')

/** Injects the default cachex cache: `constructor(@InjectCachex() cache: Cache)`. */
export const InjectCachex = (): ParameterDecorator => Inject(CACHEX)

/**
 * Configures cachex once, at start-up, as Django's `CACHES` setting, and makes the default cache
 * injectable everywhere. The caches close when the app shuts down.
 */
@Global()
@Module({
  providers: [
    {
      provide: CACHEX,
      useFactory: (): Cache => {
        configureCaches({
          default: {
            location: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
            keyPrefix: 'nest-example',
            timeout: 300,
          },
        })
        return caches.get('default')
      },
    },
  ],
  exports: [CACHEX],
})
export class CachexModule implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    await caches.close()
  }
}
