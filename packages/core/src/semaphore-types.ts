import type { AcquireOptions } from './lock-types.ts'
import type { Connection } from './types.ts'

/** Options of `cache.semaphore()` and `cache.acquirePermit()`. */
export interface SemaphoreOptions {
  /**
   * How many permits the semaphore has: the most that may be held at once, across every process
   * and cache sharing the Redis database. A positive integer. Use the same `limit` everywhere for
   * one name: each acquirer checks its own `limit` against the permits held.
   */
  limit: number
  /** How many of the `limit` permits one holder takes: a positive integer up to `limit`. @default 1 */
  weight?: number
  /**
   * Seconds a holder keeps its permits without releasing them: a holder that dies (or hangs)
   * frees them after this long, judged by the Redis server's clock. `null` never frees them — a
   * crashed holder then takes its permits with it for good. Unlike the lock's (redis-py's `null`),
   * the default is finite: a semaphore is shared by many holders, and one lost permit shrinks it
   * for everyone. Keep it longer than the work: a holder still working after it has lost its
   * permits (`release()` then rejects with `LockNotOwnedError`).
   * @default 60
   */
  timeout?: number | null
  /** Seconds to sleep between tries while blocking. @default 0.1 */
  sleep?: number
  /**
   * Whether `acquire()` waits for permits by default; `null` (redis-py's `None`) is taken as left
   * out. Anything else that is not a boolean (`'false'`, `0`) throws `InvalidArgumentError`.
   * @default true
   */
  blocking?: boolean
  /**
   * Seconds `acquire()` waits at most by default for permits others hold (checked between tries;
   * a try in flight is one call, bounded by the cache's `socketTimeout`); `null` (the default)
   * waits as long as it takes.
   */
  blockingTimeout?: number | null
}

/**
 * A distributed counting semaphore, as `cache.semaphore()` returns it — holding nothing until
 * `acquire()` resolves `true`. `@cachex/lock` implements it. Like `CacheLock`, it is not
 * `AsyncDisposable`: `cache.acquirePermit()` resolves a `HeldPermit` for `await using`.
 */
export interface CacheSemaphore {
  /** The Redis key of the semaphore (a sorted set of its holders). */
  readonly name: string
  /** How many permits the semaphore has. */
  readonly limit: number
  /** How many permits this holder takes. */
  readonly weight: number
  /** Seconds a holder keeps its permits without releasing them; `null` for ever. */
  readonly timeout: number | null
  /** The random token of the permits this semaphore holds, or `null` when it holds none. */
  readonly token: string | null
  /**
   * Takes `weight` permits; resolves `false` when they could not be had (not blocking, or the
   * wait ran out). Rejects with `LockError` when this semaphore already holds permits.
   */
  acquire(options?: Pick<AcquireOptions, 'blocking' | 'blockingTimeout'>): Promise<boolean>
  /**
   * Gives the permits back. Rejects with `LockError` when none are held, and with
   * `LockNotOwnedError` when they expired (`timeout`) and were dropped, so that others may have
   * been admitted in their place. A release that failed without an answer keeps the token, so
   * that it can be retried.
   */
  release(): Promise<void>
  /**
   * Takes the permits (blocking as configured), runs `fn`, and releases them however `fn` ends.
   * Rejects with `LockError` when the permits could not be had.
   */
  withPermit<T>(fn: () => T | Promise<T>): Promise<T>
}

/**
 * Permits that are held, as `cache.acquirePermit()` resolves them:
 * `await using permit = await cache.acquirePermit(name, { limit })` gives them back at the end
 * of the block.
 */
export interface HeldPermit extends AsyncDisposable {
  /** The Redis key of the semaphore. */
  readonly name: string
  /** The token of the permits, or `null` once they were released. */
  readonly token: string | null
  /** The `CacheSemaphore` behind it, as `cache.semaphore()` would give it. */
  readonly semaphore: CacheSemaphore
  /** Gives the permits back; rejects with `LockNotOwnedError` when they expired and were dropped. */
  release(): Promise<void>
  /**
   * Gives the permits back if they are still held, at the end of an `await using` block. Rejects
   * with `LockNotOwnedError` when they expired meanwhile and were dropped (the block ran beyond
   * its `timeout`). When the cache was closed first, disposal resolves and the permits
   * expire by their `timeout`.
   */
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * Creates the semaphore behind `cache.semaphore()`. The umbrella hands the `Cache` the one from
 * `@cachex/lock`, so that core never imports the lock package. Its options also hold the cache's
 * close `signal`, as `LockFactory`'s do.
 */
export type SemaphoreFactory = (
  connection: Connection,
  name: string,
  options: SemaphoreOptions & { signal?: AbortSignal },
) => CacheSemaphore
