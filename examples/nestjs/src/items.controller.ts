import type { Cache } from '@cachex/redis'
import { CacheInterceptor, CacheTTL } from '@nestjs/cache-manager'
import { Controller, Delete, Get, Param, UseInterceptors } from '@nestjs/common'
import { InjectCachex } from './cachex.module.ts'
import { type Item, ItemsService } from './items.service.ts'

@Controller('items')
export class ItemsController {
  constructor(
    private readonly items: ItemsService,
    @InjectCachex() private readonly cache: Cache,
  ) {}

  /**
   * Read-through: CacheInterceptor answers from the cache (keyed by the URL) and stores what the
   * handler returns; it sets `X-Cache: HIT` or `MISS`.
   */
  @Get(':id')
  @UseInterceptors(CacheInterceptor)
  @CacheTTL(60_000)
  get(@Param('id') id: string): Promise<Item> {
    return this.items.load(id)
  }

  /** Drops every cached item: the interceptor's keys are `http:/items/<id>` in cachex. */
  @Delete()
  async invalidate(): Promise<{ deleted: number }> {
    return { deleted: await this.cache.deletePattern('http:/items/*') }
  }
}
