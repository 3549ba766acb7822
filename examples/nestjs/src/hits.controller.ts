import { type Cache, KeyNotFoundError } from '@cachex/redis'
import { Controller, Get, HttpCode, Post } from '@nestjs/common'
import { InjectCachex } from './cachex.module.ts'

@Controller('hits')
export class HitsController {
  constructor(@InjectCachex() private readonly cache: Cache) {}

  /** Counts one hit with an atomic `INCRBY`; resolves the new count. */
  @Post()
  @HttpCode(200)
  async hit(): Promise<{ hits: number }> {
    try {
      return { hits: Number(await this.cache.incr('hits')) }
    } catch (error) {
      // As in Django, incr() on a missing key rejects: create it (add is SET NX, so concurrent
      // first hits create it once) and count again.
      if (!(error instanceof KeyNotFoundError)) throw error
      await this.cache.add('hits', 0, null)
      return { hits: Number(await this.cache.incr('hits')) }
    }
  }

  @Get()
  async count(): Promise<{ hits: number }> {
    return { hits: Number(await this.cache.get('hits', 0)) }
  }
}
