import type { Connection } from './types.ts'

/** Options of `cache.lock()`, with redis-py's `Lock` defaults. */
export interface LockOptions {
  /** Seconds after which the lock expires by itself; `null` (the default) never expires. */
  timeout?: number | null
  /** Seconds to sleep between tries while blocking. @default 0.1 */
  sleep?: number
  /**
   * Whether `acquire()` waits for the lock by default; `null` (redis-py's `None`) is taken as left
   * out. Anything else that is not a boolean (`'false'`, `0`) throws `InvalidArgumentError`.
   * @default true
   */
  blocking?: boolean
  /**
   * Seconds `acquire()` waits at most by default for a lock someone else holds (checked between
   * tries; a try in flight is one call, bounded by the cache's `socketTimeout`); `null` (the
   * default) waits as long as it takes.
   */
  blockingTimeout?: number | null
}

/** Options of one `acquire()` call; each overrides the lock's own. */
export interface AcquireOptions {
  /**
   * Wait for the lock (`true`) or try once (`false`); left out or `null` (redis-py's `None`): the
   * lock's own `blocking`. Anything else throws `InvalidArgumentError`.
   */
  blocking?: boolean
  /**
   * Seconds to wait at most for a lock someone else holds (a try in flight is bounded by
   * `socketTimeout`); `null` waits as long as it takes.
   */
  blockingTimeout?: number | null
  /** The token to store, instead of a fresh random one. */
  token?: string
}

/**
 * Options of `cache.acquireLock()`: the lock's options, the key version, and the token to store.
 */
export interface AcquireLockOptions extends LockOptions {
  /** The key version of the lock's name. @default the cache's `version` */
  version?: number
  /** The token to store, instead of a fresh random one. */
  token?: string
}

/**
 * A distributed lock, as `cache.lock()` returns it — not taken until `acquire()` resolves `true`.
 * `@cachex/lock` implements it. It is deliberately not `AsyncDisposable`: `await using` on a lock
 * that was never taken would protect nothing; `cache.acquireLock()` resolves a `HeldLock` for that.
 */
export interface CacheLock {
  /** The Redis key of the lock. */
  readonly name: string
  /** The token this lock holds, or `null` when it does not hold the lock. */
  readonly token: string | null
  /**
   * The fencing token of the current hold: a number that strictly increases with each successful
   * `acquire()` of this lock name, across processes and caches; `null` before the lock is
   * acquired and once it is released. Hand it to the resource the lock protects with each write,
   * and have the resource refuse a token lower than one it has seen: a holder paused past its
   * `timeout` (GC, a stalled VM) wakes up believing it still holds the lock while another holds
   * it — the lock alone cannot stop its late write; the fencing token can.
   */
  readonly fencingToken: number | null
  /** Takes the lock; resolves `false` when it could not be had (not blocking, or the wait ran out). */
  acquire(options?: AcquireOptions): Promise<boolean>
  /**
   * Releases the lock; rejects with `LockNotOwnedError` when it is no longer ours. A release that
   * failed without an answer keeps the token, so that it can be retried.
   */
  release(): Promise<void>
  /**
   * Adds `seconds` to the remaining time (or sets it, with `replaceTtl`: a boolean, `null` being
   * `false`).
   */
  extend(seconds: number, options?: { replaceTtl?: boolean }): Promise<boolean>
  /** Resets the remaining time to the lock's `timeout`. */
  reacquire(): Promise<boolean>
  /** Whether anyone holds the lock. */
  locked(): Promise<boolean>
  /** Whether this lock's token is the one stored. */
  owned(): Promise<boolean>
  /** Acquires the lock, runs `fn`, and releases the lock however `fn` ends. */
  withLock<T>(fn: () => T | Promise<T>): Promise<T>
}

/**
 * A lock that is held, as `cache.acquireLock()` resolves it: redis-py's `with lock:` is
 * `await using lock = await cache.acquireLock(name, …)`, which releases it at the end of the block.
 */
export interface HeldLock extends AsyncDisposable {
  /** The Redis key of the lock. */
  readonly name: string
  /** The token this lock holds, or `null` once it was released. */
  readonly token: string | null
  /** The fencing token of this hold (see `CacheLock.fencingToken`), or `null` once released. */
  readonly fencingToken: number | null
  /** The `CacheLock` behind it, as `cache.lock()` would give it: to take the lock again after a release. */
  readonly lock: CacheLock
  /**
   * Releases the lock; rejects with `LockNotOwnedError` when it is no longer ours (it expired and
   * someone else took it). Disposal does not release it again.
   */
  release(): Promise<void>
  /**
   * Adds `seconds` to the remaining time (or sets it, with `replaceTtl`: a boolean, `null` being
   * `false`).
   */
  extend(seconds: number, options?: { replaceTtl?: boolean }): Promise<boolean>
  /** Resets the remaining time to the lock's `timeout`. */
  reacquire(): Promise<boolean>
  /** Whether anyone holds the lock. */
  locked(): Promise<boolean>
  /** Whether this lock's token is still the one stored. */
  owned(): Promise<boolean>
  /**
   * Releases the lock if it is still held, at the end of an `await using` block. Rejects with
   * `LockNotOwnedError` when the lock expired meanwhile and another owner took it (the block ran
   * unprotected for a while: a lock `timeout` shorter than the work). When the cache was closed
   * first, the lock cannot be released: disposal resolves, and the lock expires by its `timeout`
   * (declare `await using cache` before `await using lock` so that the lock goes first).
   */
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * Creates the lock behind `cache.lock()`. The umbrella hands the `Cache` the one from
 * `@cachex/lock`, so that core never imports the lock package. Its options also hold `signal`,
 * aborted (with a `ClosedError`) as the cache closes: a waiting `acquire()` then ends.
 */
export type LockFactory = (
  connection: Connection,
  name: string,
  options: LockOptions & { signal?: AbortSignal },
) => CacheLock
