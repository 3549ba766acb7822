// A lock's options, read and checked: those it is made with (`cache.lock()`,
// `cache.acquireLock()`, `new Lock`), and those its `acquire()` and `extend()` calls take. Each
// throws `InvalidArgumentError` before anything is sent, in the order the options are read.
import { randomBytes } from 'node:crypto'
import { type AcquireOptions, InvalidArgumentError, type LockOptions } from '@cachex/core'
import { checkBoolean, own } from '@cachex/core/internal'
import {
  type ClosedSignalOption,
  checkCallOptions,
  checkSignal,
  checkToken,
  optionalSeconds,
  positiveSeconds,
} from './_seconds.ts'

/** The options `acquire()` takes; `timeout` and `sleep` are the lock's own. */
const ACQUIRE_OPTIONS = ['blocking', 'blockingTimeout', 'token'] as const
const LOCK_OWN_OPTIONS = ['timeout', 'sleep']
const LOCK_OWN =
  "it is the lock's own: pass it when the lock is made, to cache.lock() or cache.acquireLock()"
/** The options a lock is made with (`cache.lock()` adds the cache's close `signal`). */
const LOCK_OPTIONS = ['timeout', 'sleep', 'blocking', 'blockingTimeout', 'signal'] as const
/** The options `extend()` takes. */
const EXTEND_OPTIONS = ['replaceTtl'] as const

/** What a lock is made with, checked (see the members of the same names on `Lock`). */
export interface LockSettings {
  /** Seconds after which the lock expires; `null` never expires. */
  timeout: number | null
  /** Seconds to sleep between tries while blocking. */
  sleep: number
  /** Whether `acquire()` waits by default. */
  blocking: boolean
  /** Seconds `acquire()` waits at most by default; `null` waits as long as it takes. */
  blockingTimeout: number | null
  /** Aborted when the cache that made the lock closes (see `ClosedSignalOption`). */
  signal: AbortSignal | undefined
}

/**
 * The settings of a lock named `name` made with `options`: `timeout` none, `sleep` 0.1 s,
 * `blocking` true, `blockingTimeout` none unless given. Throws `InvalidArgumentError` for an
 * empty name, options that are not an object, an option a lock does not take (redis-py's
 * `blocking_timeout`, a misspelt `timout`), or one of the wrong kind.
 */
export function lockSettings(
  name: string,
  options: LockOptions & ClosedSignalOption,
): LockSettings {
  if (typeof name !== 'string' || name === '') {
    throw new InvalidArgumentError('a lock needs a non-empty name')
  }
  // A misspelt option would otherwise be ignored: a wait with no end, a lock that never expires.
  checkCallOptions(options, 'new Lock', LOCK_OPTIONS)
  const timeout = own(options, 'timeout')
  return {
    timeout: timeout == null ? null : positiveSeconds(timeout, 'timeout'),
    sleep: positiveSeconds(own(options, 'sleep') ?? 0.1, 'sleep'),
    blocking: nullableFlag(own(options, 'blocking'), 'lock', 'blocking', true),
    blockingTimeout: optionalSeconds(own(options, 'blockingTimeout') ?? null, 'blockingTimeout'),
    signal: checkSignal(own(options, 'signal')),
  }
}

/** What one `acquire()` waits for and takes. */
export interface AcquireSettings {
  /** Whether it waits for the lock. */
  blocking: boolean
  /** Seconds it waits at most; `null` waits as long as it takes. */
  blockingTimeout: number | null
  /** The token it takes the lock with: the caller's, or a random one. */
  token: string
}

/**
 * The options of one `acquire()`, checked, over the lock's defaults (`lock`): an option it does
 * not take (`timeout`, redis-py's `blocking_timeout`), or options that are not an object, throw
 * `InvalidArgumentError`.
 */
export function acquireSettings(
  options: AcquireOptions,
  lock: Pick<LockSettings, 'blocking' | 'blockingTimeout'>,
): AcquireSettings {
  checkCallOptions(options, 'lock.acquire', ACQUIRE_OPTIONS, LOCK_OWN_OPTIONS, LOCK_OWN)
  const blocking = nullableFlag(own(options, 'blocking'), 'lock.acquire', 'blocking', lock.blocking)
  const wait = own(options, 'blockingTimeout')
  const blockingTimeout =
    wait === undefined ? lock.blockingTimeout : optionalSeconds(wait, 'blockingTimeout')
  const given = own(options, 'token')
  const token = given === undefined ? newToken() : checkToken(given)
  return { blocking, blockingTimeout, token }
}

/** A random token of 16 bytes, as hex: the value a hold's key holds. */
export function newToken(): string {
  return randomBytes(16).toString('hex')
}

/**
 * Whether an `extend()` with `options` replaces the lock's remaining time (`replaceTtl`, `null`
 * being `false`); an option other than `replaceTtl` throws `InvalidArgumentError`.
 */
export function replacesTtl(options: { replaceTtl?: boolean }): boolean {
  checkCallOptions(options, 'lock.extend', EXTEND_OPTIONS)
  return nullableFlag(own(options, 'replaceTtl'), 'lock.extend', 'replaceTtl', false)
}

/**
 * A boolean option `name` of `method()` (`blocking`, `replaceTtl`): `fallback` when absent or
 * `null` (redis-py's `None`, which means the default there); anything else that is not a boolean
 * throws `InvalidArgumentError` naming the method and the value — `'false'` read truthily would
 * block.
 */
export function nullableFlag(
  value: unknown,
  method: string,
  name: string,
  fallback: boolean,
): boolean {
  return checkBoolean(value ?? undefined, `${method}(): ${name}`, fallback)
}
