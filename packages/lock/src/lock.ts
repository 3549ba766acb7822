import { randomBytes } from 'node:crypto'
import {
  type AcquireOptions,
  type CacheLock,
  type Connection,
  defineScript,
  InvalidArgumentError,
  LockError,
  type LockFactory,
  LockNotOwnedError,
  type LockOptions,
  runScript,
} from '@cachex/core'

// The scripts of redis-py's Lock: compare the token and act in one atomic step. RELEASE tells a
// missing key (-1) from another holder's token (0), which a retry after a lost reply needs.
const RELEASE = defineScript(`local token = redis.call('get', KEYS[1])
if not token then
  return -1
end
if token ~= ARGV[1] then
  return 0
end
redis.call('del', KEYS[1])
return 1`)

const EXTEND = defineScript(`local token = redis.call('get', KEYS[1])
if not token or token ~= ARGV[1] then
  return 0
end
local expiration = redis.call('pttl', KEYS[1])
if not expiration then
  expiration = 0
end
if expiration < 0 then
  return 0
end
local newttl = ARGV[2]
if ARGV[3] == "0" then
  newttl = ARGV[2] + expiration
end
redis.call('pexpire', KEYS[1], newttl)
return 1`)

const REACQUIRE = defineScript(`if redis.call('get', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('pexpire', KEYS[1], ARGV[2])
return 1`)

/**
 * A distributed lock with redis-py `Lock` semantics. The lock is a Redis key holding a random
 * token (stored raw, not serialized); only the holder of the token can release or extend it, and
 * both happen atomically in Lua. Creating one takes nothing: `acquire()` does. Use `withLock(fn)`
 * to release it however the work ends, or `cache.acquireLock()`, which resolves a held lock for
 * `await using`. A `Lock` itself is not disposable, so that `await using lock = cache.lock(…)` —
 * which would never take the lock — does not compile.
 */
export class Lock implements CacheLock {
  /** The Redis key of the lock. */
  readonly name: string
  /** Seconds after which the lock expires; `null` never expires. */
  readonly timeout: number | null
  /** Seconds to sleep between tries while blocking. */
  readonly sleep: number
  /** Whether `acquire()` waits by default. */
  readonly blocking: boolean
  /** Seconds `acquire()` waits at most by default; `null` waits as long as it takes. */
  readonly blockingTimeout: number | null

  readonly #connection: Connection
  #token: string | null = null
  /** The release in flight, shared by concurrent `release()` calls. */
  #releasing: Promise<void> | null = null
  /**
   * Whether a release of the current token failed without an answer (a timeout, a dropped
   * connection): it may have run on the server anyway, so a retry that finds the key gone succeeds.
   */
  #releaseUnknown = false

  constructor(connection: Connection, name: string, options: LockOptions = {}) {
    if (typeof name !== 'string' || name === '') {
      throw new InvalidArgumentError('a lock needs a non-empty name')
    }
    this.#connection = connection
    this.name = name
    this.timeout = options.timeout == null ? null : positiveSeconds(options.timeout, 'timeout')
    this.sleep = positiveSeconds(options.sleep ?? 0.1, 'sleep')
    this.blocking = options.blocking ?? true
    this.blockingTimeout = optionalSeconds(options.blockingTimeout ?? null, 'blockingTimeout')
  }

  /** The token this lock holds, or `null` when it does not hold the lock. */
  get token(): string | null {
    return this.#token
  }

  /**
   * Takes the lock with `SET NX` (and `PX timeout`). Blocking, it tries again every `sleep`
   * seconds until it succeeds or `blockingTimeout` runs out. Resolves whether it got the lock.
   */
  async acquire(options: AcquireOptions = {}): Promise<boolean> {
    const blocking = options.blocking ?? this.blocking
    const blockingTimeout =
      options.blockingTimeout === undefined
        ? this.blockingTimeout
        : optionalSeconds(options.blockingTimeout, 'blockingTimeout')
    const token = options.token ?? randomBytes(16).toString('hex')
    const stopAt =
      blockingTimeout === null
        ? Number.POSITIVE_INFINITY
        : performance.now() + blockingTimeout * 1000
    const args = ['SET', this.name, token, 'NX']
    if (this.timeout !== null) args.push('PX', String(Math.max(1, Math.trunc(this.timeout * 1000))))
    for (;;) {
      if ((await this.#connection.command(args, { key: this.name })) !== null) {
        this.#token = token
        this.#releaseUnknown = false
        return true
      }
      if (!blocking) return false
      const left = stopAt - performance.now()
      if (left <= 0) return false
      await delay(Math.min(this.sleep * 1000, left))
    }
  }

  /**
   * Releases the lock. Rejects with `LockError` when not held, `LockNotOwnedError` when no longer
   * ours. The lock keeps its token until the server confirms the release: when the release fails
   * without an answer (`TimeoutError`, `ConnectionError`), it rejects with that error and a retry
   * can release the lock. Such a release may still have run on the server, so a retry after it
   * resolves when the lock key is gone (and rejects with `LockNotOwnedError` when another token
   * holds it).
   */
  release(): Promise<void> {
    if (this.#token === null)
      return Promise.reject(new LockError('cannot release an unlocked lock'))
    // A second call while one is in flight shares its outcome instead of racing it.
    this.#releasing ??= this.#release(this.#token).finally(() => {
      this.#releasing = null
    })
    return this.#releasing
  }

  async #release(token: string): Promise<void> {
    let reply: unknown
    try {
      reply = await runScript(this.#connection, RELEASE, [this.name], [token])
    } catch (error) {
      // Unknown outcome: keep the token so that a retry can release a lock that may still exist.
      this.#releaseUnknown = true
      throw error
    }
    const unknownBefore = this.#releaseUnknown
    this.#token = null
    this.#releaseUnknown = false
    if (reply === 1) return
    // The key is gone and an earlier attempt of ours may have deleted it: released.
    if (reply === -1 && unknownBefore) return
    throw new LockNotOwnedError("cannot release a lock that's no longer owned")
  }

  /**
   * Adds `seconds` to the lock's remaining time, or with `replaceTtl` sets it to `seconds`.
   * Rejects with `LockNotOwnedError` when the lock is no longer ours.
   */
  async extend(seconds: number, options: { replaceTtl?: boolean } = {}): Promise<boolean> {
    const token = this.#token
    if (token === null) throw new LockError('cannot extend an unlocked lock')
    if (this.timeout === null) throw new LockError('cannot extend a lock with no timeout')
    const ms = Math.trunc(positiveSeconds(seconds, 'seconds') * 1000)
    const done = await runScript(
      this.#connection,
      EXTEND,
      [this.name],
      [token, String(ms), options.replaceTtl ? '1' : '0'],
    )
    if (done !== 1) throw new LockNotOwnedError("cannot extend a lock that's no longer owned")
    return true
  }

  /** Resets the lock's remaining time to its `timeout`. Rejects with `LockNotOwnedError` when no longer ours. */
  async reacquire(): Promise<boolean> {
    const token = this.#token
    if (token === null) throw new LockError('cannot reacquire an unlocked lock')
    if (this.timeout === null) throw new LockError('cannot reacquire a lock with no timeout')
    const done = await runScript(
      this.#connection,
      REACQUIRE,
      [this.name],
      [token, String(Math.max(1, Math.trunc(this.timeout * 1000)))],
    )
    if (done !== 1) throw new LockNotOwnedError("cannot reacquire a lock that's no longer owned")
    return true
  }

  /** Whether anyone holds the lock. */
  async locked(): Promise<boolean> {
    return (await this.#connection.command(['EXISTS', this.name], { key: this.name })) === 1
  }

  /** Whether the stored token is this lock's. */
  async owned(): Promise<boolean> {
    const token = this.#token
    if (token === null) return false
    const stored = await this.#connection.command(['GET', this.name], { key: this.name })
    return stored !== null && String(stored) === token
  }

  /**
   * Acquires the lock (blocking as configured), runs `fn`, and releases the lock however `fn`
   * ends. Rejects with `LockError` when the lock could not be acquired.
   */
  async withLock<T>(fn: () => T | Promise<T>): Promise<T> {
    if (!(await this.acquire())) {
      throw new LockError(`could not acquire the lock '${this.name}'`)
    }
    try {
      return await fn()
    } finally {
      await this.release()
    }
  }
}

/** The `LockFactory` that `@cachex/redis` hands every `Cache`, so that `cache.lock()` returns a `Lock`. */
export const lockFactory: LockFactory = (connection, name, options) =>
  new Lock(connection, name, options)

function optionalSeconds(value: number | null, what: string): number | null {
  return value === null ? null : positiveSeconds(value, what, true)
}

function positiveSeconds(value: unknown, what: string, allowZero = false): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    (!allowZero && value === 0)
  ) {
    throw new InvalidArgumentError(
      `${what} must be a ${allowZero ? 'non-negative' : 'positive'} number of seconds`,
    )
  }
  return value
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
