import type { ClosedError } from '@cachex/core'
import { Breaker, closedError } from './_connect.ts'

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
  /** The calls waiting for an attempt to connect: rejected by `close()`. */
  readonly #waiting = new Set<() => void>()

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
   */
  whenReady(): Promise<void> {
    const options = this.#options
    if (this.closed) return Promise.reject(this.closedError())
    if (options.ready()) return Promise.resolve()
    const stopped = options.stopped?.()
    if (stopped !== undefined) return Promise.reject(stopped)
    if (options.refuse !== undefined) {
      const refused = options.refuse()
      return refused !== undefined ? Promise.reject(refused) : this.untilClosed(options.connect())
    }
    if (this.breaker.isDown) {
      return Promise.reject(
        this.breaker.error(options.where ?? 'the connection', options.describe, options.secrets),
      )
    }
    return this.untilClosed(
      options.connect().catch((error: unknown) => {
        if (!this.closed) this.breaker.down(error, options.connect)
        throw error
      }),
    )
  }

  /**
   * Marks the connection closed and stops the breaker; the calls waiting for an attempt to
   * connect reject now with a `ClosedError`. `false` when it already was closed.
   */
  close(): boolean {
    if (this.closed) return false
    this.closed = true
    this.breaker.close()
    const waiting = [...this.#waiting]
    this.#waiting.clear()
    for (const stop of waiting) stop()
    return true
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

  /** The error every call of a closed connection rejects with. */
  closedError(): ClosedError {
    return closedError(this.#options.where)
  }
}
