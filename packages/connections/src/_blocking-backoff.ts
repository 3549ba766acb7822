import { ConnectionError } from '@cachex/core'
import { markUnsent } from '@cachex/core/internal'
import { isRefusedHandshake, reconnectDelay, refusedRetryDelay } from './_retry.ts'

/**
 * How long the openings of dedicated clients (`BlockingClients`) back off after the server
 * refused one: the calls that would open a client meanwhile reject at once, marked unsent,
 * naming the refusal. One step per round (openings refused together are one refusal):
 * `reconnectDelay`, or 10 s each time after a refused password, as the cache's own connection
 * tries again.
 */
export class OpeningBackoff {
  /** The last opening refused, until when openings back off, refusals in a row. */
  #refusal: ConnectionError | undefined
  #until = 0
  #refusals = 0

  /** Throws the last refusal, unsent, while openings back off. */
  check(): void {
    const refusal = this.#refusal
    const leftMs = this.#until - performance.now()
    if (refusal === undefined || leftMs <= 0) return
    throw markUnsent(
      new ConnectionError(`${refusal.message} (not trying again for ${Math.ceil(leftMs)} ms)`, {
        cause: refusal.cause,
      }),
    )
  }

  /** An opening was refused with `failed`: a step, unless this round stepped already. */
  refused(failed: ConnectionError): void {
    const now = performance.now()
    if (now < this.#until) return
    const password = isRefusedHandshake(failed.cause)
    this.#until = now + (password ? refusedRetryDelay(0) : reconnectDelay(this.#refusals++))
    this.#refusal = failed
  }

  /** An opening succeeded: the next refusal starts from the first step. */
  opened(): void {
    this.#refusal = undefined
    this.#refusals = 0
  }
}
