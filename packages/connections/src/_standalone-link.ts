// The client of a standalone connection, and how it is doing: it connects and reconnects,
// replaces a client that timed out, bounds a handshake that never answers, and knows when the
// server is down (calls then fail fast) or when the user's own client was closed by its owner.
// `StandaloneConnection` sends its commands through it.
import { ConnectionError, type RedisArgument, TimeoutError } from '@cachex/core'
import { markUnsent } from '@cachex/core/internal'
import { ErrorReply } from '@redis/client'
import { connectBounded, destroyClient, SharedAttempt } from './_connect.ts'
import type { Deadlines } from './_deadlines.ts'
import { hasPlainHint, ownerClosedError, scrub, tlsMismatchHint, toCachexError } from './_errors.ts'
import { Listeners } from './_listeners.ts'
import { Sender } from './_options.ts'
import {
  isRefusedHandshake,
  isUnreadableReply,
  REFUSED_FIRST_RETRY_MS,
  reconnectDelay,
  refusalState,
  refusedRetryDelay,
  withAuthHint,
} from './_retry.ts'
import { nodesChanged } from './_scripts.ts'
import type { ClientSource, NodeRedisClientLike } from './_standalone-options.ts'
import { InStepCheck, UnreadableBackoff, unreadableError } from './_unreadable.ts'

/** What a `ClientLink` asks of the connection it serves. */
export interface LinkOptions {
  /** The client to use first, and how to make another (`clientSource`). */
  source: ClientSource
  /** `socketConnectTimeout`: how long one attempt to connect may take. */
  connectTimeoutMs: number
  /** The connection's call bounds (`socketTimeout`, for messages). */
  deadlines: Deadlines
  /** Whether the connection was closed: nothing is opened or replaced then. */
  closed(): boolean
  /** The error of a call that waited for an attempt to connect that `close()` ended. */
  closedError(): Error
}

/**
 * A standalone connection's client and its health (see `StandaloneConnection` for the circuit
 * breaker it implements): the client in use, whether the server is known down and why, the
 * reconnection attempts cachex starts itself, and the watchdog of a handshake.
 * @internal
 */
export class ClientLink {
  #client: NodeRedisClientLike
  /** The client with cachex's command options: replies as bytes, as text, or integers as digits. */
  #sender!: Sender<Pick<NodeRedisClientLike, 'sendCommand'>>
  /**
   * Makes a new client, for a connection cachex created from a URL: a client that timed out is
   * replaced by a fresh one (node-redis cannot drop a socket and keep the client). `undefined` for
   * a client the user handed in, which is never destroyed by cachex.
   */
  readonly #makeClient: (() => NodeRedisClientLike) | undefined
  readonly #connectTimeoutMs: number
  readonly #deadlines: Deadlines
  readonly #secrets: string[]
  readonly #where: string
  readonly #isPool: boolean
  readonly #closed: () => boolean
  readonly #closedError: () => Error
  readonly #connecting = new SharedAttempt()
  #lastError: unknown
  /** Whether the connection is known to be down: calls reject at once meanwhile. */
  #down = false
  /** Why it is down. */
  #downCause: unknown
  /**
   * A client of the user's that its owner closed (`close()`, `destroy()`): not opened again (its
   * owner is shutting down; reopened, it would keep the process alive), until it is ready again.
   */
  #ownerClosed = false
  /**
   * A client of the user's that could not read a reply (`#unreadable`): maybe out of step with
   * its server, down until it answers a check in step (`#stepCheck`) or is ready again.
   */
  #outOfStep = false
  /** Checks a client of the user's, out of step, back in step. */
  readonly #stepCheck: InStepCheck
  /** When a client cachex made reconnects after unreadable replies. */
  readonly #unreadableBackoff = new UnreadableBackoff()
  /**
   * For a client pool of the user's, whether it was open once (a pool has no 'end' event): closed
   * since, its owner closed it, and it is not opened again. `undefined` for any other client.
   */
  #givenOpened: boolean | undefined
  /** The `connect()` of a pool cachex opened, until it resolves (a pool has no ready event). */
  #opening: Promise<unknown> | undefined
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
  /** Why the last client was replaced, for the errors of the commands it dropped. */
  #resetReason = ''
  /** Adds to a connection failure the hint of a TLS mismatch either way (`tlsMismatchHint`). */
  readonly #hint: (failure: unknown, everReady: boolean) => unknown
  /** Counts the times the connection became ready (`readyCount`). */
  #readyCount = 0
  /** The listeners `#bind` put on the client in use. */
  #listeners = new Listeners()

  constructor(options: LinkOptions) {
    const { source } = options
    this.#connectTimeoutMs = options.connectTimeoutMs
    this.#deadlines = options.deadlines
    this.#closed = options.closed
    this.#closedError = options.closedError
    this.#client = source.client
    this.#makeClient = source.makeClient
    this.#secrets = source.secrets
    this.#where = source.where
    this.#isPool = source.isPool
    this.#hint = tlsMismatchHint(source)
    if (source.isPool && source.makeClient === undefined) this.#givenOpened = source.client.isOpen
    this.#stepCheck = new InStepCheck({
      busy: () => this.#deadlines.inFlightBytes > 0,
      ready: () => this.#client.isReady === true,
      echo: (nonce) => this.#sender.as(true).sendCommand(['ECHO', nonce]),
      inStep: () => {
        if (this.#outOfStep) this.#up()
      },
    })
    this.#bind(this.#client)
  }

  /** The client in use now. */
  get client(): NodeRedisClientLike {
    return this.#client
  }

  /** The client in use now, with cachex's command options. */
  get sender(): Sender<Pick<NodeRedisClientLike, 'sendCommand'>> {
    return this.#sender
  }

  /** Whether the connection is known to be down (calls fail fast until it is back). */
  get isDown(): boolean {
    return this.#down
  }

  /**
   * Whether it is down for a reason that waiting does not change: the server refused its
   * handshake (a wrong password, an unknown user, a certificate: `isRefusedHandshake`), or, the
   * link never ready yet, the server drops each plain connection unanswered as one that serves
   * TLS only does (a `redis://` URL where `rediss://` is needed: the failure gets the hint of
   * `tlsMismatchHint`). The server is up, and no failover changes its configuration. A link that
   * was ready once and is reset since has an outage, not this.
   */
  get isRefused(): boolean {
    if (!this.#down) return false
    const cause = this.#downCause
    if (isRefusedHandshake(cause)) return true
    // The background reconnections record node-redis's raw error: hinted here as `refuse` does.
    return (
      this.#readyCount === 0 && hasPlainHint(this.#hint(toCachexError(cause, this.#secrets), false))
    )
  }

  /** How many times the connection became ready. */
  get readyCount(): number {
    return this.#readyCount
  }

  /**
   * Changes when the server may have been replaced: the connection became ready again, or (a
   * pool, whose clients reconnect without a 'ready') one of its clients failed.
   */
  get serverChanges(): number {
    return this.#readyCount + this.#poolErrors
  }

  /** The errors of a pool's clients (each may precede a reconnection to another process). */
  #poolErrors = 0

  /** The passwords to cut out of errors. */
  get secrets(): readonly string[] {
    return this.#secrets
  }

  /** Why the last client was replaced (`''` until one was): for the errors of its commands. */
  get resetReason(): string {
    return this.#resetReason
  }

  /**
   * Takes this link's listeners off the client in use: for a client of the user's that outlives
   * the connection (each closed cache would otherwise stay on it). One cachex closes keeps them,
   * so that an error it emits while it goes finds a listener.
   */
  letGo(): void {
    this.#listeners.clear()
  }

  /** Stops the watchdog and the reconnection attempts cachex starts itself (the connection closes). */
  stop(): void {
    this.#disarm()
    clearTimeout(this.#retry)
    this.#stepCheck.stop()
  }

  /** The error a call rejects with at once while the connection is known down (marked unsent). */
  refuse(): Error | undefined {
    if (this.#poolClosedByOwner()) return ownerClosedError(this.#where, 'client pool')
    if (!this.#down) return undefined
    if (this.#ownerClosed) return this.#downCause as Error
    if (this.#outOfStep) return markUnsent(this.#downCause as Error)
    const cause = this.#downCause
    const refused = isRefusedHandshake(cause)
    // A refused handshake is tried again seldom (`#refused`): a call made once the backoff's
    // first step has passed since the last refusal tries once itself, so that a password fixed
    // on the server is picked up by the next call rather than by the background attempt, which
    // may be minutes away. At most one such try per step, whatever the rate of calls.
    if (
      refused &&
      this.#makeClient !== undefined &&
      !this.#connecting.pending &&
      performance.now() - this.#refusedAt >= REFUSED_FIRST_RETRY_MS
    ) {
      return undefined
    }
    this.kick()
    const text = this.describe(cause)
    // A server that refuses the credentials is reachable, and a certificate refused was no
    // outage: saying "unreachable" sends one looking at the network.
    const state = refusalState(text, cause)
    // The background attempts record their raw errors: the hint of the first failure is kept.
    const error = new ConnectionError(
      `${this.#where} ${state}, not waiting (reconnecting in the background): ${text}`,
      { cause: scrub(cause, this.#secrets) },
    )
    // Refused before anything was sent: a lock's release can tell it from one that may have run.
    return markUnsent(this.#hint(error, this.#readyCount > 0) as Error)
  }

  /**
   * Whether the client is connected and ready (a pool: open, not opening, and not known down —
   * an open pool may have none of its clients connected).
   */
  ready(): boolean {
    const client = this.#client
    if (!this.#isPool) return client.isReady === true
    const open = client.isOpen && this.#opening === undefined
    // A pool of the user's seen open, by its owner's hand or the cache's: closed later, its owner
    // closed it.
    if (open && this.#givenOpened === false) this.#givenOpened = true
    return open && !this.#down
  }

  /** Whether a client pool of the user's, open once, is closed now: by its owner. */
  #poolClosedByOwner(): boolean {
    return this.#givenOpened === true && !this.#client.isOpen
  }

  /** Uses `client` from now on: its senders, and its events for the circuit breaker. */
  #bind(client: NodeRedisClientLike): void {
    // A replaced client is destroyed: its listeners stay on it (a late error must find one).
    const listeners = new Listeners()
    this.#listeners = listeners
    this.#client = client
    this.#opening = undefined
    this.#sender = new Sender(client, (options) => ({
      sendCommand: (args: ReadonlyArray<RedisArgument>, extra?: object) =>
        client.sendCommand(args, extra === undefined ? options : { ...options, ...extra }),
    }))
    // An 'error' event without a listener crashes the process; remember it for messages, and as
    // the sign that the connection is down when the client is not ready.
    listeners.add(client, 'error', (error: unknown) => {
      if (client !== this.#client) return
      // A reply it could not read: the connection is out of step with the server.
      if (isUnreadableReply(error) && this.#unreadable(error)) return
      // A pool's clients reconnect without a 'ready' here: the server may come back without
      // the scripts it ran.
      if (this.#isPool) {
        nodesChanged()
        this.#poolErrors++
      }
      this.#lastError = error
      // A pool stays open while its clients reconnect (node-redis retries each every 2 s, and
      // answers every call "The client is offline" meanwhile): a refused handshake of a pool
      // cachex made is recorded as down however open it is, so that calls fail fast with the
      // refusal and the whole pool backs off (`#refused`). A pool of the user's keeps its own
      // strategy: cachex could not tell when it is back.
      const refusedPool =
        this.#isPool && this.#makeClient !== undefined && isRefusedHandshake(error)
      if (!this.ready() || refusedPool) {
        this.#disarm()
        this.#markDown(error)
        if (isRefusedHandshake(error)) this.#refused()
      }
    })
    if (this.#isPool) return
    if (this.#makeClient === undefined) {
      // node-redis emits 'end' only when its socket is closed by close() or destroy().
      listeners.add(client, 'end', () => {
        if (client !== this.#client || this.#closed()) return
        this.#ownerClosed = true
        this.#markDown(ownerClosedError(this.#where, 'client'))
      })
    }
    listeners.add(client, 'ready', () => {
      if (client !== this.#client) return
      // A new connection: the server may have restarted, without the scripts it ran.
      nodesChanged()
      this.#up()
    })
    // The TCP connection is up and the handshake starts: a frozen server accepts the connection
    // (the kernel does) but never answers it, and node-redis would wait forever.
    if (this.#makeClient !== undefined) {
      listeners.add(client, 'connect', () => {
        if (client !== this.#client || this.#closed()) return
        this.#disarm()
        this.#watchdog = setTimeout(() => {
          this.#watchdog = undefined
          if (client !== this.#client || this.ready()) return
          this.reset(
            new TimeoutError(
              `${this.#where} accepted the connection but did not answer the handshake within ${this.#connectTimeoutMs} ms (socketConnectTimeout)`,
            ),
          )
        }, this.#connectTimeoutMs).unref()
      })
    }
  }

  /** The connection works (again): calls go through. */
  #up(): void {
    this.#ownerClosed = false
    this.#outOfStep = false
    this.#stepCheck.stop()
    this.#unreadableBackoff.up()
    this.#readyCount++
    this.#down = false
    this.#downCause = undefined
    this.#attempts = 0
    this.#refusals = 0
    clearTimeout(this.#retry)
    this.#retry = undefined
    this.#disarm()
  }

  /**
   * The server refused the handshake of a client cachex made (`isRefusedHandshake`). node-redis
   * would try again every 2 s at most, on each client of a pool, for as long as the connection is
   * open: each try a failed authentication in the server's ACL log, and the same refusal until
   * an operator changes the password or the ACL. The client is dropped for a fresh one, not yet
   * connected, and connected after `refusedRetryDelay` (10 s, doubling up to 5 minutes; the
   * backoff starts over once connected); calls fail fast with the refusal meanwhile (see
   * `refuse` for the one try a call may make). A client of the user's keeps its own strategy.
   */
  #refused(): void {
    const make = this.#makeClient
    if (make === undefined || this.#closed()) return
    this.#refusedAt = performance.now()
    // A fresh client rather than the same one opened again later: node-redis's loop on the old
    // one may still be asleep before its next try, and would wake up to run beside a new one.
    this.#renew(make, refusedRetryDelay(this.#refusals++))
  }

  #markDown(cause: unknown): void {
    if (this.#closed()) return
    this.#down = true
    this.#downCause = cause
    this.#lastError = cause
  }

  #disarm(): void {
    if (this.#watchdog !== undefined) {
      clearTimeout(this.#watchdog)
      this.#watchdog = undefined
    }
  }

  /**
   * A call timed out. A client cachex made is replaced; a client the user handed in is reported
   * down until it answers a `PING` again (or reconnects), so that calls stop waiting on it.
   */
  timedOut(): void {
    if (this.#closed()) return
    const reason = new TimeoutError(
      `a call to ${this.#where} did not complete within ${this.#deadlines.timeoutMs} ms (socketTimeout)`,
    )
    if (this.#makeClient !== undefined) {
      this.reset(reason)
      return
    }
    if (this.#down) return
    this.#markDown(reason)
    const client = this.#client
    const answered = () => {
      if (client === this.#client && this.#downCause === reason) this.#up()
    }
    // Queued behind the commands that timed out: answered once the server has caught up.
    this.#sender
      .as(false)
      .sendCommand(['PING'])
      .then(answered, (error: unknown) => {
        if (error instanceof ErrorReply) answered()
      })
  }

  /**
   * Destroys the client — every command still queued on it rejects now, and what it held is
   * freed — and connects a new one in the background; calls fail fast until it is ready. For a
   * call that timed out, a handshake never answered, or a server whose late replies must not
   * count (a primary the sentinels fail over). `false` for a client of the user's, which cachex
   * never destroys, and once closed.
   */
  reset(reason: Error): boolean {
    return this.#replace(reason, 0)
  }

  /** `reset`, the new client connected after `delayMs` (at once for 0). */
  #replace(reason: Error, delayMs: number): boolean {
    const make = this.#makeClient
    if (make === undefined || this.#closed()) return false
    this.#markDown(reason)
    this.#resetReason = reason.message
    this.#disarm()
    this.#renew(make, delayMs)
    return true
  }

  /** Destroys the client for a fresh one from `make`, connected after `delayMs` (at once for 0). */
  #renew(make: () => NodeRedisClientLike, delayMs: number): void {
    const old = this.#client
    this.#bind(make())
    destroyClient(old)
    if (delayMs <= 0) {
      this.#open(this.#client).catch(() => undefined)
      return
    }
    clearTimeout(this.#retry)
    this.#retry = setTimeout(() => {
      this.#retry = undefined
      if (this.#closed() || this.#client.isOpen) return
      this.connect().catch(() => undefined)
    }, delayMs).unref()
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
  #unreadable(error: Error): boolean {
    if (this.#closed()) return false
    if (this.#makeClient !== undefined) {
      const delay = this.#unreadableBackoff.next(this.ready())
      return this.#replace(unreadableError(this.#where, error), delay)
    }
    if (this.#isPool) return false
    this.#outOfStep = true
    this.#markDown(unreadableError(this.#where, error, true))
    this.#stepCheck.start()
    return true
  }

  /**
   * Opens `client` (node-redis retries by itself, with `reconnectDelay`); for a pool, also
   * records that it is open, as it has no ready event.
   */
  #open(client: NodeRedisClientLike): Promise<unknown> {
    const opening = client.connect()
    if (this.#isPool) {
      this.#opening = opening
      opening.then(
        () => {
          if (client !== this.#client) return
          this.#opening = undefined
          if (this.#givenOpened === false) this.#givenOpened = true
          this.#up()
        },
        (error: unknown) => {
          if (client !== this.#client) return
          this.#opening = undefined
          this.#markDown(error)
        },
      )
    }
    return opening
  }

  /**
   * While down, makes sure an attempt to reconnect is under way: node-redis retries a client
   * that is open by itself; one that gave up (a handed-in client whose reconnect strategy
   * stopped, a pool whose opening failed) is opened again after the backoff.
   */
  kick(): void {
    if (this.#closed() || this.#ownerClosed || this.#poolClosedByOwner()) return
    if (this.#retry !== undefined || this.#connecting.pending) return
    if (this.#client.isOpen) return
    this.#retry = setTimeout(
      () => {
        this.#retry = undefined
        if (this.#closed() || this.#client.isOpen) return
        this.connect().catch(() => undefined)
      },
      reconnectDelay(this.#attempts++),
    ).unref()
  }

  /**
   * Waits for the client to be ready, at most `socketConnectTimeout`; starts connecting if
   * needed. Any error while connecting (refused, reset, a refused handshake) ends the wait with a
   * `ConnectionError` at once and marks the connection down.
   */
  connect(): Promise<void> {
    return this.#connecting.run(() => {
      const client = this.#client
      if (this.#ownerClosed) return Promise.reject(this.#downCause)
      if (this.#poolClosedByOwner()) {
        return Promise.reject(ownerClosedError(this.#where, 'client pool'))
      }
      return connectBounded({
        emitter: client,
        where: this.#where,
        timeoutMs: this.#connectTimeoutMs,
        // A pool has no 'ready' event: its connect() settling is the signal.
        readyEvent: this.#isPool ? undefined : 'ready',
        opening: client.isOpen ? this.#opening : this.#open(client),
        isFatal: () => true,
        lastError: () => this.#lastError,
        setLastError: (error) => {
          this.#lastError = error
        },
        describe: (error) => this.describe(error),
        secrets: this.#secrets,
      }).catch((failure: unknown) => {
        // close() ends an attempt in flight: the calls waiting on it see why.
        if (this.#closed()) throw this.#closedError()
        const error = this.#hint(failure, this.#readyCount > 0)
        if (client === this.#client) this.#markDown(error)
        throw error
      })
    })
  }

  /**
   * The message of `error`, passwords cut out; an authentication refusal says in words what it
   * means (see `withAuthHint`).
   */
  describe(error: unknown): string {
    return withAuthHint(toCachexError(error, this.#secrets).message)
  }
}
