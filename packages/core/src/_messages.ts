// Messages of the cache's errors that need more than one line to build: what a WRONGTYPE key
// holds, why a lock could not be taken, an unsafe incr result.

import { describe } from './_timeout.ts'
import { NotANumberError, ResponseError } from './errors.ts'
import type { LockOptions } from './lock-types.ts'

/** Readable names of the Redis types `TYPE` answers, for `WRONGTYPE` messages. */
export const REDIS_TYPES: Record<string, string> = {
  string: 'string value',
  list: 'list',
  hash: 'hash',
  set: 'set',
  zset: 'sorted set',
  stream: 'stream',
}

export function isWrongType(error: unknown): error is ResponseError {
  return error instanceof ResponseError && error.message.startsWith('WRONGTYPE')
}

/** The rejection of `incr(…, { as: 'number' })` when the result is not a safe integer. */
export function unsafeResult(key: string): NotANumberError {
  return new NotANumberError(
    `incr() on key '${key}' with as: 'number': the result would be beyond ±(2^53 - 1), which a number cannot hold exactly; the value was left unchanged (without as: 'number', incr() resolves a bigint)`,
  )
}

/** Why `acquireLock` could not take a lock, from the options it was given. */
export function whyNotAcquired(options: LockOptions): string {
  if (options.blocking === false) return 'another owner holds it (blocking: false)'
  if (typeof options.blockingTimeout === 'number') {
    return `another owner held it for the whole blockingTimeout (${options.blockingTimeout} s)`
  }
  return 'another owner holds it'
}

/** A lock name for an error message: the name, or what was given instead. */
export function lockNameOf(key: unknown): string {
  return typeof key === 'string' ? `'${key}'` : describe(key)
}
