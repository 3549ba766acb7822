// The extended API on keys: expiry (ttl, expire, persist…), scans (keys, iterKeys,
// deletePattern) and locks. Documented on `CacheLike`.
import {
  ACQUIRE_LOCK_KEYS,
  checkItersize,
  checkMs,
  checkOptions,
  checkVersionOption,
  LOCK_KEYS,
  LOCK_OPTIONS,
  SCAN_KEYS,
} from '../_args.ts'
import { tooManyArguments } from '../_arity.ts'
import { type CacheContext, contextOf, type Implementation } from '../_context.ts'
import { HeldLockHandle } from '../_held-lock.ts'
import { lockNameOf, whyNotAcquired } from '../_messages.ts'
import { own, pickGiven } from '../_own.ts'
import { rescanning } from '../_scan-walk.ts'
import { checkSeconds } from '../_timeout.ts'
import type { CacheLike } from '../cache-like.ts'
import type { ScanOptions, VersionOption } from '../cache-options.ts'
import { InvalidArgumentError, LockError } from '../errors.ts'
import type { AcquireLockOptions, CacheLock, HeldLock, LockOptions } from '../lock-types.ts'

/** The extended API, attached to `Cache`. */
export const keyCommands = {
  ttl(key: string, options?: VersionOption): Promise<number | null> {
    // biome-ignore lint/complexity/noArguments: its count, free (a wrapper is not: _arity.ts)
    const given = arguments.length
    if (given > 2) return Promise.reject(tooManyArguments(this, 'ttl', 2, given))
    return ttl(contextOf(this), key, 's', 'ttl', options)
  },

  pttl(key: string, options?: VersionOption): Promise<number | null> {
    return ttl(contextOf(this), key, 'ms', 'pttl', options)
  },

  async expire(key: string, seconds: number, options?: VersionOption): Promise<boolean> {
    const context = contextOf(this)
    try {
      const rkey = context.key(key, options, 'expire')
      return await context.store.expire(rkey, Math.trunc(checkSeconds(seconds, 'seconds') * 1000))
    } catch (error) {
      return context.fail(error, false, 'expire')
    }
  },

  async pexpire(key: string, milliseconds: number, options?: VersionOption): Promise<boolean> {
    const context = contextOf(this)
    try {
      const rkey = context.key(key, options, 'pexpire')
      return await context.store.expire(rkey, Math.trunc(checkMs(milliseconds)))
    } catch (error) {
      return context.fail(error, false, 'pexpire')
    }
  },

  async expireAt(key: string, when: Date | number, options?: VersionOption): Promise<boolean> {
    const context = contextOf(this)
    try {
      const rkey = context.key(key, options, 'expireAt')
      const unixMs =
        when instanceof Date
          ? checkMs(when.getTime(), true)
          : Math.trunc(checkSeconds(when, 'when', false, true) * 1000)
      return await context.store.expireAt(rkey, unixMs)
    } catch (error) {
      return context.fail(error, false, 'expireAt')
    }
  },

  async pexpireAt(key: string, when: Date | number, options?: VersionOption): Promise<boolean> {
    const context = contextOf(this)
    try {
      const rkey = context.key(key, options, 'pexpireAt')
      const unixMs = Math.trunc(checkMs(when instanceof Date ? when.getTime() : when, true))
      return await context.store.expireAt(rkey, unixMs)
    } catch (error) {
      return context.fail(error, false, 'pexpireAt')
    }
  },

  async persist(key: string, options?: VersionOption): Promise<boolean> {
    const context = contextOf(this)
    try {
      return await context.store.persist(context.key(key, options, 'persist'))
    } catch (error) {
      return context.fail(error, false, 'persist')
    }
  },

  lock(key: string, options: LockOptions & VersionOption = {}): CacheLock {
    checkOptions(options, 'lock', LOCK_KEYS)
    return makeLock(contextOf(this), 'lock', key, options)
  },

  async acquireLock(key: string, options: AcquireLockOptions = {}): Promise<HeldLock> {
    const context = contextOf(this)
    try {
      checkOptions(options, 'acquireLock', ACQUIRE_LOCK_KEYS)
      // Own or inherited, as checkOptions took them (a rest spread would drop inherited ones).
      const lockOptions: LockOptions & VersionOption = pickGiven(options, LOCK_KEYS)
      const token = own(options, 'token')
      const lock = makeLock(context, 'acquireLock', key, lockOptions)
      if (!(await lock.acquire(token === undefined ? undefined : { token }))) {
        throw new LockError(
          `could not acquire the lock ${lockNameOf(key)}: ${whyNotAcquired(lockOptions)}`,
        )
      }
      return new HeldLockHandle(lock)
    } catch (error) {
      // Thrown as it is (ignoreExceptions does not apply to locks), and reported as every
      // other method's failure is: an error that `cachex.errors` counts.
      context.events.thrown('acquireLock', error)
      throw error
    }
  },

  async keys(pattern = '*', options?: ScanOptions): Promise<string[]> {
    const context = contextOf(this)
    try {
      const [redisPattern, itersize, version] = scanArguments(context, 'keys', pattern, options)
      // SCAN may name a key twice (its table resized during the walk); KEYS, django-redis's,
      // never does: each Redis key once. So a walk whose server changed (a failover, a
      // reconnection) can start over: what it listed twice is listed once.
      const seen = new Set<string>()
      const walk = () => context.store.scan(redisPattern, itersize)
      for await (const batch of rescanning(walk)) {
        // A key whose name is not UTF-8 has no string that names it (see `userKeys`).
        for (const rkey of batch) if (typeof rkey === 'string') seen.add(rkey)
      }
      const keys: string[] = []
      for (const rkey of seen) {
        keys.push(context.reverseKeyFunction(rkey, context.keyPrefix, version))
      }
      return keys
    } catch (error) {
      return context.fail(error, [], 'keys')
    }
  },

  iterKeys(pattern = '*', options?: ScanOptions): AsyncIterable<string> {
    const context = contextOf(this)
    let scan: [redisPattern: string, itersize: number, version: number]
    try {
      scan = scanArguments(context, 'iterKeys', pattern, options)
    } catch (error) {
      // Still thrown at once, before any iteration; reported as a failure of the call.
      context.events.thrown('iterKeys', error)
      throw error
    }
    return guardedUserKeys(context, ...scan)
  },

  async deletePattern(pattern: string, options?: ScanOptions): Promise<number> {
    const context = contextOf(this)
    try {
      const [redisPattern, itersize] = scanArguments(context, 'deletePattern', pattern, options)
      return await context.store.deleteMatching(redisPattern, itersize)
    } catch (error) {
      return context.fail(error, 0, 'deletePattern')
    }
  },
} satisfies Implementation<
  Pick<
    CacheLike,
    | 'ttl'
    | 'pttl'
    | 'expire'
    | 'pexpire'
    | 'expireAt'
    | 'pexpireAt'
    | 'persist'
    | 'lock'
    | 'acquireLock'
    | 'keys'
    | 'iterKeys'
    | 'deletePattern'
  >
>

async function ttl(
  context: CacheContext,
  key: string,
  unit: 's' | 'ms',
  method: string,
  options: VersionOption | undefined,
): Promise<number | null> {
  try {
    return await context.store.ttl(context.key(key, options, method), unit)
  } catch (error) {
    return context.fail(error, 0, method)
  }
}

function makeLock(
  context: CacheContext,
  method: string,
  key: string,
  options: LockOptions & VersionOption,
): CacheLock {
  if (context.lockFactory === undefined) {
    throw new LockError(
      `cache.${method}() needs a lock factory: create the cache with @cachex/redis, or pass lockFactory from @cachex/lock`,
    )
  }
  if (typeof key !== 'string' || key === '') {
    throw new InvalidArgumentError(
      `${method}() needs a non-empty lock name, got ${lockNameOf(key)}`,
    )
  }
  // Own or inherited, as checkOptions took them (a rest spread would drop inherited ones).
  const lockOptions: LockOptions = pickGiven(options, LOCK_OPTIONS)
  const version = own(options, 'version')
  return context.lockFactory(
    context.connection,
    context.makeKey(key, checkVersionOption(version) ?? context.version),
    lockOptions,
  )
}

/** The Redis pattern, `itersize` and version of a key scan, checked. */
function scanArguments(
  context: CacheContext,
  method: string,
  pattern: string,
  options: ScanOptions | undefined,
): [redisPattern: string, itersize: number, version: number] {
  checkOptions(options, method, SCAN_KEYS)
  if (pattern === '') {
    throw new InvalidArgumentError(
      `${method}() got an empty pattern, which matches no key: use '*' for every key`,
    )
  }
  const version = checkVersionOption(own(options, 'version')) ?? context.version
  return [
    context.makePattern(pattern, version),
    checkItersize(own(options, 'itersize') ?? context.itersize),
    version,
  ]
}

async function* userKeys(
  context: CacheContext,
  redisPattern: string,
  itersize: number,
  version: number,
): AsyncGenerator<string> {
  for await (const batch of context.store.scan(redisPattern, itersize)) {
    for (const rkey of batch) {
      // A key whose name is not UTF-8 has no string that names it (a string key is written as
      // UTF-8): yielding its lossy text would name another key. deletePattern still removes it.
      if (typeof rkey === 'string') {
        yield context.reverseKeyFunction(rkey, context.keyPrefix, version)
      }
    }
  }
}

/** `userKeys` under the error policy: with `ignoreExceptions`, a failure ends the iteration. */
async function* guardedUserKeys(
  context: CacheContext,
  redisPattern: string,
  itersize: number,
  version: number,
): AsyncGenerator<string> {
  try {
    yield* userKeys(context, redisPattern, itersize, version)
  } catch (error) {
    context.fail(error, undefined, 'iterKeys')
  }
}
