import type { ClosedError } from '@cachex/core'
import { rejectAfterTurn } from './_after-turn.ts'
import { Breaker } from './_breaker.ts'
import { closedError, settledWithin } from './_connect.ts'

/** What a `Lifecycle` asks of the topology it guards. */
export interface LifecycleOptions {
  /** Where the connection goes, for messages (passwords redacted); `undefined`: say nothing. */
  where: string | undefined
  /** Whether a call may go now: connected and ready (not asked once closed). */
  ready(): boolean
  /** One attempt to get ready, bounded by `socketConnectTimeout`. */
  connect(): Promise<void>
  /** The message of an error, passwords redacted. */
  describe(error: unknown): string
  /** The passwords to cut out of the errors kept as causes (see `scrub`). */
  secrets?: readonly string[]
  /**
   * The error a call rejects with at once while the connection is known down, or `undefined`
   * to connect; for a topology that tracks its health itself. Without it, a failed `connect()`
   * trips the lifecycle's `breaker`: calls then reject at once while `connect()` is retried in
   * the background, `reconnectDelay` apart.
   */
  refuse?(): Error | undefined
  /**
   * The error a call rejects with at once, and no attempt to connect made, while the topology
   * must not connect: a client of the user's that its owner closed. `undefined` otherwise.
   */
  stopped?(): Error | undefined
}

/**
 * The lifecycle of one connection, the same for every topology: closed or not, and the guard
 * every call passes — run now when ready, reject at once when closed or known down, otherwise
 * wait for one bounded attempt to connect.
 */
export class Lifecycle {
  /** Set by `close()`; never cleared. */
  closed = false
  /** Open while the last attempt to connect failed (unless the topology refuses itself). */
  readonly breaker = new Breaker()
  readonly #options: LifecycleOptions
  /** The calls held by `untilClosed` (blocking commands, and calls not carried): rejected by `close()`. */
  readonly #waiting = new Set<() => void>()
  /**
   * The calls waiting for an attempt to connect, each with the attempt: `close(true)` lets them
   * wait on (see `opening`) until `drop()`.
   */
  readonly #connecting = new Map<() => void, Promise<unknown>>()

  constructor(options: LifecycleOptions) {
    this.#options = options
  }

  /** Whether a call may go now: not closed, and ready. */
  get open(): boolean {
    return !this.closed && this.#options.ready()
  }

  /**
   * Resolves when a call may go: at once when ready; rejects at once when closed or known down;
   * otherwise after one bounded attempt to connect (shared by the calls that arrive meanwhile).
   * A call that waits for the attempt is `carried` by it past a `close(true)` made meanwhile
   * (the call was made before the close); a blocking command is not (`false`): `close()` ends it.
   */
  whenReady(carried = true): Promise<void> {
    const options = this.#options
    if (this.closed) return Promise.reject(this.closedError())
    if (options.ready()) return Promise.resolve()
    const stopped = options.stopped?.()
    if (stopped !== undefined) return Promise.reject(stopped)
    if (options.refuse !== undefined) {
      const refused = options.refuse()
      if (refused !== undefined) return rejectAfterTurn(refused)
      return this.#untilConnected(options.connect(), carried)
    }
    if (this.breaker.isDown) {
      return rejectAfterTurn(
        this.breaker.error(options.where ?? 'the connection', options.describe, options.secrets),
      )
    }
    return this.#untilConnected(
      options.connect().catch((error: unknown) => {
        if (!this.closed) this.breaker.down(error, options.connect)
        throw error
      }),
      carried,
    )
  }

  /**
   * Marks the connection closed and stops the breaker: calls made from now on reject with a
   * `ClosedError`, and so do the ones `untilClosed` holds. The calls waiting for an attempt to
   * connect reject now too, unless `carry`: they were made before the close, and wait on for the
   * attempt (`opening`), to be sent once it succeeds, until `drop()`. `false` when it already
   * was closed.
   */
  close(carry = false): boolean {
    if (this.closed) return false
    this.closed = true
    this.breaker.close()
    const waiting = [...this.#waiting]
    this.#waiting.clear()
    for (const stop of waiting) stop()
    if (!carry) this.drop()
    return true
  }

  /**
   * Settles once the attempts to connect that the calls `close(true)` carried wait for have
   * settled (never rejects); `undefined` when no call waits. The calls go on (sent, or rejected
   * with a `ClosedError` if the attempt failed) before it settles.
   */
  get opening(): Promise<void> | undefined {
    if (this.#connecting.size === 0) return undefined
    return Promise.allSettled(new Set(this.#connecting.values())).then(() => undefined)
  }

  /**
   * After `close(true)`: lets the attempt to connect carry the calls waiting for it, for at most
   * `timeoutMs` (`socketConnectTimeout`: a stuck attempt cannot hold `close()` longer), then
   * rejects those still waiting with a `ClosedError`. Once it resolves, the calls carried were
   * sent (or rejected): the connection may close gracefully, answering them.
   */
  async carry(timeoutMs: number): Promise<void> {
    await settledWithin(this.opening, timeoutMs)
    this.drop()
  }

  /**
   * Whether calls wait for an attempt to connect under way: after `close(true)`, the attempt
   * must go on for them (until `carry` gives up on it).
   */
  get carrying(): boolean {
    return this.#connecting.size > 0
  }

  /** Rejects with a `ClosedError` the calls still waiting for an attempt to connect. */
  drop(): void {
    const connecting = [...this.#connecting.keys()]
    this.#connecting.clear()
    for (const stop of connecting) stop()
  }

  /** How many calls `untilClosed` holds now. */
  get waiting(): number {
    return this.#waiting.size
  }

  /**
   * `pending` (an attempt to connect, a command `close()` cannot end), unless the connection is
   * closed first: then a `ClosedError` at once (an attempt under way may take until
   * `socketConnectTimeout` to notice; a blocking command, its whole block).
   */
  untilClosed<T>(pending: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const stop = () => reject(this.closedError())
      this.#waiting.add(stop)
      pending.then(
        (value) => {
          this.#waiting.delete(stop)
          if (this.closed) stop()
          else resolve(value)
        },
        (error: unknown) => {
          this.#waiting.delete(stop)
          reject(this.closed ? this.closedError() : error)
        },
      )
    })
  }

  /**
   * `attempt` (to connect), for a call waiting for it: held by `untilClosed` unless `carried`;
   * a carried call resolves once the attempt succeeds, closed meanwhile or not (`close(true)`),
   * unless `drop()` rejected it first.
   */
  #untilConnected(attempt: Promise<void>, carried: boolean): Promise<void> {
    if (!carried) return this.untilClosed(attempt)
    return new Promise<void>((resolve, reject) => {
      const stop = () => reject(this.closedError())
      this.#connecting.set(stop, attempt)
      attempt.then(
        () => {
          if (this.#connecting.delete(stop)) resolve()
        },
        (error: unknown) => {
          if (this.#connecting.delete(stop)) reject(this.closed ? this.closedError() : error)
        },
      )
    })
  }

  /** The error every call of a closed connection rejects with. */
  closedError(): ClosedError {
    return closedError(this.#options.where)
  }
}
