// What tools beside a `Cache` (the admin UI) need of it and its public API does not show: its
// codec, its reverse key function and its logger. Through `@cachex/core/internal` only.
import { contextOf } from './_context.ts'
import type { Cache } from './cache.ts'
import type { Codec } from './codec.ts'
import type { Logger } from './types.ts'

/** A cache's codec, reverse key function and logger (`cacheInternals`). */
export interface CacheInternals {
  /** The cache's value codec: its serializers and compressors, and `maxValueSize`. */
  readonly codec: Codec
  /** The user's key of a Redis key at `version`, by the cache's reverse key function. */
  userKey(redisKey: string, version: number): string
  /** Where the cache logs. */
  readonly logger: Logger
  /** Keys per `SCAN` unless a call says otherwise (`scanItersize`). */
  readonly itersize: number
}

/** The internals of `cache` (a `Cache` of this package). */
export function cacheInternals(cache: Cache): CacheInternals {
  const context = contextOf(cache)
  if (context === undefined) throw new TypeError('cacheInternals() takes a Cache')
  return {
    codec: context.codec,
    userKey: (redisKey, version) =>
      context.reverseKeyFunction(redisKey, context.keyPrefix, version),
    logger: context.logger,
    itersize: context.itersize,
  }
}
