import {
  type AcquireOptions,
  type CacheLock,
  type Connection,
  LockError,
  type LockFactory,
  type LockOptions,
  runScript,
} from '@cachex/core'
import { bounded } from '@cachex/core/internal'
import { checkRoomFor } from './_extend-room.ts'
import { type ReleasedBehind, ReleaseHandoff } from './_handoff.ts'
import { notOwned, releaseOther, withHeld } from './_holding.ts'
import { acquireSettings, lockSettings, newToken, replacesTtl } from './_lock-options.ts'
import { EXTEND, REACQUIRE, RELEASE } from './_lock-scripts.ts'
import { takeLock } from './_lock-take.ts'
import { type ClosedSignalOption, positiveSeconds } from './_seconds.ts'
import { heldFor, hold, holdLonger, outcomeUnknown, unhold } from './_undo.ts'
import { releaseRefused, rethrowNamed } from './_wrong-type.ts'

/**
 * A distributed lock with redis-py `Lock` semantics. The lock is a Redis key holding a random
 * token (stored raw, not serialized); only the holder of the token can release or extend it, and
 * both happen atomically in Lua. Creating one takes nothing: `acquire()` does. Use `withLock(fn)`
 * to release it however the work ends, or `cache.acquireLock()`, which resolves a held lock for
 * `await using`. A `Lock` itself is not disposable, so that `await using lock = cache.lock(…)` —
 * which would never take the lock — does not compile. A key overwritten with another type makes
 * its calls reject with a `ResponseError` naming the lock (see `_wrong-type.ts`).
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
  /** Aborted when the cache that made this lock closes (see `ClosedSignalOption`). */
  readonly #signal: AbortSignal | undefined
  #token: string | null = null
  #fencingToken: number | null = null
  /** The release in flight, and its token: shared by the `release()` calls of that token. */
  #releasing: { token: string; done: Promise<void> } | null = null
  /**
   * Whether a release of the current token failed without an answer (a timeout, a dropped
   * connection): it may have run on the server anyway, so a retry that finds the key gone succeeds.
   * Not set by a release known not to have run (`outcomeUnknown`: refused unsent, an error reply).
   */
  #releaseUnknown = false
  /** A failed release, tried again in the background until this lock is released or extended again. */
  readonly #handoff: ReleaseHandoff
  /** What a background release of a token found since it was cleared, for the next `release()`. */
  #behind: { token: string; found: ReleasedBehind } | null = null
  /**
   * The tokens of the `withLock` calls under way on this object, each with whether it was released
   * (confirmed, or by a background try) while its `fn` ran: `fn` may release it itself.
   */
  readonly #withLocks = new Map<string, boolean>()

  /**
   * A lock named `name` over `connection`. `options.signal` (passed by `cache.lock()`) ends the
   * waits of a blocking `acquire()` once aborted. Options that are not an object, or an option it
   * does not take (a misspelt `timout`, redis-py's `blocking_timeout`), throw
   * `InvalidArgumentError`.
   */
  constructor(
    connection: Connection,
    name: string,
    options: LockOptions & ClosedSignalOption = {},
  ) {
    const settings = lockSettings(name, options)
    this.#connection = connection
    this.name = name
    this.timeout = settings.timeout
    this.sleep = settings.sleep
    this.blocking = settings.blocking
    this.blockingTimeout = settings.blockingTimeout
    this.#signal = settings.signal
    this.#handoff = new ReleaseHandoff(connection, RELEASE, name, -1)
  }

  /** The token this lock holds, or `null` when it does not hold the lock. */
  get token(): string | null {
    return this.#token
  }

  /**
   * The fencing token of the current hold: strictly greater than the token of every earlier
   * successful `acquire()` of this lock name, by any process or cache on the same Redis database;
   * `null` before the lock is acquired and once a release was confirmed (kept with the token when
   * a release failed without an answer).
   *
   * Why: a lock with a `timeout` can expire while its holder is paused (a GC pause, a stalled VM,
   * a slow network) — the holder wakes up, still believing it holds the lock, and writes to the
   * resource while the next holder does too. No lock can prevent that late write on its own
   * (Martin Kleppmann, "How to do distributed locking", 2016). Send the fencing token with each
   * write, and have the resource remember the highest token it has accepted and refuse lower ones:
   * the paused holder's token is lower than its successor's, so its write is refused.
   *
   * The token is the `INCR` of a counter key in the lock key's hash slot
   * (`__cachex:fence:{<tag>}`, shared by the lock names of that slot, never expiring), taken in
   * the same Lua script as the lock. Tokens are numbers, exact up to 2^53 − 1; consecutive tokens
   * of one name may skip values. Deleting the counter key (or `FLUSHDB`) starts the count again:
   * resources then see lower tokens. A Python (redis-py) holder of the same lock takes no token.
   */
  get fencingToken(): number | null {
    return this.#fencingToken
  }

  /**
   * Takes the lock with `SET NX` (and `PX timeout`) and its fencing token, in one Lua script.
   * Blocking, it tries again every `sleep` seconds until it succeeds or `blockingTimeout` runs
   * out. Resolves whether it got the lock. On a Redis Cluster whose slot of the lock is being
   * migrated, the script names two keys (the lock's and its fencing counter) and the cluster
   * refuses it (`TRYAGAIN`) until the migration of the slot's keys completes: the lock is then
   * not taken, as if someone held it — after the connection's own retries of `TRYAGAIN`, which
   * last up to 80 % of `socketTimeout` per try. When the cache that made the lock closes while
   * it waits between tries, it rejects with `ClosedError` at once; when it closes while a try is
   * in flight, the try's token is released right away (behind the try, on the connection that
   * is closing) and it rejects with `ClosedError` too, whatever the try's reply: a lock taken as
   * the cache closes could never be released. An option `acquire()` does not take (`timeout`,
   * redis-py's `blocking_timeout`), or options that are not an object, throw
   * `InvalidArgumentError` before anything is sent.
   */
  async acquire(options: AcquireOptions = {}): Promise<boolean> {
    const { blocking, blockingTimeout, token } = acquireSettings(options, this)
    const ttlMs = this.timeout === null ? null : Math.max(1, Math.trunc(this.timeout * 1000))
    const fencingToken = await takeLock(this.#connection, this.name, token, ttlMs, {
      blocking,
      blockingTimeout,
      sleep: this.sleep,
      signal: this.#signal,
    })
    if (fencingToken === null) return false
    this.#token = token
    this.#fencingToken = fencingToken
    this.#releaseUnknown = false
    this.#behind = null
    hold(this.#connection, this.name, token, ttlMs)
    return true
  }

  /**
   * Releases the lock. Rejects with `LockError` when not held, `LockNotOwnedError` when no longer
   * ours. The lock keeps its token until the server confirms the release: when the release fails
   * (`TimeoutError`, `ConnectionError`, an error reply), it rejects with that error and a retry
   * can release the lock. A release that failed without an answer (a timeout, a dropped
   * connection) may still have run on the server, so a retry after it resolves when the lock key
   * is gone (and rejects with `LockNotOwnedError` when another token holds it). One known not to
   * have run — refused unsent (`BackpressureError`, `FailoverError`, a connection refusing at once
   * while Redis is down) or answered with an error reply — changes nothing: a retry that finds the
   * key gone rejects with `LockNotOwnedError` (the lock expired under its holder). A release that
   * failed unsent or without an answer is also tried again in the background, 1, 5 and 30 s later
   * and every 30 s while no try is answered (deleting the key only while it holds our token),
   * until this lock is released, extended or reacquired again; once a try ran, the lock is
   * released (`token` is `null`).
   */
  release(): Promise<void> {
    if (this.#token === null) {
      // Released in the background since (see `#releasedBehind`): answered as that release was.
      const behind = this.#behind?.found
      this.#behind = null
      if (behind === 'released') return Promise.resolve()
      if (behind === 'lost') return Promise.reject(notOwned('release', this.name, this.timeout))
      return Promise.reject(new LockError('cannot release an unlocked lock'))
    }
    // A second call while one is in flight shares its outcome instead of racing it: one of the
    // same token (on a Lock shared by concurrent tasks, another task's acquire() may have taken
    // the lock through this object since: its hold is released on its own).
    const token = this.#token
    if (this.#releasing?.token === token) return this.#releasing.done
    const releasing = {
      token,
      done: this.#release(token).finally(() => {
        if (this.#releasing === releasing) this.#releasing = null
      }),
    }
    this.#releasing = releasing
    return releasing.done
  }

  async #release(token: string): Promise<void> {
    let reply: unknown
    this.#handoff.touch()
    try {
      reply = await runScript(this.#connection, RELEASE, [this.name], [token])
    } catch (error) {
      const refused = releaseRefused(error, this.#connection, 'lock', this.name, token)
      if (refused !== undefined) {
        this.#forget(token)
        throw await refused
      }
      // The token is kept, so that a retry can release a lock that may still exist. Only a
      // release that may have run lets a retry take a gone key for its success. Noted for this
      // token only (another task's acquire() may have taken the lock through this object since).
      const mayHaveRun = outcomeUnknown(error) || (this.#token === token && this.#releaseUnknown)
      if (this.#token === token) this.#releaseUnknown = mayHaveRun
      // Tried again in the background, unless this lock is used again first (see `_handoff.ts`).
      this.#handoff.failed(error, token, mayHaveRun, (found) => this.#releasedBehind(token, found))
      throw error
    }
    // Whether a release of this token failed without an answer before (another's, on a Lock
    // shared by concurrent tasks, says nothing of it).
    const unknownBefore = this.#token === token && this.#releaseUnknown
    this.#forget(token)
    // Whatever the reply, the key no longer holds the token.
    unhold(this.#connection, this.name, token)
    // The key is gone and an earlier attempt of ours may have deleted it: released.
    if (reply === 1 || (reply === -1 && unknownBefore)) {
      this.#releasedOwn(token)
      return
    }
    throw notOwned('release', this.name, this.timeout)
  }

  /** Notes that `token` was released, for the `withLock` call that took it, if one is under way. */
  #releasedOwn(token: string): void {
    if (this.#withLocks.has(token)) this.#withLocks.set(token, true)
  }

  /**
   * Clears what this lock knows of `token`'s hold, if it is still the current one: on a `Lock`
   * shared by concurrent tasks, another's `acquire()` may have taken the lock through this object
   * while the release was in flight (`withLock`), and its hold is its own.
   */
  #forget(token: string): void {
    if (this.#token !== token) return
    this.#token = this.#fencingToken = null
    this.#releaseUnknown = false
  }

  /**
   * A background try of `token`'s release ran and `found` so: the token is cleared, and the next
   * `release()` answered as it would have been; a retry in flight that finds the key gone after
   * a try that deleted it resolves.
   */
  #releasedBehind(token: string, found: ReleasedBehind): void {
    if (found === 'released') this.#releasedOwn(token)
    if (this.#token !== token) return
    if (found === 'released') this.#releaseUnknown = true
    if (this.#releasing?.token === token) return
    this.#token = this.#fencingToken = null
    this.#behind = { token, found }
  }

  /**
   * Adds `seconds` to the lock's remaining time, or with `replaceTtl` sets it to `seconds`.
   * Rejects with `LockNotOwnedError` when the lock is no longer ours. An option other than
   * `replaceTtl`, a `replaceTtl` that is not a boolean (`null` is `false`), or an addition that
   * would take the remaining time past the farthest expiry the cache allows (see
   * `checkTimeoutMs`: about 285,000 years) reject with `InvalidArgumentError`, the lock
   * unchanged.
   */
  async extend(seconds: number, options: { replaceTtl?: boolean } = {}): Promise<boolean> {
    const replaceTtl = replacesTtl(options)
    const token = this.#token
    if (token === null) throw new LockError('cannot extend an unlocked lock')
    if (this.timeout === null) throw new LockError('cannot extend a lock with no timeout')
    // At least 1 ms, the smallest expiry Redis takes: `PEXPIRE key 0` would delete the lock.
    const ms = Math.max(1, Math.trunc(positiveSeconds(seconds, 'seconds') * 1000))
    // The remaining time is read (a round trip) only where the sum may pass the farthest
    // expiry: below 2^52 ms (142,000 years), which the known bound shows, nothing can.
    if (!replaceTtl) {
      const most = heldFor(this.#connection, this.name, token)
      if (most === undefined || most + ms >= 2 ** 52)
        await checkRoomFor(this.#connection, this.name, seconds, ms)
    }
    // Sent: the lock is held on (a release of it failed before is no longer wanted).
    this.#handoff.touch()
    const done = await runScript(
      this.#connection,
      EXTEND,
      [this.name],
      [token, String(ms), replaceTtl ? '1' : '0'],
    ).catch((error: unknown) => rethrowNamed(error, this.#connection, 'lock', 'extend', this.name))
    if (done !== 1) throw notOwned('extend', this.name, this.timeout)
    if (replaceTtl) hold(this.#connection, this.name, token, ms)
    else holdLonger(this.#connection, this.name, token, ms)
    return true
  }

  /** Resets the lock's remaining time to its `timeout`. Rejects with `LockNotOwnedError` when no longer ours. */
  async reacquire(): Promise<boolean> {
    const token = this.#token
    if (token === null) throw new LockError('cannot reacquire an unlocked lock')
    if (this.timeout === null) throw new LockError('cannot reacquire a lock with no timeout')
    const ms = Math.max(1, Math.trunc(this.timeout * 1000))
    this.#handoff.touch()
    const done = await runScript(
      this.#connection,
      REACQUIRE,
      [this.name],
      [token, String(ms)],
    ).catch((error: unknown) =>
      rethrowNamed(error, this.#connection, 'lock', 'reacquire', this.name),
    )
    if (done !== 1) {
      // The key holds another token, or none.
      unhold(this.#connection, this.name, token)
      throw notOwned('reacquire', this.name, this.timeout)
    }
    hold(this.#connection, this.name, token, ms)
    return true
  }

  /** Whether anyone holds the lock. */
  async locked(): Promise<boolean> {
    return (await this.#connection.command(['EXISTS', this.name], { key: this.name })) === 1
  }

  /**
   * Whether the stored token is this lock's: its bytes, as `release()` and `extend()` compare
   * them (decoded, another holder's invalid UTF-8 would read as this token's U+FFFD).
   */
  async owned(): Promise<boolean> {
    const token = this.#token
    if (token === null) return false
    const stored = await this.#connection
      .command(['GET', this.name], { key: this.name })
      .catch((error: unknown) => rethrowNamed(error, this.#connection, 'lock', 'owned', this.name))
    if (stored !== null && sameBytes(stored, token)) return true
    unhold(this.#connection, this.name, token)
    return false
  }

  /**
   * Acquires the lock (blocking as configured), runs `fn`, and releases the lock however `fn`
   * ends. Rejects with `LockError` when the lock could not be acquired; when the release fails
   * after `fn` threw (the lock expired and was taken over), with a `SuppressedError` holding both,
   * as `await using` does; a failed release is tried again in the background (see `release`). A
   * release refused because the cache was closed is dropped; one `fn` made itself
   * (`lock.release()`) leaves nothing to do. It releases only the hold its own `acquire()` took:
   * on a `Lock` shared by concurrent tasks, one whose hold was lost while `fn` ran (expired,
   * deleted) while another task took the lock through the same object rejects with
   * `LockNotOwnedError` and leaves that task's hold alone (`token` and `fencingToken` are the
   * latest holder's: a task that reads them needs a `Lock` of its own).
   */
  withLock<T>(fn: () => T | Promise<T>): Promise<T> {
    const refused = `could not acquire the lock '${bounded(this.name)}'`
    let taken: string | null = null
    const held = {
      acquire: async () => {
        // Its own token, known before the reply: another acquire() through this object answered
        // in the same tick would have replaced `#token` by the time this one reads it.
        const token = newToken()
        const got = await this.acquire({ token })
        if (got) {
          taken = token
          this.#withLocks.set(token, false)
        }
        return got
      },
      release: () => {
        const token = taken as string
        const releasedInside = this.#withLocks.get(token) === true
        this.#withLocks.delete(token)
        if (this.#token === token) return this.release()
        // `fn` released it (`lock.release()`, or a retry of one answered by a background try):
        // nothing is left to do, as after acquireLock's block.
        if (releasedInside) {
          // Answered here: the next release() of this object is no longer for it.
          if (this.#behind?.token === token) this.#behind = null
          return Promise.resolve()
        }
        // A release of this token failed and was tried in the background: as it found.
        if (this.#token === null && this.#behind?.token === token) {
          return this.release()
        }
        // Another task's acquire() through this object replaced the token (two answered in one
        // tick, or ours lost first: the key is that task's now), or took it and let it go. Our own
        // token's release: the script deletes only its hold, and says when it is gone.
        return releaseOther(
          this.#connection,
          this.name,
          token,
          notOwned('release', this.name, this.timeout).message,
        )
      },
    }
    return withHeld('withLock', fn, held, () => new LockError(refused))
  }
}

/** The `LockFactory` that `@cachex/redis` hands every `Cache`, so that `cache.lock()` returns a `Lock`. */
export const lockFactory: LockFactory = (connection, name, options) =>
  new Lock(connection, name, options)

/** Whether a reply (bytes, or text on a route that reads text) is `token`'s UTF-8. */
function sameBytes(stored: unknown, token: string): boolean {
  if (typeof stored === 'string') return stored === token
  return Buffer.isBuffer(stored) && stored.equals(Buffer.from(token, 'utf8'))
}
