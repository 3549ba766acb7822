import { createKeyv } from '@cachex/keyv'
import type { Cache } from '@cachex/redis'
import { CacheModule } from '@nestjs/cache-manager'
import { Module } from '@nestjs/common'
import { AppController } from './app.controller.ts'
import { CACHEX, CachexModule } from './cachex.module.ts'
import { HitsController } from './hits.controller.ts'
import { ItemsController } from './items.controller.ts'
import { ItemsService } from './items.service.ts'
import { JobsController } from './jobs.controller.ts'
import { ReportController } from './report.controller.ts'
import { ReportService } from './report.service.ts'

@Module({
  imports: [
    CachexModule,
    // Nest's CacheModule (cache-manager v7) on the same cachex cache, through a Keyv store: what
    // CacheInterceptor stores lands under `nest-example:1:http:<url>`, in cachex's JSON.
    CacheModule.registerAsync({
      inject: [CACHEX],
      useFactory: (cache: Cache) => ({
        stores: [createKeyv(cache, { namespace: 'http' })],
        ttl: 60_000, // cache-manager speaks milliseconds
      }),
    }),
  ],
  controllers: [AppController, ItemsController, ReportController, HitsController, JobsController],
  providers: [ItemsService, ReportService],
})
export class AppModule {}
