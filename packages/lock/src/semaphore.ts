import { randomBytes } from 'node:crypto'
import {
  type AcquireOptions,
  type CacheSemaphore,
  ClosedError,
  type Connection,
  InvalidArgumentError,
  LockError,
  LockNotOwnedError,
  ResponseError,
  runScript,
  type SemaphoreFactory,
  type SemaphoreOptions,
} from '@cachex/core'
import { bounded, own } from '@cachex/core/internal'
import { type ReleasedBehind, ReleaseHandoff } from './_handoff.ts'
import { withHeld } from './_holding.ts'
import { nullableFlag } from './_lock-options.ts'
import {
  type ClosedSignalOption,
  checkCallOptions,
  checkSignal,
  delay,
  optionalSeconds,
  positiveSeconds,
} from './_seconds.ts'
import { ACQUIRE, RELEASE } from './_semaphore-scripts.ts'
import { tryOnce } from './_try.ts'
import { hold, outcomeUnknown, releaseLater, unhold } from './_undo.ts'
import { namedWrongType, releaseRefused } from './_wrong-type.ts'

/** Seconds a holder keeps its permits without releasing them, unless `timeout` says otherwise. */
export const DEFAULT_SEMAPHORE_TIMEOUT = 60

/** The options `acquire()` takes; the others are the semaphore's own. */
const ACQUIRE_OPTIONS = ['blocking', 'blockingTimeout'] as const
const SEMAPHORE_OWN_OPTIONS = ['limit', 'weight', 'timeout', 'sleep']
/** The options a semaphore is made with (`cache.semaphore()` adds the cache's close `signal`). */
const SEMAPHORE_OPTIONS = [...SEMAPHORE_OWN_OPTIONS, 'blocking', 'blockingTimeout', 'signal']
const SEMAPHORE_OWN =
  "it is the semaphore's own: pass it when the semaphore is made, " +
  'to cache.semaphore() or cache.acquirePermit()'

/**
 * A distributed counting semaphore: at most `limit` permits are held at once by every process
 * sharing the Redis database, each holder taking `weight` of them. A holder that dies frees its
 * permits after `timeout` seconds, judged by the Redis server's clock (so the clocks of the
 * holders' machines do not matter). Acquiring is one Lua script — drop expired holders, sum the
 * weights, admit or refuse — so no interleaving of holders can admit more than `limit`.
 *
 * Like `Lock`: creating one takes nothing, `acquire()` does, blocking polls every `sleep` seconds
 * (there is no queue: waiters are not served in order, and a heavy `weight` may wait behind a
 * stream of light ones), and the object itself is not disposable — `cache.acquirePermit()`
 * resolves a `HeldPermit` for `await using`. One `Semaphore` holds at most one set of permits at a
 * time: create one per concurrent holder. A key overwritten with another type makes its calls
 * reject with a `ResponseError` naming the semaphore (see `_wrong-type.ts`).
 */
export class Semaphore implements CacheSemaphore {
  /** The Redis key of the semaphore. */
  readonly name: string
  /** How many permits the semaphore has. */
  readonly limit: number
  /** How many permits this holder takes. */
  readonly weight: number
  /** Seconds a holder keeps its permits without releasing them; `null` for ever. */
  readonly timeout: number | null
  /** Seconds to sleep between tries while blocking. */
  readonly sleep: number
  /** Whether `acquire()` waits by default. */
  readonly blocking: boolean
  /** Seconds `acquire()` waits at most by default; `null` waits as long as it takes. */
  readonly blockingTimeout: number | null

  readonly #connection: Connection
  /** Aborted when the cache that made this semaphore closes (see `ClosedSignalOption`). */
  readonly #signal: AbortSignal | undefined
  #token: string | null = null
  /** Whether an `acquire()` is in flight: a second one would lose track of the first's permits. */
  #acquiring = false
  /** The release in flight, shared by concurrent `release()` calls. */
  #releasing: Promise<void> | null = null
  /** Whether a release of the current permits failed without an answer, so may have run (see `Lock`). */
  #releaseUnknown = false
  /** A failed release, tried again in the background until this semaphore releases again. */
  readonly #handoff: ReleaseHandoff
  /** What a background release found since the token was cleared, for the next `release()`. */
  #behind: ReleasedBehind | null = null

  /**
   * A semaphore named `name` over `connection`. `options.signal` (passed by `cache.semaphore()`)
   * ends the waits of a blocking `acquire()` once aborted. An option it does not take (a misspelt
   * `blockingTimout`, redis-py's `blocking_timeout`) throws `InvalidArgumentError`.
   */
  constructor(
    connection: Connection,
    name: string,
    options: SemaphoreOptions & ClosedSignalOption,
  ) {
    if (typeof name !== 'string' || name === '') {
      throw new InvalidArgumentError('a semaphore needs a non-empty name')
    }
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError('a semaphore needs options with a limit: { limit: 5 }')
    }
    // A misspelt option would otherwise be ignored: a wait with no end, permits that never expire.
    checkCallOptions(options, 'new Semaphore', SEMAPHORE_OPTIONS)
    this.#connection = connection
    this.name = name
    this.limit = permits(own(options, 'limit'), 'limit')
    this.weight = permits(own(options, 'weight') ?? 1, 'weight')
    if (this.weight > this.limit) {
      throw new InvalidArgumentError(
        `weight (${this.weight}) cannot exceed the semaphore's limit (${this.limit}): it could never be acquired`,
      )
    }
    this.timeout =
      own(options, 'timeout') === null
        ? null
        : positiveSeconds(own(options, 'timeout') ?? DEFAULT_SEMAPHORE_TIMEOUT, 'timeout')
    this.sleep = positiveSeconds(own(options, 'sleep') ?? 0.1, 'sleep')
    this.blocking = nullableFlag(own(options, 'blocking'), 'semaphore', 'blocking', true)
    const blockingTimeout = own(options, 'blockingTimeout') ?? null
    this.blockingTimeout = optionalSeconds(blockingTimeout, 'blockingTimeout')
    this.#signal = checkSignal(own(options, 'signal'))
    this.#handoff = new ReleaseHandoff(connection, RELEASE, name, 0)
  }

  /** The random token of the permits this semaphore holds, or `null` when it holds none. */
  get token(): string | null {
    return this.#token
  }

  /**
   * Takes `weight` permits when they fit within `limit` (one Lua script). Blocking, it tries again
   * every `sleep` seconds until it succeeds or `blockingTimeout` runs out. Resolves whether it got
   * the permits. Rejects with `LockError` when this semaphore holds permits already (or is
   * acquiring them). A refusal by a Redis Cluster whose slot of the semaphore is being migrated
   * (`TRYAGAIN`, or an `ASK` the connection gave up following: nothing ran) counts as not
   * admitted, as when the permits are taken. When the cache that made the semaphore closes while
   * it waits between tries, it rejects with `ClosedError` at once; while a try is in flight, the
   * try's permits are given back right away and it rejects with `ClosedError` too (see
   * `Lock.acquire`). An option `acquire()` does not take, or options that are not an object,
   * throw `InvalidArgumentError` before anything is sent.
   */
  async acquire(
    options: Pick<AcquireOptions, 'blocking' | 'blockingTimeout'> = {},
  ): Promise<boolean> {
    checkCallOptions(
      options,
      'semaphore.acquire',
      ACQUIRE_OPTIONS,
      SEMAPHORE_OWN_OPTIONS,
      SEMAPHORE_OWN,
    )
    const blocking = nullableFlag(
      own(options, 'blocking'),
      'semaphore.acquire',
      'blocking',
      this.blocking,
    )
    const wait = own(options, 'blockingTimeout')
    const blockingTimeout =
      wait === undefined ? this.blockingTimeout : optionalSeconds(wait, 'blockingTimeout')
    if (this.#token !== null || this.#acquiring) {
      throw new LockError(
        `this semaphore already holds (or is acquiring) permits of '${bounded(this.name)}': release them first, or create another semaphore for another holder`,
      )
    }
    const token = randomBytes(16).toString('hex')
    const member = `${this.weight}:${token}`
    const ttlMs = this.timeout === null ? null : Math.max(1, Math.trunc(this.timeout * 1000))
    const args = [
      member,
      String(this.weight),
      String(this.limit),
      ttlMs === null ? '' : String(ttlMs),
    ]
    const stopAt =
      blockingTimeout === null
        ? Number.POSITIVE_INFINITY
        : performance.now() + blockingTimeout * 1000
    this.#acquiring = true
    try {
      for (;;) {
        // Before each try: an abort between the last wait and this try sends nothing.
        this.#signal?.throwIfAborted()
        // Sent without an answer, it may still run: the permits are given back then.
        const reply = await tryOnce(this.#connection, ACQUIRE, [this.name], args, {
          release: RELEASE,
          key: this.name,
          token: member,
          signal: this.#signal,
          named: (error) =>
            namedWrongType(
              namedError(error, this.name),
              this.#connection,
              'semaphore',
              'acquire',
              this.name,
            ),
        })
        if (reply === 1) {
          this.#token = token
          this.#releaseUnknown = false
          this.#behind = null
          hold(this.#connection, this.name, member, ttlMs)
          return true
        }
        if (reply !== 0) {
          // Not our script's reply: the permits may be taken, held by no one; given back later.
          releaseLater(this.#connection, RELEASE, this.name, member)
          throw new LockError(
            `unexpected reply to an acquisition of the semaphore '${bounded(this.name)}'`,
          )
        }
        if (!blocking) return false
        const left = stopAt - performance.now()
        if (left <= 0) return false
        await delay(Math.min(this.sleep * 1000, left), this.#signal)
      }
    } finally {
      this.#acquiring = false
    }
  }

  /**
   * Gives the permits back. Rejects with `LockError` when none are held, and with
   * `LockNotOwnedError` when they had expired and were dropped — by another acquisition, or with
   * the key when they were the last — so that others may have been admitted in their place; a
   * late release that finds them still in place resolves. A release that fails (`TimeoutError`,
   * `ConnectionError`, an error reply) keeps the token, so that a retry can release them. One that
   * failed without an answer may have run on the server anyway, so a retry that finds them gone
   * resolves; one known not to have run (refused unsent, or an error reply: see `Lock.release`)
   * changes nothing, and a retry that finds them gone rejects with `LockNotOwnedError`. A release
   * that failed unsent or without an answer is also tried again in the background, 1, 5 and 30 s
   * later and every 30 s while no try is answered, until this semaphore releases again; once a
   * try removed them, the permits are given back (`token` is `null`).
   */
  release(): Promise<void> {
    const token = this.#token
    if (token === null) {
      // Released in the background since (see `#releasedBehind`): answered as that release was.
      const behind = this.#behind
      this.#behind = null
      if (behind === 'released') return Promise.resolve()
      if (behind === 'lost') return Promise.reject(this.#notHeld())
      return Promise.reject(new LockError('cannot release a semaphore that holds no permits'))
    }
    this.#releasing ??= this.#release(`${this.weight}:${token}`).finally(() => {
      this.#releasing = null
    })
    return this.#releasing
  }

  async #release(member: string): Promise<void> {
    let reply: unknown
    this.#handoff.touch()
    try {
      reply = await runScript(this.#connection, RELEASE, [this.name], [member])
    } catch (error) {
      const refused = releaseRefused(error, this.#connection, 'semaphore', this.name, member)
      if (refused !== undefined) {
        this.#token = null
        this.#releaseUnknown = false
        throw await refused
      }
      // Kept for a retry; only a release that may have run lets it take a gone member for done.
      if (outcomeUnknown(error)) this.#releaseUnknown = true
      // Tried again in the background, unless released again first (see `_handoff.ts`).
      this.#handoff.failed(error, member, this.#releaseUnknown, (found) =>
        this.#releasedBehind(member, found),
      )
      throw error
    }
    const unknownBefore = this.#releaseUnknown
    this.#token = null
    this.#releaseUnknown = false
    // Whatever the reply, the member is no longer in the set.
    unhold(this.#connection, this.name, member)
    if (reply === 1) return
    if (reply === 0 && unknownBefore) return
    throw this.#notHeld()
  }

  #notHeld(): LockNotOwnedError {
    // Gone by its timeout, or by a delete or clear of the key (the only way without a timeout).
    const why =
      this.timeout === null
        ? "the semaphore's key was deleted (a delete or a clear)"
        : `they expired after ${this.timeout} s, or the semaphore's key was deleted (a delete or a clear),`
    return new LockNotOwnedError(
      `cannot release permits of the semaphore '${bounded(this.name)}' that are no longer held: ${why} and they may have been given to others`,
    )
  }

  /**
   * A background try of `member`'s release ran and `found` so: the token is cleared, and the next
   * `release()` answered as it would have been (see `Lock`).
   */
  #releasedBehind(member: string, found: ReleasedBehind): void {
    if (this.#token === null || `${this.weight}:${this.#token}` !== member) return
    if (found === 'released') this.#releaseUnknown = true
    if (this.#releasing !== null) return
    this.#token = null
    this.#behind = found
  }

  /**
   * Takes the permits (blocking as configured), runs `fn`, and gives them back however `fn`
   * ends. Rejects with `LockError` when the permits could not be had; when giving them back fails
   * after `fn` threw (they expired and were taken), with a `SuppressedError` holding both, as
   * `await using` does; a failed release is tried again in the background (see `release`; an
   * error reply too, 1, 5 and 30 s later), and leaves this semaphore free for the next
   * `withPermit`. A release refused because the cache was closed is dropped; one `fn` made itself
   * (`semaphore.release()`) leaves nothing to do.
   */
  withPermit<T>(fn: () => T | Promise<T>): Promise<T> {
    const refused = `could not acquire permits of the semaphore '${bounded(this.name)}'`
    let taken: string | null = null
    const held = {
      acquire: async () => {
        const got = await this.acquire()
        if (got) taken = this.#token
        return got
      },
      release: () => {
        const token = taken as string
        if (this.#token === token) return this.#releaseTaken(token)
        // `fn` gave them back (`release()`): nothing is left to do, as after withLock's — unless
        // that release failed and a try in the background answered since: as it found.
        if (this.#token === null && this.#behind !== null) return this.release()
        return Promise.resolve()
      },
    }
    return withHeld('withPermit', fn, held, () => new LockError(refused))
  }

  /**
   * `withPermit`'s release of the permits it took (`token`). Its caller has nothing to try again
   * with, and this semaphore would refuse every later acquisition while it kept the token for a
   * retry: when the release fails, the token is let go and the permits are released in the
   * background on their own, 1, 5 and 30 s later — an error reply too (a `READONLY` of a
   * failover), which `release()` does not hand over, and not as this semaphore's hand-off, which
   * the next `withPermit`'s release would drop.
   */
  async #releaseTaken(token: string): Promise<void> {
    try {
      await this.release()
    } catch (error) {
      if (this.#token === token) {
        this.#token = null
        this.#releaseUnknown = false
        if (!(error instanceof ClosedError)) {
          const member = `${this.weight}:${token}`
          this.#handoff.touch()
          unhold(this.#connection, this.name, member)
          releaseLater(this.#connection, RELEASE, this.name, member)
        }
      }
      throw error
    }
  }
}

/** The `SemaphoreFactory` that `@cachex/redis` hands every `Cache`, so that `cache.semaphore()` returns a `Semaphore`. */
export const semaphoreFactory: SemaphoreFactory = (connection, name, options) =>
  new Semaphore(connection, name, options)

/**
 * `error` (what an acquisition of the semaphore `name` rejected with) naming the semaphore when it
 * is the script's refusal of a key that is no semaphore, whose reply does not quote the key: a
 * `ResponseError` still, the name bounded (see `bounded`), the original as its `cause`. Any other
 * error is returned as it is.
 */
function namedError(error: unknown, name: string): unknown {
  if (
    !(error instanceof ResponseError) ||
    error.code !== 'E_RESPONSE' ||
    !error.message.includes('not a cachex semaphore')
  ) {
    return error
  }
  return new ResponseError(`semaphore '${bounded(name)}': ${error.message}`, { cause: error })
}

/** A count of permits: a positive safe integer. */
function permits(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(
      `a semaphore's ${what} must be a positive integer, got ${typeof value === 'number' ? value : typeof value}`,
    )
  }
  return value
}
