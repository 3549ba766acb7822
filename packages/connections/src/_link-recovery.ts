// How a standalone link gets back up after something went wrong, by cachex's own hand: a client
// cachex made is replaced by a fresh one (a call timed out, a handshake was refused or never
// answered, a reply could not be read), connected at once or after the backoff of its cause; a
// client that gave up connecting is connected again after `reconnectDelay`; a client of the
// user's, never replaced, is down until it answers a `PING` or an `InStepCheck`. `ClientLink`
// (`_standalone-link.ts`) keeps the client and its state, and says when.
import { TimeoutError } from '@cachex/core'
import { ErrorReply } from '@redis/client'
import { destroyClient } from './_connect.ts'
import type { Deadlines } from './_deadlines.ts'
import type { Sender } from './_options.ts'
import { REFUSED_FIRST_RETRY_MS, reconnectDelay, refusedRetryDelay } from './_retry.ts'
import type { NodeRedisClientLike } from './_standalone-options.ts'
import { InStepCheck, UnreadableBackoff, unreadableError } from './_unreadable.ts'

/** What a `LinkRecovery` asks of the link it serves. */
export interface RecoveryOptions {
  /** Makes a new client; `undefined` for a client the user handed in, which is never replaced. */
  makeClient: (() => NodeRedisClientLike) | undefined
  /** Whether the client is a pool. */
  isPool: boolean
  /** Where the connection goes, for messages. */
  where: string
  /** `socketConnectTimeout`: how long a handshake may go unanswered. */
  connectTimeoutMs: number
  /** The connection's call bounds: `socketTimeout`, and the calls awaiting replies. */
  deadlines: Deadlines
  /** Whether the connection was closed: nothing is replaced or connected then. */
  closed(): boolean
  /** The client in use now. */
  client(): NodeRedisClientLike
  /** The client in use now, with cachex's command options. */
  sender(): Sender<Pick<NodeRedisClientLike, 'sendCommand'>>
  /** Uses `client` from now on. */
  bind(client: NodeRedisClientLike): void
  /** Opens `client` (node-redis retries by itself). */
  open(client: NodeRedisClientLike): Promise<unknown>
  /** Waits for the client in use to be ready, bounded; connects it if needed. */
  connect(): Promise<void>
  /** Whether the client in use is connected and ready. */
  ready(): boolean
  /** Whether the connection is known down. */
  isDown(): boolean
  /** Why it is down. */
  downCause(): unknown
  /** The connection is known down, for `cause`. */
  markDown(cause: unknown): void
  /** The connection works (again): calls go through. */
  up(): void
}

/**
 * A standalone link's reconnection attempts and client replacements, their backoffs (the short
 * steps of an outage, the long ones of a refused handshake, those of unreadable replies), the
 * watchdog of a handshake, and the checks that bring a client of the user's back.
 */
export class LinkRecovery {
  readonly #options: RecoveryOptions
  /** Failed reconnection attempts in a row, for the backoff of the ones cachex starts itself. */
  #attempts = 0
  /** The next reconnection attempt cachex starts itself (for a client that gave up). */
  #retry: NodeJS.Timeout | undefined
  /** Handshakes refused in a row (`isRefusedHandshake`), for their longer backoff. */
  #refusals = 0
  /** When (`performance.now()`) the last handshake was refused. */
  #refusedAt = 0
  /** Bounds a handshake that never answers (a frozen server accepts TCP connections). */
  #watchdog: NodeJS.Timeout | undefined
  /** When a client cachex made reconnects after unreadable replies. */
  readonly #unreadableBackoff = new UnreadableBackoff()
  /** Why the last client was replaced, for the errors of the commands it dropped. */
  #resetReason = ''
  /**
   * A client of the user's that could not read a reply (`unreadable`): maybe out of step with
   * its server, down until it answers a check in step (`#stepCheck`) or is ready again.
   */
  #outOfStep = false
  /** Checks a client of the user's, out of step, back in step. */
  readonly #stepCheck: InStepCheck

  constructor(options: RecoveryOptions) {
    this.#options = options
    this.#stepCheck = new InStepCheck({
      busy: () => options.deadlines.inFlightBytes > 0,
      ready: () => options.client().isReady === true,
      echo: (nonce) => options.sender().as(true).sendCommand(['ECHO', nonce]),
      inStep: () => {
        if (this.#outOfStep) options.up()
      },
    })
  }

  /** Whether a client of the user's is down for an unreadable reply, until back in step. */
  get outOfStep(): boolean {
    return this.#outOfStep
  }

  /** Why the last client was replaced (`''` until one was): for the errors of its commands. */
  get resetReason(): string {
    return this.#resetReason
  }

  /** Whether a reconnection attempt is scheduled. */
  get pending(): boolean {
    return this.#retry !== undefined
  }

  /**
   * Whether the backoff's first step has passed since the last refused handshake: a call may
   * then try once itself (see `ClientLink.refuse`).
   */
  get refusalAged(): boolean {
    return performance.now() - this.#refusedAt >= REFUSED_FIRST_RETRY_MS
  }

  /** The connection works (again): the backoffs start over, the check in step ends. */
  up(): void {
    this.#outOfStep = false
    this.#stepCheck.stop()
    this.#unreadableBackoff.up()
    this.#attempts = 0
    this.#refusals = 0
    clearTimeout(this.#retry)
    this.#retry = undefined
    this.disarm()
  }

  /** Stops the watchdog, the reconnection attempts and the checks (the connection closes). */
  stop(): void {
    this.disarm()
    clearTimeout(this.#retry)
    this.#stepCheck.stop()
  }

  /**
   * The TCP connection of `client` is up and its handshake starts: a frozen server accepts the
   * connection (the kernel does) but never answers it, and node-redis would wait forever. Unless
   * ready within `socketConnectTimeout`, the client is replaced (`reset`).
   */
  watch(client: NodeRedisClientLike): void {
    this.disarm()
    const options = this.#options
    this.#watchdog = setTimeout(() => {
      this.#watchdog = undefined
      if (client !== options.client() || options.ready()) return
      this.reset(
        new TimeoutError(
          `${options.where} accepted the connection but did not answer the handshake within ${options.connectTimeoutMs} ms (socketConnectTimeout)`,
        ),
      )
    }, options.connectTimeoutMs).unref()
  }

  /** Stops the watchdog of a handshake. */
  disarm(): void {
    if (this.#watchdog !== undefined) {
      clearTimeout(this.#watchdog)
      this.#watchdog = undefined
    }
  }

  /** Replaces a client cachex made, connected again at once (see `ClientLink.reset`). */
  reset(reason: Error): boolean {
    return this.#replace(reason, 0)
  }

  /**
   * The server refused the handshake of a client cachex made (`isRefusedHandshake`: its
   * credentials, or a command of the handshake the ACL forbids or the server does not know).
   * node-redis would try again every 2 s at most, on each client of a pool, for as long as the
   * connection is open: each try a failed authentication in the server's ACL log, and the same
   * refusal until an operator changes the password, the ACL or the server's configuration. The
   * client is dropped for a fresh one, not yet connected, and connected after `refusedRetryDelay`
   * (10 s, doubling up to 5 minutes; the backoff starts over once connected); calls fail fast
   * with the refusal meanwhile (see `ClientLink.refuse` for the one try a call may make). A
   * client of the user's keeps its own strategy.
   */
  refused(): void {
    const make = this.#options.makeClient
    if (make === undefined || this.#options.closed()) return
    this.#refusedAt = performance.now()
    // A fresh client rather than the same one opened again later: node-redis's loop on the old
    // one may still be asleep before its next try, and would wake up to run beside a new one.
    this.#renew(make, refusedRetryDelay(this.#refusals++))
  }

  /**
   * A call timed out. A client cachex made is replaced; a client the user handed in is reported
   * down until it answers a `PING` again (or reconnects), so that calls stop waiting on it.
   */
  timedOut(): void {
    const options = this.#options
    if (options.closed()) return
    const reason = new TimeoutError(
      `a call to ${options.where} did not complete within ${options.deadlines.timeoutMs} ms (socketTimeout)`,
    )
    if (options.makeClient !== undefined) {
      this.reset(reason)
      return
    }
    if (options.isDown()) return
    options.markDown(reason)
    const client = options.client()
    const answered = () => {
      if (client === options.client() && options.downCause() === reason) options.up()
    }
    // Queued behind the commands that timed out: answered once the server has caught up.
    options
      .sender()
      .as(false)
      .sendCommand(['PING'])
      .then(answered, (error: unknown) => {
        if (error instanceof ErrorReply) answered()
      })
  }

  /**
   * The client could not read a reply (`isUnreadableReply`): node-redis kept its socket and the
   * commands waiting for replies, out of step. A client cachex made is replaced (see `reset`),
   * connected again after `UnreadableBackoff` (at once, or 100 ms later doubling up to 2 s while
   * it garbles again within 5 s of coming up, or in its handshake). A client of the user's, never
   * destroyed, is down until it answers an `InStepCheck` or is ready again. `false` (handled as
   * any other error) for a pool of the user's, which no ready event would bring back, and once
   * closed.
   */
  unreadable(error: Error): boolean {
    const options = this.#options
    if (options.closed()) return false
    if (options.makeClient !== undefined) {
      const delay = this.#unreadableBackoff.next(options.ready())
      return this.#replace(unreadableError(options.where, error), delay)
    }
    if (options.isPool) return false
    this.#outOfStep = true
    options.markDown(unreadableError(options.where, error, true))
    this.#stepCheck.start()
    return true
  }

  /** Connects the client again after `reconnectDelay` (one that gave up: see `ClientLink.kick`). */
  retry(): void {
    this.#retry = setTimeout(() => this.#connectNow(), reconnectDelay(this.#attempts++)).unref()
  }

  /** `reset`, the new client connected after `delayMs` (at once for 0). */
  #replace(reason: Error, delayMs: number): boolean {
    const options = this.#options
    const make = options.makeClient
    if (make === undefined || options.closed()) return false
    options.markDown(reason)
    this.#resetReason = reason.message
    this.disarm()
    this.#renew(make, delayMs)
    return true
  }

  /** Destroys the client for a fresh one from `make`, connected after `delayMs` (at once for 0). */
  #renew(make: () => NodeRedisClientLike, delayMs: number): void {
    const options = this.#options
    const old = options.client()
    options.bind(make())
    destroyClient(old)
    if (delayMs <= 0) {
      options.open(options.client()).catch(() => undefined)
      return
    }
    clearTimeout(this.#retry)
    this.#retry = setTimeout(() => this.#connectNow(), delayMs).unref()
  }

  /** The scheduled attempt: connects the client in use unless closed or open meanwhile. */
  #connectNow(): void {
    this.#retry = undefined
    const options = this.#options
    if (options.closed() || options.client().isOpen) return
    options.connect().catch(() => undefined)
  }
}
