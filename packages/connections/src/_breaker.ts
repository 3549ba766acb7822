// The circuit breaker of a sentinel's or a cluster's connection: down at once, tried again in
// the background on the schedules of _retry.ts.
import { ConnectionError } from '@cachex/core'
import { markUnsent } from '@cachex/core/internal'
import { scrub } from './_errors.ts'
import {
  REFUSED_FIRST_RETRY_MS,
  reconnectDelay,
  refusalState,
  refusedRetryDelay,
} from './_retry.ts'

/**
 * The circuit breaker of a connection whose client says little about its health (a sentinel, a
 * cluster): once an attempt failed, the connection is down — calls reject at once (`error()`)
 * instead of waiting — and `attempt` runs again in the background, one at a time,
 * `reconnectDelay` apart, until one succeeds or `up()` is called (the client said it is ready).
 * With `refusal` set, a failure it recognises as the server refusing the handshake is tried
 * again `refusedRetryDelay` apart instead (10 s, doubling up to 5 minutes), as on one server.
 */
export class Breaker {
  #down = false
  #cause: unknown
  #retries = 0
  /** Refused handshakes in a row (see `refusal`), for their longer backoff. */
  #refusals = 0
  /** When (`performance.now()`) the last attempt failed, or a call last tried itself. */
  #failedAt = 0
  #timer: NodeJS.Timeout | undefined
  /** Whether `#timer` waits a refusal's step (`refusedRetryDelay`). */
  #timerRefused = false
  #running = false
  #closed = false

  /**
   * Whether a failure (what an attempt rejected with) is the server refusing the handshake — a
   * wrong password, an unknown user — for a topology each of whose attempts logs in anew (a
   * cluster's discovery, on every seed): each such attempt is a failed authentication in the
   * server's ACL log, and meets the same refusal until an operator changes the password or the
   * ACL. Such a failure is tried again `refusedRetryDelay` apart (10 s, doubling up to 5
   * minutes) rather than `reconnectDelay` apart, and a call made `REFUSED_FIRST_RETRY_MS` or
   * more after the last failure tries once itself (see `isDown`), so that a password fixed on
   * the server is picked up by the next call rather than by the background attempt, which may
   * be minutes away. Unset: every failure is tried again `reconnectDelay` apart.
   */
  refusal: ((cause: unknown) => boolean) | undefined

  /**
   * Whether the connection is known to be down: calls reject at once (`error()`). While a
   * refused handshake (`refusal`) is backed off, one call per `REFUSED_FIRST_RETRY_MS` since the
   * last failure finds it not down, and tries once itself; the calls that follow it reject at
   * once again until that try succeeds.
   */
  get isDown(): boolean {
    if (!this.#down) return false
    if (
      !this.#running &&
      !this.#closed &&
      this.#refused() &&
      performance.now() - this.#failedAt >= REFUSED_FIRST_RETRY_MS
    ) {
      // At most one such try per step, whatever the rate of calls.
      this.#failedAt = performance.now()
      return false
    }
    return true
  }

  /** Why it is down: the last failure. */
  get cause(): unknown {
    return this.#cause
  }

  /** Marks the connection down because of `cause`, and retries `attempt` in the background. */
  down(cause: unknown, attempt: () => Promise<unknown>): void {
    if (this.#closed) return
    this.#down = true
    this.#cause = cause
    this.#failedAt = performance.now()
    // A refusal's long step pending, and now the server is unreachable (a call's own try): the
    // short steps of an outage start now.
    if (this.#timer !== undefined && this.#timerRefused && !this.#refused()) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    this.#schedule(attempt)
  }

  /** The connection works: calls go through again, and the backoff starts over. */
  up(): void {
    this.#down = false
    this.#cause = undefined
    this.#retries = 0
    this.#refusals = 0
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** Stops retrying for good. */
  close(): void {
    this.#closed = true
    this.up()
  }

  /**
   * The error a call rejects with while the connection is down: `describe` gives the message of
   * the failure, and `secrets` are cut out of the failure kept as its cause. Marked unsent
   * (`markUnsent`): the call was refused before anything was sent.
   */
  error(
    what: string,
    describe: (error: unknown) => string,
    secrets: readonly string[] = [],
  ): ConnectionError {
    const cause = this.#cause
    const text = cause === undefined ? undefined : describe(cause)
    // A server that refuses the credentials is reachable, and a certificate refused was no
    // outage: saying "unreachable" sends one looking at the network (as one server says it).
    const state = text === undefined ? 'is unreachable' : refusalState(text, cause)
    return markUnsent(
      new ConnectionError(
        `${what} ${state}, not waiting (retrying in the background)${text === undefined ? '' : `: ${text}`}`,
        { cause: scrub(cause, secrets) },
      ),
    )
  }

  /** Whether the failure the connection is down for is a refused handshake (see `refusal`). */
  #refused(): boolean {
    return this.refusal !== undefined && this.#cause !== undefined && this.refusal(this.#cause)
  }

  #schedule(attempt: () => Promise<unknown>): void {
    if (this.#timer !== undefined || this.#running || this.#closed) return
    let delay: number
    this.#timerRefused = this.#refused()
    if (this.#timerRefused) {
      delay = refusedRetryDelay(this.#refusals++)
    } else {
      // Refusals in a row only: an unreachable cluster keeps its short steps.
      this.#refusals = 0
      delay = reconnectDelay(this.#retries++)
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      if (!this.#down || this.#closed) return
      this.#running = true
      attempt().then(
        () => {
          this.#running = false
          this.up()
        },
        (error: unknown) => {
          this.#running = false
          if (!this.#down || this.#closed) return
          this.#cause = error
          this.#failedAt = performance.now()
          this.#schedule(attempt)
        },
      )
    }, delay)
    this.#timer.unref()
  }
}
