// After a reply node-redis could not read (`isUnreadableReply`): what the calls are told, when a
// connection cachex replaces connects again (`UnreadableBackoff`), and how a client of the user's,
// which cachex never replaces, is checked back in step with its server (`InStepCheck`).
import { randomBytes } from 'node:crypto'
import { ConnectionError } from '@cachex/core'
import { ErrorReply } from '@redis/client'
import { reconnectDelay } from './_retry.ts'

/**
 * Milliseconds a connection stays up without an unreadable reply before the backoff of the
 * reconnections they cause starts over (`UnreadableBackoff`).
 */
export const UNREADABLE_STABLE_MS = 5000

/**
 * Why a connection to `where` was reset, or is down, after `error`, a reply it could not read;
 * `given`: the client is the user's, not replaced but kept out of use until it is back in step.
 */
export function unreadableError(where: string, error: Error, given = false): ConnectionError {
  const what = `a reply from ${where} could not be read: ${error.message}`
  if (!given) return new ConnectionError(what, { cause: error })
  return new ConnectionError(
    `${what}; the client you handed in may be out of step with the server (a reply would go to another command), and is not used until it answers a check in step (once no call of the cache's awaits a reply on it) or is ready again: reconnect it`,
    { cause: error },
  )
}

/**
 * The backoff of the reconnections that unreadable replies cause on one connection (across the
 * clients that replace each other): a server or proxy that garbles a reply after every login
 * would otherwise be connected to in a loop, dozens of times a second. The first of a row
 * connects at once, if its connection was ready and `atOnce` allows it (`next`); each one that
 * follows before the connection stayed up `UNREADABLE_STABLE_MS` waits `reconnectDelay` (100 ms,
 * doubling up to 2 s). `up` tells it when the connection is up.
 */
export class UnreadableBackoff {
  /** Unreadable replies in a row. */
  #count = 0
  /** When (`performance.now()`) the connection last came up, until the next unreadable reply. */
  #upAt: number | undefined

  /** The connection is up (ready) now. */
  up(): void {
    this.#upAt = performance.now()
  }

  /**
   * A reply could not be read: the milliseconds to wait before connecting again. `atOnce`: the
   * connection was ready, and may connect again at once if this is the first of a row (a
   * handshake's reply, unreadable, waits from the first).
   */
  next(atOnce: boolean): number {
    const upAt = this.#upAt
    this.#upAt = undefined
    if (upAt !== undefined && performance.now() - upAt >= UNREADABLE_STABLE_MS) this.#count = 0
    const count = this.#count++
    if (!atOnce) return reconnectDelay(count)
    return count === 0 ? 0 : reconnectDelay(count - 1)
  }
}

/** What an `InStepCheck` asks of the client it checks. */
export interface InStepOptions {
  /** Whether a call of the cache's still awaits its reply on the client. */
  busy(): boolean
  /** Whether the client is ready: a command sent now goes to the server. */
  ready(): boolean
  /** Sends `ECHO nonce` on the client; resolves with its reply. */
  echo(nonce: string): Promise<unknown>
  /** The client answered in step. */
  inStep(): void
}

/**
 * Checks a client of the user's that could not read a reply: whether it is out of step with its
 * server. The error does not tell: a reply no command waited for, dropped, leaves it in step,
 * while a reply lost under a command that waited for it gives each later command the reply of
 * the one after it. Once no call of the cache's awaits a reply on it (one that does would get the
 * check's reply, were it out of step; out of step, the last of them never gets one) and it is
 * ready, it is sent `ECHO <nonce>`: that nonce coming back, or the server refusing `ECHO` itself
 * (an ACL without it), means it is in step. Anything else — another reply, none — and it stays
 * out of step; it is checked once per `start`. Looks again 100 ms later, doubling up to 2 s,
 * while busy or not ready.
 */
export class InStepCheck {
  readonly #options: InStepOptions
  #timer: NodeJS.Timeout | undefined
  /** Looks in a row at a busy client, for the wait before the next. */
  #looks = 0
  /** Counts starts and stops: a late reply of an earlier check is not taken. */
  #round = 0

  constructor(options: InStepOptions) {
    this.#options = options
  }

  /** Checks the client (again). */
  start(): void {
    this.stop()
    this.#looks = 0
    this.#look(this.#round)
  }

  /** Drops the check under way, if any (the client is ready again, or let go). */
  stop(): void {
    this.#round++
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #look(round: number): void {
    this.#timer = undefined
    if (round !== this.#round) return
    const options = this.#options
    if (options.busy() || !options.ready()) {
      const wait = reconnectDelay(this.#looks++)
      this.#timer = setTimeout(() => this.#look(round), wait).unref()
      return
    }
    const nonce = `cachex-in-step-${randomBytes(8).toString('hex')}`
    options.echo(nonce).then(
      (reply) => {
        if (round === this.#round && String(reply) === nonce) options.inStep()
      },
      (error: unknown) => {
        if (round === this.#round && isEchoRefused(error)) options.inStep()
      },
    )
  }
}

/** Whether `error` is the server refusing `ECHO` itself (an ACL without it): its own reply. */
function isEchoRefused(error: unknown): boolean {
  return error instanceof ErrorReply && /^NOPERM\b.*'echo'/i.test(error.message)
}
