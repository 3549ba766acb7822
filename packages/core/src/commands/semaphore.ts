// Distributed counting semaphores: `semaphore()` and `acquirePermit()`. The semaphore itself
// comes from the cache's semaphore factory (`@cachex/lock`'s under `@cachex/redis`), as locks
// come from the lock factory; this family only builds the Redis key and checks the options.
import { checkOptions, checkVersionOption } from '../_args.ts'
import { type CacheContext, contextOf, type Implementation } from '../_context.ts'
import { HeldPermitHandle } from '../_held-permit.ts'
import { lockNameOf } from '../_messages.ts'
import { own, pickGiven } from '../_own.ts'
import type { VersionOption } from '../cache-options.ts'
import { InvalidArgumentError, LockError } from '../errors.ts'
import type { CacheSemaphore, HeldPermit, SemaphoreOptions } from '../semaphore-types.ts'

/** What a semaphore is made with: handed to the factory. */
const SEMAPHORE_OPTIONS = ['limit', 'weight', 'timeout', 'sleep', 'blocking', 'blockingTimeout']
const SEMAPHORE_KEYS = [...SEMAPHORE_OPTIONS, 'version']

/** Semaphores on a `Cache`: at most `limit` permits held at once, across every process. */
export interface SemaphoreCommands {
  /**
   * A distributed counting semaphore on `key` (the key function applies): at most `limit`
   * permits are held at once by every process and cache sharing the database, each holder taking
   * `weight` of them. It holds nothing yet: call `acquire()` (resolves whether it got the
   * permits), then `release()`, or `withPermit(fn)`. For permits held for the length of a block,
   * use `await using permit = await cache.acquirePermit(key, …)`. A holder that dies frees its
   * permits after `timeout` seconds (60 by default). Options are checked here: a `limit` that is
   * not a positive integer, or a `weight` that is not one or exceeds `limit`, throws
   * `InvalidArgumentError` before anything is sent. Errors from Redis surface as they do for
   * `lock()`: `ignoreExceptions` does not apply. Needs a semaphore factory: `createCache()` from
   * `@cachex/redis` provides `@cachex/lock`'s.
   */
  semaphore(key: string, options: SemaphoreOptions & VersionOption): CacheSemaphore
  /**
   * Takes permits of the semaphore on `key` — waiting as `blocking` and `blockingTimeout` say —
   * and resolves a `HeldPermit`, which gives them back at the end of an `await using` block:
   *
   * ```ts
   * await using permit = await cache.acquirePermit('api:geocoder', { limit: 4, blockingTimeout: 5 })
   * ```
   *
   * Rejects with `LockError` naming the semaphore when the permits could not be had.
   */
  acquirePermit(key: string, options: SemaphoreOptions & VersionOption): Promise<HeldPermit>
}

/** The semaphore methods, attached to `Cache`. */
export const semaphoreCommands = {
  semaphore(key: string, options: SemaphoreOptions & VersionOption): CacheSemaphore {
    return makeSemaphore(contextOf(this), 'semaphore', key, options)
  },

  async acquirePermit(key: string, options: SemaphoreOptions & VersionOption): Promise<HeldPermit> {
    const context = contextOf(this)
    try {
      const semaphore = makeSemaphore(context, 'acquirePermit', key, options)
      if (!(await semaphore.acquire())) {
        throw new LockError(
          `could not acquire ${semaphore.weight === 1 ? 'a permit' : `${semaphore.weight} permits`} of the semaphore ${lockNameOf(key)}: ${whyNoPermit(options)}`,
        )
      }
      return new HeldPermitHandle(semaphore)
    } catch (error) {
      // Thrown as it is (ignoreExceptions does not apply to semaphores), and reported as every
      // other method's failure is: an error that `cachex.errors` counts.
      context.events.thrown('acquirePermit', error)
      throw error
    }
  },
} satisfies Implementation<SemaphoreCommands>

function makeSemaphore(
  context: CacheContext,
  method: string,
  key: string,
  options: SemaphoreOptions & VersionOption,
): CacheSemaphore {
  if (options === undefined) {
    throw new InvalidArgumentError(`${method}() needs options with a limit: { limit: 5 }`)
  }
  checkOptions(options, method, SEMAPHORE_KEYS)
  if (context.semaphoreFactory === undefined) {
    throw new LockError(
      `cache.${method}() needs a semaphore factory: create the cache with @cachex/redis, or pass semaphoreFactory from @cachex/lock`,
    )
  }
  if (typeof key !== 'string' || key === '') {
    throw new InvalidArgumentError(
      `${method}() needs a non-empty semaphore name, got ${lockNameOf(key)}`,
    )
  }
  // Own or inherited, as checkOptions took them (a rest spread would drop inherited ones).
  const semaphoreOptions = pickGiven(options, SEMAPHORE_OPTIONS) as unknown as SemaphoreOptions
  const version = own(options, 'version')
  return context.semaphoreFactory(
    context.connection,
    context.makeKey(key, checkVersionOption(version) ?? context.version),
    semaphoreOptions,
  )
}

/** Why `acquirePermit` could not take permits, from the options it was given. */
function whyNoPermit(options: SemaphoreOptions): string {
  if (own(options, 'blocking') === false) return 'every permit is held (blocking: false)'
  if (typeof own(options, 'blockingTimeout') === 'number') {
    return `not enough permits were free for the whole blockingTimeout (${own(options, 'blockingTimeout')} s)`
  }
  return 'every permit is held'
}
