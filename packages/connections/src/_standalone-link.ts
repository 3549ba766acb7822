// The client of a standalone connection, and how it is doing: it connects, follows the client's
// events, and knows when the server is down (calls then fail fast) or when the user's own client
// was closed by its owner. `StandaloneConnection` sends its commands through it. What cachex does
// itself to bring it back (replace a client that timed out or garbled a reply, reconnect one that
// gave up, bound a handshake that never answers) is `LinkRecovery` (`_link-recovery.ts`); what
// calls are told while it is down, `_link-refusal.ts`; what a client pool does not say by events,
// `_link-pool.ts`.
import type { RedisArgument } from '@cachex/core'
import { markUnsent } from '@cachex/core/internal'
import { connectBounded, SharedAttempt } from './_connect.ts'
import type { Deadlines } from './_deadlines.ts'
import { ownerClosedError, toCachexError } from './_errors.ts'
import { PoolState } from './_link-pool.ts'
import { LinkRecovery } from './_link-recovery.ts'
import { downError, type FailureHint, isLastingRefusal } from './_link-refusal.ts'
import { Listeners } from './_listeners.ts'
import { tlsMismatchHint } from './_mismatch-hints.ts'
import { Sender } from './_options.ts'
import { isRefusedHandshake, isUnreadableReply, withAuthHint } from './_retry.ts'
import { nodesChanged } from './_scripts.ts'
import type { ClientSource, NodeRedisClientLike } from './_standalone-options.ts'

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
 * breaker it implements): the client in use, whether the server is known down and why; the
 * reconnection attempts cachex starts itself and the watchdog of a handshake (`LinkRecovery`).
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
  readonly #secrets: string[]
  readonly #where: string
  /** What a client pool does not say by events (`undefined` for a client). */
  readonly #pool: PoolState | undefined
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
   * The reconnections cachex starts itself, the clients it replaces, the handshake watchdog, the
   * checks of a client of the user's.
   */
  readonly #recovery: LinkRecovery
  /** Adds to a connection failure the hint of a TLS mismatch either way (`tlsMismatchHint`). */
  readonly #hint: FailureHint
  /** Counts the times the connection became ready (`readyCount`). */
  #readyCount = 0
  /** The listeners `#bind` put on the client in use. */
  #listeners = new Listeners()

  constructor(options: LinkOptions) {
    const { source } = options
    this.#connectTimeoutMs = options.connectTimeoutMs
    this.#closed = options.closed
    this.#closedError = options.closedError
    this.#client = source.client
    this.#makeClient = source.makeClient
    this.#secrets = source.secrets
    this.#where = source.where
    this.#hint = tlsMismatchHint(source)
    if (source.isPool) this.#pool = new PoolState(source.client, source.makeClient === undefined)
    this.#recovery = new LinkRecovery({
      makeClient: source.makeClient,
      isPool: source.isPool,
      where: source.where,
      connectTimeoutMs: options.connectTimeoutMs,
      deadlines: options.deadlines,
      closed: options.closed,
      client: () => this.#client,
      sender: () => this.#sender,
      bind: (client) => this.#bind(client),
      open: (client) => this.#open(client),
      connect: () => this.connect(),
      ready: () => this.ready(),
      isDown: () => this.#down,
      downCause: () => this.#downCause,
      markDown: (cause) => this.#markDown(cause),
      up: () => this.#up(),
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
   * Whether it is down though its server is up: the server refused its handshake (a wrong
   * password, an unknown user, a certificate: `isRefusedHandshake`) or answered it with another
   * error reply (`ERR max number of clients reached`), or, the link never ready yet, the server
   * drops each plain connection unanswered as one that serves TLS only does (a `redis://` URL
   * where `rediss://` is needed: `tlsMismatchHint`). No failover is coming for it
   * (`isLastingRefusal`). A link that was ready once and is reset since has an outage, not this.
   */
  get isRefused(): boolean {
    if (!this.#down) return false
    return isLastingRefusal(this.#downCause, this.#readyCount > 0, this.#hint, this.#secrets)
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
    return this.#readyCount + (this.#pool?.errors ?? 0)
  }

  /** The passwords to cut out of errors. */
  get secrets(): readonly string[] {
    return this.#secrets
  }

  /** Why the last client was replaced (`''` until one was): for the errors of its commands. */
  get resetReason(): string {
    return this.#recovery.resetReason
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
    this.#recovery.stop()
  }

  /** The error a call rejects with at once while the connection is known down (marked unsent). */
  refuse(): Error | undefined {
    if (this.#poolClosedByOwner()) return ownerClosedError(this.#where, 'client pool')
    if (!this.#down) return undefined
    if (this.#ownerClosed) return this.#downCause as Error
    if (this.#recovery.outOfStep) return markUnsent(this.#downCause as Error)
    const cause = this.#downCause
    const refused = isRefusedHandshake(cause)
    // A refused handshake is tried again seldom (`LinkRecovery.refused`): a call made once the
    // backoff's first step has passed since the last refusal tries once itself, so that a
    // password fixed on the server is picked up by the next call rather than by the background
    // attempt, which may be minutes away. At most one such try per step, whatever the rate of
    // calls.
    if (
      refused &&
      this.#makeClient !== undefined &&
      !this.#connecting.pending &&
      this.#recovery.refusalAged
    ) {
      return undefined
    }
    this.kick()
    const text = this.describe(cause)
    return downError(this.#where, cause, text, this.#secrets, this.#hint, this.#readyCount > 0)
  }

  /**
   * Whether the client is connected and ready (a pool: open, not opening, and not known down —
   * an open pool may have none of its clients connected).
   */
  ready(): boolean {
    const client = this.#client
    const pool = this.#pool
    if (pool === undefined) return client.isReady === true
    return pool.isOpen(client) && !this.#down
  }

  /** Whether a client pool of the user's, open once, is closed now: by its owner. */
  #poolClosedByOwner(): boolean {
    return this.#pool?.closedByOwner(this.#client) === true
  }

  /** Uses `client` from now on: its senders, and its events for the circuit breaker. */
  #bind(client: NodeRedisClientLike): void {
    // A replaced client is destroyed: its listeners stay on it (a late error must find one).
    const listeners = new Listeners()
    this.#listeners = listeners
    this.#client = client
    if (this.#pool !== undefined) this.#pool.opening = undefined
    this.#sender = new Sender(client, (options) => ({
      sendCommand: (args: ReadonlyArray<RedisArgument>, extra?: object) =>
        client.sendCommand(args, extra === undefined ? options : { ...options, ...extra }),
    }))
    // An 'error' event without a listener crashes the process; remember it for messages, and as
    // the sign that the connection is down when the client is not ready.
    listeners.add(client, 'error', (error: unknown) => {
      if (client !== this.#client) return
      // A reply it could not read: the connection is out of step with the server.
      if (isUnreadableReply(error) && this.#recovery.unreadable(error)) return
      // A pool's clients reconnect without a 'ready' here: the server may come back without
      // the scripts it ran.
      if (this.#pool !== undefined) {
        nodesChanged()
        this.#pool.errors++
      }
      this.#lastError = error
      // A pool stays open while its clients reconnect (node-redis retries each every 2 s, and
      // answers every call "The client is offline" meanwhile): a refused handshake of a pool
      // cachex made is recorded as down however open it is, so that calls fail fast with the
      // refusal and the whole pool backs off (`LinkRecovery.refused`). A pool of the user's keeps
      // its own strategy: cachex could not tell when it is back.
      const refusedPool =
        this.#pool !== undefined && this.#makeClient !== undefined && isRefusedHandshake(error)
      if (!this.ready() || refusedPool) {
        this.#recovery.disarm()
        this.#markDown(error)
        if (isRefusedHandshake(error)) this.#recovery.refused()
      }
    })
    if (this.#pool !== undefined) return
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
        this.#recovery.watch(client)
      })
    }
  }

  /** The connection works (again): calls go through. */
  #up(): void {
    this.#ownerClosed = false
    this.#readyCount++
    this.#down = false
    this.#downCause = undefined
    this.#recovery.up()
  }

  #markDown(cause: unknown): void {
    if (this.#closed()) return
    this.#down = true
    this.#downCause = cause
    this.#lastError = cause
  }

  /**
   * A call timed out. A client cachex made is replaced; a client the user handed in is reported
   * down until it answers a `PING` again (or reconnects), so that calls stop waiting on it.
   */
  timedOut(): void {
    this.#recovery.timedOut()
  }

  /**
   * Destroys the client — every command still queued on it rejects now, and what it held is
   * freed — and connects a new one in the background; calls fail fast until it is ready. For a
   * call that timed out, a handshake never answered, or a server whose late replies must not
   * count (a primary the sentinels fail over). `false` for a client of the user's, which cachex
   * never destroys, and once closed.
   */
  reset(reason: Error): boolean {
    return this.#recovery.reset(reason)
  }

  /**
   * Opens `client` (node-redis retries by itself, with `reconnectDelay`); for a pool, also
   * records that it is open, as it has no ready event.
   */
  #open(client: NodeRedisClientLike): Promise<unknown> {
    if (this.#pool === undefined) return client.connect()
    return this.#pool.open(
      client,
      () => client === this.#client,
      () => this.#up(),
      (error) => this.#markDown(error),
    )
  }

  /**
   * While down, makes sure an attempt to reconnect is under way: node-redis retries a client
   * that is open by itself; one that gave up (a handed-in client whose reconnect strategy
   * stopped, a pool whose opening failed) is opened again after the backoff.
   */
  kick(): void {
    if (this.#closed() || this.#ownerClosed || this.#poolClosedByOwner()) return
    if (this.#recovery.pending || this.#connecting.pending) return
    if (this.#client.isOpen) return
    this.#recovery.retry()
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
        readyEvent: this.#pool === undefined ? 'ready' : undefined,
        opening: client.isOpen ? this.#pool?.opening : this.#open(client),
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
