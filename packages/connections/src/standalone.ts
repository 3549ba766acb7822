import {
  type CommandRoute,
  type Connection,
  ConnectionError,
  InvalidArgumentError,
  type RedisArgument,
  TimeoutError,
  type Tracking,
  type TrackingListener,
} from '@cachex/core'
import { ErrorReply } from '@redis/client'
import { BlockingClients } from './_blocking.ts'
import {
  callBounds,
  closeWithin,
  connectBounded,
  destroyClient,
  reconnectDelay,
  SharedAttempt,
  scanNode,
} from './_connect.ts'
import { commandWeight, type Deadlines, partsWithin } from './_deadlines.ts'
import {
  isClientClosed,
  isDisconnected,
  ownerClosedError,
  scrub,
  toCachexError,
  withTlsHint,
} from './_errors.ts'
import { Lifecycle } from './_lifecycle.ts'
import { type ReplyForm, replyForm, Sender } from './_options.ts'
import { nodesChanged, scriptEpoch } from './_scripts.ts'
import {
  clientSource,
  type NodeRedisClientLike,
  type StandaloneOptions,
} from './_standalone-options.ts'
import { startTracking, type TrackingClientLike } from './_tracking.ts'
import { chainSender, execChain, type PoolLike } from './_transaction.ts'

export type { NodeRedisClientLike, StandaloneOptions } from './_standalone-options.ts'
export { isNodeRedisClient } from './_standalone-options.ts'

/**
 * A connection to one Redis server. Connects on first use, reconnects by itself, and bounds every
 * call: waiting for a connection by `socketConnectTimeout`, waiting for a reply by
 * `socketTimeout` — so no call waits forever, whatever the server does. Commands are never queued
 * while disconnected (node-redis's offline queue is off).
 *
 * A circuit breaker keeps an outage from costing every call its bounds. The first call waits for
 * the connection (at most `socketConnectTimeout`), but a refused or reset connection rejects it
 * with a `ConnectionError` at once. From then on, while the connection is known to be down, calls
 * reject with a `ConnectionError` at once instead of waiting (open), and one reconnection attempt
 * at a time runs in the background (half-open), 100 ms after the failure, then doubling up to 2 s
 * apart (`reconnectDelay`); the first call after the server is back finds the connection ready
 * (closed). A call that times out resets the connection (as redis-py does): the commands still
 * queued on it reject at once instead of piling up behind a stalled server, and a new connection
 * is made in the background. `maxInFlightBytes` caps what awaits a reply meanwhile.
 */
export function standalone(options: StandaloneOptions = {}): Connection {
  return new StandaloneConnection(options)
}

/**
 * The connection `standalone()` returns. Exported for the other topologies of this package, which
 * compose one per node; not part of the public API.
 * @internal
 */
export class StandaloneConnection implements Connection {
  /** Changes when a node may have lost its Lua scripts (see `Connection.generation`). */
  get generation(): number {
    return scriptEpoch()
  }

  #client: NodeRedisClientLike
  /** The client with cachex's command options: replies as bytes, or as text. */
  #sender!: Sender<Pick<NodeRedisClientLike, 'sendCommand'>>
  /**
   * Makes a new client, for a connection cachex created from a URL: a client that timed out is
   * replaced by a fresh one (node-redis cannot drop a socket and keep the client). `undefined` for
   * a client the user handed in, which is never destroyed by cachex.
   */
  readonly #makeClient: (() => NodeRedisClientLike) | undefined
  readonly #closeClient: boolean
  readonly #connectTimeoutMs: number
  readonly #deadlines: Deadlines
  readonly #secrets: string[]
  readonly #where: string
  readonly #isPool: boolean
  /** Closed or not; the guard every call passes (known down: `#refuse`). */
  readonly #life: Lifecycle
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
  /** Bounds a handshake that never answers (a frozen server accepts TCP connections). */
  #watchdog: NodeJS.Timeout | undefined
  /** Why the last client was replaced, for the errors of the commands it dropped. */
  #resetReason = ''
  /** Whether the URL asked for TLS (`rediss://`): connection failures then carry a TLS hint. */
  readonly #tls: boolean
  /** Counts the times the connection became ready (`readyCount`). */
  #readyCount = 0
  readonly #makeTrackingClient: (() => TrackingClientLike) | undefined
  /** The tracking connections opened by `track`, closed with this connection. */
  readonly #trackings = new Set<Tracking>()
  /**
   * The dedicated clients of blocking commands (`CommandRoute.blockMs`); `undefined` where the
   * client is a pool (it isolates each command already) or cannot be duplicated.
   */
  readonly #blocking: BlockingClients | undefined

  constructor(options: StandaloneOptions) {
    const { connectTimeoutMs, deadlines } = callBounds(options)
    this.#connectTimeoutMs = connectTimeoutMs
    this.#deadlines = deadlines
    deadlines.onExpire = () => this.#onTimeout()
    const source = clientSource(options, connectTimeoutMs)
    this.#client = source.client
    this.#makeClient = source.makeClient
    this.#closeClient = source.closeClient
    this.#secrets = source.secrets
    this.#where = source.where
    this.#isPool = source.isPool
    this.#tls = source.tls
    if (source.isPool && source.makeClient === undefined) this.#givenOpened = source.client.isOpen
    this.#makeTrackingClient = source.makeTrackingClient
    const makeBlocking = source.makeBlockingClient
    this.#blocking =
      makeBlocking === undefined
        ? undefined
        : new BlockingClients({
            make: makeBlocking,
            connectTimeoutMs,
            deadlines,
            mapError: this.#mapError,
            where: this.#where,
          })
    this.#life = new Lifecycle({
      where: this.#where,
      ready: () => !this.#down && this.#ready(),
      connect: () => this.#connect(),
      describe: (error) => this.#describe(error),
      secrets: this.#secrets,
      refuse: () => this.#refuse(),
    })
    this.#bind(this.#client)
  }

  /**
   * Whether a command sent now goes straight to the server: the client is connected and ready.
   * @internal
   */
  get ready(): boolean {
    return this.#life.open
  }

  /**
   * Whether the connection is known to be down (calls fail fast until it is back).
   * @internal
   */
  get isDown(): boolean {
    return this.#down
  }

  /**
   * How many times the connection became ready: a new number means a new connection, possibly
   * to a restarted server, so what was learnt about the server on an older one may be stale.
   * @internal
   */
  get readyCount(): number {
    return this.#readyCount
  }

  /**
   * Starts connecting in the background when not ready; the outcome is dropped (the next call
   * reports it). The attempt is bounded by `socketConnectTimeout`, as every other.
   * @internal
   */
  warm(): void {
    if (this.#life.closed || this.#ready()) return
    if (this.#down) this.#kick()
    else this.#connect().catch(() => undefined)
  }

  command(args: RedisArgument[], route?: CommandRoute): Promise<unknown> {
    const text = replyForm(route)
    const blockMs = route?.blockMs
    if (blockMs !== undefined && blockMs > 0) {
      // Through the same guard (closed, known down, connecting) as every call.
      if (this.#life.open) return this.#sendBlocking(args, text, blockMs)
      return this.#life.whenReady().then(() => this.#sendBlocking(args, text, blockMs))
    }
    if (this.#life.open) return this.#send(args, text)
    return this.#life.whenReady().then(() => this.#send(args, text))
  }

  async batch(commands: RedisArgument[][], route?: CommandRoute): Promise<unknown[]> {
    // Sent in this tick when the connection is open: a call made after it must not overtake it.
    if (!this.#life.open) await this.#life.whenReady()
    const text = replyForm(route)
    const deadlines = this.#deadlines
    const weights = commands.map(commandWeight)
    const total = weights.reduce((sum, weight) => sum + weight, 0)
    // Commands sent in the same tick leave in one write: one round trip. A batch weighed whole
    // against maxInFlightBytes, so that it is never sent with gaps; one larger than the cap goes
    // in parts, each sent once the one before it is answered.
    if (Number.isNaN(total) || total <= deadlines.maxInFlightBytes) {
      const refused = Number.isNaN(total)
        ? undefined
        : deadlines.refuse(total, commands[0]?.[0] ?? 'batch', this.#where)
      if (refused !== undefined) return commands.map(() => refused)
      return Promise.all(
        commands.map((args) => this.#send(args, text).catch((error: Error) => error)),
      )
    }
    const results: unknown[] = []
    for (const [start, end, weight] of partsWithin(weights, deadlines.maxInFlightBytes)) {
      const part = commands.slice(start, end)
      const refused = deadlines.refuse(weight, part[0]?.[0] ?? 'batch', this.#where)
      if (refused !== undefined) {
        for (let i = start; i < commands.length; i++) results.push(refused)
        break
      }
      results.push(
        ...(await Promise.all(
          part.map((args) => this.#send(args, text).catch((error: Error) => error)),
        )),
      )
    }
    return results
  }

  /** The commands as one `MULTI … EXEC` (see `Connection.transaction`), bounded as one call. */
  async transaction(commands: RedisArgument[][], route?: CommandRoute): Promise<unknown[]> {
    if (!this.#life.open) await this.#life.whenReady()
    const weight = commands.reduce((sum, args) => sum + commandWeight(args), 0)
    const refused = this.#deadlines.refuse(weight, 'EXEC', this.#where)
    if (refused !== undefined) throw refused
    const text = replyForm(route)
    // A pool leases one of its clients for the whole chain.
    const exec = this.#isPool
      ? (this.#client as unknown as PoolLike).execute((client) =>
          execChain(chainSender(client, text), commands, this.#mapError),
        )
      : execChain(this.#sender.as(text), commands, this.#mapError)
    return this.#deadlines.track(exec, 'EXEC', this.#mapError, weight)
  }

  scan(pattern: string, count: number): AsyncIterable<Array<string | Buffer>> {
    return scanNode((args) => this.command(args), pattern, count)
  }

  async flush(): Promise<void> {
    await this.command(['FLUSHDB'])
  }

  async client(): Promise<unknown> {
    if (!this.#life.open) await this.#life.whenReady()
    return this.#client
  }

  /**
   * A dedicated RESP3 connection to the same server with `CLIENT TRACKING on BCAST` for
   * `prefixes` (see `Connection.track`). A handed-in client pool cannot be duplicated: refused.
   */
  track(prefixes: readonly string[], listener: TrackingListener): Tracking {
    const make = this.#makeTrackingClient
    if (make === undefined) {
      throw new InvalidArgumentError(
        'the local tier needs a tracking connection, which a handed-in client pool cannot open: pass a URL or a node-redis client',
      )
    }
    const tracking = startTracking(make(), prefixes, listener)
    const trackings = this.#trackings
    trackings.add(tracking)
    return {
      close: async () => {
        trackings.delete(tracking)
        await tracking.close()
      },
    }
  }

  async close(): Promise<void> {
    // Blocking calls on the client itself, which the lifecycle rejects as it closes: a graceful
    // close would wait for them.
    const blocked = this.#life.waiting > 0
    if (!this.#life.close()) return
    for (const tracking of this.#trackings) tracking.close().catch(() => undefined)
    this.#trackings.clear()
    this.#blocking?.close()
    this.#disarm()
    clearTimeout(this.#retry)
    const client = this.#client
    if (!this.#closeClient || !client.isOpen) return
    if (!this.#ready() || blocked) {
      destroyClient(client)
      return
    }
    await closeWithin(
      () => client.close(),
      () => client.destroy(),
      this.#deadlines.timeoutMs ?? this.#connectTimeoutMs,
    )
  }

  /** The error a call rejects with at once while the connection is known down. */
  #refuse(): Error | undefined {
    if (this.#poolClosedByOwner()) return ownerClosedError(this.#where, 'client pool')
    if (!this.#down) return undefined
    if (this.#ownerClosed) return this.#downCause as Error
    this.#kick()
    const cause = this.#downCause
    return new ConnectionError(
      `${this.#where} is unreachable, not waiting (reconnecting in the background): ${this.#describe(cause)}`,
      { cause: scrub(cause, this.#secrets) },
    )
  }

  #send(args: RedisArgument[], text: ReplyForm = false): Promise<unknown> {
    const deadlines = this.#deadlines
    const weight = commandWeight(args)
    const refused = deadlines.refuse(weight, args[0] as RedisArgument, this.#where)
    if (refused !== undefined) return Promise.reject(refused)
    const reply = this.#sender.as(text).sendCommand(args)
    return deadlines.track(reply, String(args[0]), this.#mapError, weight)
  }

  /**
   * A blocking command: on a dedicated client (see `BlockingClients`), or, on a pool or a
   * handed-in client that cannot be duplicated, on the client itself; bounded by
   * `socketTimeout + blockMs` either way.
   */
  #sendBlocking(args: RedisArgument[], text: ReplyForm, blockMs: number): Promise<unknown> {
    if (this.#blocking !== undefined) return this.#blocking.run(args, text, blockMs)
    const deadlines = this.#deadlines
    const weight = commandWeight(args)
    const refused = deadlines.refuse(weight, args[0] as RedisArgument, this.#where)
    if (refused !== undefined) return Promise.reject(refused)
    const reply = this.#sender.as(text).sendCommand(args)
    // On a pool, or a client of yours, close() cannot end the command: its caller is told now.
    return this.#life.untilClosed(
      deadlines.track(reply, String(args[0]), this.#mapError, weight, blockMs),
    )
  }

  readonly #mapError = (error: unknown): Error => {
    if (this.#life.closed && (isClientClosed(error) || isDisconnected(error))) {
      return this.#life.closedError()
    }
    // A pool cachex reset is destroyed whole: the commands in flight on it (a blocking one
    // included) get node-redis's ClientClosedError, though this connection stays open.
    if ((isDisconnected(error) || isClientClosed(error)) && this.#resetReason !== '') {
      return new ConnectionError(
        `the connection to ${this.#where} was reset (${this.#resetReason}) before this command's reply came; if it writes, it may or may not have been applied`,
        { cause: error },
      )
    }
    return toCachexError(error, this.#secrets)
  }

  #ready(): boolean {
    const client = this.#client
    if (!this.#isPool) return client.isReady === true
    const ready = client.isOpen && this.#opening === undefined
    // A pool of the user's seen open, by its owner's hand or the cache's: closed later, its owner
    // closed it.
    if (ready && this.#givenOpened === false) this.#givenOpened = true
    return ready
  }

  /** Whether a client pool of the user's, open once, is closed now: by its owner. */
  #poolClosedByOwner(): boolean {
    return this.#givenOpened === true && !this.#client.isOpen
  }

  /** Uses `client` from now on: its senders, and its events for the circuit breaker. */
  #bind(client: NodeRedisClientLike): void {
    this.#client = client
    this.#opening = undefined
    this.#sender = new Sender(client, (options) => ({
      sendCommand: (args: ReadonlyArray<RedisArgument>, extra?: object) =>
        client.sendCommand(args, extra === undefined ? options : { ...options, ...extra }),
    }))
    // An 'error' event without a listener crashes the process; remember it for messages, and as
    // the sign that the connection is down when the client is not ready.
    client.on('error', (error) => {
      if (client !== this.#client) return
      // A pool's clients reconnect without a 'ready' here: the server may come back without
      // the scripts it ran.
      if (this.#isPool) nodesChanged()
      this.#lastError = error
      if (!this.#ready()) {
        this.#disarm()
        this.#markDown(error)
      }
    })
    if (this.#isPool) return
    if (this.#makeClient === undefined) {
      // node-redis emits 'end' only when its socket is closed by close() or destroy().
      client.on('end', () => {
        if (client !== this.#client || this.#life.closed) return
        this.#ownerClosed = true
        this.#markDown(ownerClosedError(this.#where, 'client'))
      })
    }
    client.on('ready', () => {
      if (client !== this.#client) return
      // A new connection: the server may have restarted, without the scripts it ran.
      nodesChanged()
      this.#up()
    })
    // The TCP connection is up and the handshake starts: a frozen server accepts the connection
    // (the kernel does) but never answers it, and node-redis would wait forever.
    if (this.#makeClient !== undefined) {
      client.on('connect', () => {
        if (client !== this.#client || this.#life.closed) return
        this.#disarm()
        this.#watchdog = setTimeout(() => {
          this.#watchdog = undefined
          if (client !== this.#client || this.#ready()) return
          this.#replace(
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
    this.#readyCount++
    this.#down = false
    this.#downCause = undefined
    this.#attempts = 0
    this.#disarm()
  }

  #markDown(cause: unknown): void {
    if (this.#life.closed) return
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
  #onTimeout(): void {
    if (this.#life.closed) return
    const reason = new TimeoutError(
      `a call to ${this.#where} did not complete within ${this.#deadlines.timeoutMs} ms (socketTimeout)`,
    )
    if (this.#makeClient !== undefined) {
      this.#replace(reason)
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
   * freed — and connects a new one in the background; calls fail fast until it is ready.
   */
  #replace(reason: Error): void {
    const make = this.#makeClient
    if (make === undefined || this.#life.closed) return
    this.#markDown(reason)
    this.#resetReason = reason.message
    this.#disarm()
    const old = this.#client
    this.#bind(make())
    destroyClient(old)
    this.#open(this.#client).catch(() => undefined)
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
  #kick(): void {
    if (this.#life.closed || this.#ownerClosed || this.#poolClosedByOwner()) return
    if (this.#retry !== undefined || this.#connecting.pending) return
    if (this.#client.isOpen) return
    this.#retry = setTimeout(
      () => {
        this.#retry = undefined
        if (this.#life.closed || this.#client.isOpen) return
        this.#connect().catch(() => undefined)
      },
      reconnectDelay(this.#attempts++),
    ).unref()
  }

  /**
   * Waits for the client to be ready, at most `socketConnectTimeout`; starts connecting if
   * needed. Any error while connecting (refused, reset, a refused handshake) ends the wait with a
   * `ConnectionError` at once and marks the connection down.
   */
  #connect(): Promise<void> {
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
        describe: (error) => this.#describe(error),
        secrets: this.#secrets,
      }).catch((failure: unknown) => {
        // close() ends an attempt in flight: the calls waiting on it see why.
        if (this.#life.closed) throw this.#life.closedError()
        const error = this.#tls ? withTlsHint(failure) : failure
        if (client === this.#client) this.#markDown(error)
        throw error
      })
    })
  }

  #describe(error: unknown): string {
    return toCachexError(error, this.#secrets).message
  }
}
