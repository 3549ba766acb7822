import { type Cache, KeyNotFoundError } from '@cachex/redis'
import { Controller, Get, HttpCode, Post } from '@nestjs/common'
import { InjectCachex } from './cachex.module.ts'

@Controller('hits')
export class HitsController {
  constructor(@InjectCachex() private readonly cache: Cache) {}

  /** Counts one hit with an atomic `INCRBY`; resolves the new count. */
  @Post()
  @HttpCode(200)
  async hit(): Promise<{ hits: number | string | null }> {
    try {
      return { hits: exact(await this.cache.incr('hits')) }
    } catch (error) {
      // As in Django, incr() on a missing key rejects: create it (add is SET NX, so concurrent
      // first hits create it once) and count again.
      if (!(error instanceof KeyNotFoundError)) throw error
      await this.cache.add('hits', 0, null)
      return { hits: exact(await this.cache.incr('hits')) }
    }
  }

  @Get()
  async count(): Promise<{ hits: number | string | null }> {
    return { hits: exact(await this.cache.get<number | bigint>('hits', 0)) }
  }
}

/** Past 2^53 a count is a bigint (exact): answered as a string, which Number() would round. */
function exact(hits: number | bigint | null): number | string | null {
  return typeof hits === 'bigint' ? hits.toString() : hits
}
