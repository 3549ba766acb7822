import type {
  CommandRoute,
  Connection,
  RedisArgument,
  Tracking,
  TrackingListener,
} from '@cachex/core'
import { SERVER_EPOCH, scanWalk } from '@cachex/core/internal'
import { rejectAfterTurn } from './_after-turn.ts'
import { type BatchOverhead, batchWithin } from './_batch-within.ts'
import { BlockingClients } from './_blocking.ts'
import {
  commandsWeight,
  commandWeight,
  mapCommands,
  nameOf,
  notCommands,
} from './_command-shape.ts'
import { callBounds, closeWithin, destroyClient } from './_connect.ts'
import type { Deadlines } from './_deadlines.ts'
import { leasedBatch, onPool } from './_leased-batch.ts'
import { Lifecycle } from './_lifecycle.ts'
import { type ReplyForm, replyForm } from './_options.ts'
import { buildingFrom, ownConnectionOptions } from './_own.ts'
import { type NodeRole, STATIC_LOCATION } from './_readonly-hint.ts'
import { scriptEpoch } from './_scripts.ts'
import { mapStandaloneError } from './_standalone-errors.ts'
import { ClientLink } from './_standalone-link.ts'
import { clientSource, type StandaloneOptions } from './_standalone-options.ts'
import { type TrackingClientLike, trackingIn } from './_tracking.ts'
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
 * (closed). A handshake the server refuses (a wrong password, an unknown ACL user) is tried again
 * less often — 10 s, doubling up to 5 minutes (`refusedRetryDelay`) — since every try is a failed
 * authentication in its ACL log; meanwhile calls fail fast with the refusal, and a call made 10 s
 * or more after the last refusal tries once itself (a password fixed on the server is picked up
 * within about 10 s). A call that times out resets the connection (as redis-py does): the commands still
 * queued on it reject at once instead of piling up behind a stalled server, and a new connection
 * is made in the background. `maxInFlightBytes` caps what awaits a reply meanwhile.
 */
export function standalone(options: StandaloneOptions = {}): Connection {
  return buildingFrom(options, () => new StandaloneConnection(options, STATIC_LOCATION))
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

  /**
   * Changes when this connection's server may have been replaced (a reconnection; a pool's
   * client failing): what a cursor walk watches (`serverOf`).
   */
  [SERVER_EPOCH](): number {
    return this.#link.serverChanges
  }

  /** The client, and whether the server is known down. */
  readonly #link: ClientLink
  readonly #closeClient: boolean
  readonly #connectTimeoutMs: number
  readonly #deadlines: Deadlines
  readonly #where: string
  readonly #isPool: boolean
  /** A `READONLY` reply gets the hint of a static location (`NodeRole.staticLocation`). */
  readonly #staticLocation: boolean
  /** Closed or not; the guard every call passes (known down: `ClientLink.refuse`). */
  readonly #life: Lifecycle
  /**
   * The first `close()`'s work: a later call returns it, so that it too resolves only once the
   * calls made before the first are answered.
   */
  #closing: Promise<void> | undefined
  readonly #makeTrackingClient: (() => TrackingClientLike) | undefined
  /** The tracking connections opened by `track`, closed with this connection. */
  readonly #trackings = new Set<Tracking>()
  /**
   * The dedicated clients of blocking commands (`CommandRoute.blockMs`); `undefined` where the
   * client is a pool (it isolates each command already) or cannot be duplicated.
   */
  readonly #blocking: BlockingClients | undefined

  constructor(given: StandaloneOptions, role: NodeRole = {}) {
    this.#staticLocation = role.staticLocation === true
    const options = ownConnectionOptions(given)
    const { connectTimeoutMs, deadlines } = callBounds(options)
    this.#connectTimeoutMs = connectTimeoutMs
    this.#deadlines = deadlines
    const source = clientSource(options, connectTimeoutMs)
    this.#closeClient = source.closeClient
    this.#where = source.where
    this.#isPool = source.isPool
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
            // On this connection's client, the one that stays up while they block.
            unblock: (id) => {
              const link = this.#link
              if (link.isDown || !link.ready()) return undefined
              return link.sender.as(true).sendCommand(['CLIENT', 'UNBLOCK', id])
            },
          })
    const link = new ClientLink({
      source,
      connectTimeoutMs,
      deadlines,
      closed: () => this.#life.closed,
      closedError: () => this.#life.closedError(),
    })
    this.#link = link
    deadlines.onExpire = () => link.timedOut()
    this.#life = new Lifecycle({
      where: this.#where,
      ready: () => !link.isDown && link.ready(),
      connect: () => link.connect(),
      describe: (error) => link.describe(error),
      secrets: source.secrets,
      refuse: () => link.refuse(),
    })
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
    return this.#link.isDown
  }

  /**
   * Whether it is down because the server refused its handshake (a wrong password, an unknown
   * ACL user, a certificate), or, never ready yet, drops each plain connection as a TLS-only
   * server does (see `ClientLink.isRefused`): the server is up, so waiting for it to come back
   * is pointless.
   * @internal
   */
  get isRefused(): boolean {
    return this.#link.isRefused
  }

  /**
   * How many times the connection became ready: a new number means a new connection, possibly
   * to a restarted server, so what was learnt about the server on an older one may be stale.
   * @internal
   */
  get readyCount(): number {
    return this.#link.readyCount
  }

  /**
   * Starts connecting in the background when not ready; the outcome is dropped (the next call
   * reports it). The attempt is bounded by `socketConnectTimeout`, as every other.
   * @internal
   */
  warm(): void {
    const link = this.#link
    if (this.#life.closed || link.ready()) return
    if (link.isDown) link.kick()
    else link.connect().catch(() => undefined)
  }

  /**
   * Drops the connection's clients now — its own and those of blocking commands — and reconnects
   * in the background, as after a timeout: every call waiting for a reply rejects at once with a
   * `ConnectionError` saying the reset (`reason`) left its outcome unknown, so no later reply of
   * the server counts. For a primary the sentinels fail over: a write it answers once a replica
   * is promoted is lost when it rejoins as a replica. A no-op on a client of the user's.
   * @internal
   */
  reset(reason: Error): void {
    if (this.#link.reset(reason)) this.#blocking?.reset(reason)
  }

  command(args: RedisArgument[], route?: CommandRoute): Promise<unknown> {
    const text = replyForm(route)
    const blockMs = route?.blockMs
    if (blockMs !== undefined && blockMs > 0) {
      // Through the same guard (closed, known down, connecting) as every call; not carried past
      // close() by the connection being opened: close() ends a blocking call at once.
      if (this.#life.open) return this.#sendBlocking(args, text, blockMs)
      return this.#life.whenReady(false).then(() => this.#sendBlocking(args, text, blockMs))
    }
    const callers = route?.callers
    if (this.#life.open) return this.#send(args, text, callers)
    return this.#life.whenReady().then(() => this.#send(args, text, callers))
  }

  async batch(commands: RedisArgument[][], route?: CommandRoute): Promise<unknown[]> {
    // Sent in this tick when the connection is open: a call made after it must not overtake it.
    if (!this.#life.open) await this.#life.whenReady()
    const text = replyForm(route)
    if (this.#isPool) {
      // One client leased for the whole batch, its commands pipelined in queue order (`onPool`).
      const pool = this.#link.client as unknown as PoolLike
      const leasing = { deadlines: this.#deadlines, where: this.#where, mapError: this.#mapError }
      return batchWithin(this.#deadlines, commands, this.#where, route?.callers, (all, batch) =>
        leasedBatch(all, batch, leasing, (leased) => onPool(pool, leased, text)),
      )
    }
    // Commands sent in the same tick leave in one write: one round trip. Weighed whole against
    // maxInFlightBytes, as one command (`batchWithin`).
    return batchWithin(this.#deadlines, commands, this.#where, route?.callers, (all, batch) =>
      mapCommands(all, (args) =>
        this.#send(args, text, undefined, batch).catch((error: Error) => error),
      ),
    )
  }

  /** The commands as one `MULTI … EXEC` (see `Connection.transaction`), bounded as one call. */
  async transaction(commands: RedisArgument[][], route?: CommandRoute): Promise<unknown[]> {
    const wrong = notCommands(commands, 'transaction', this.#where)
    if (wrong !== undefined) throw wrong
    if (!this.#life.open) await this.#life.whenReady()
    const weight = commandsWeight(commands)
    const refused = this.#deadlines.refuse(weight, 'EXEC', this.#where)
    if (refused !== undefined) return rejectAfterTurn(refused)
    const text = replyForm(route)
    // A pool leases one of its clients for the whole chain.
    const exec = this.#isPool
      ? (this.#link.client as unknown as PoolLike).execute((client) =>
          execChain(chainSender(client, text), commands, this.#mapError),
        )
      : execChain(this.#link.sender.as(text), commands, this.#mapError)
    return this.#deadlines.track(exec, 'EXEC', this.#mapError, weight)
  }

  scan(pattern: string, count: number): AsyncIterable<Array<string | Buffer>> {
    // Fails rather than send a cursor to another server than the one that handed it out.
    return scanWalk(
      (args) => this.command(args),
      pattern,
      count,
      () => this[SERVER_EPOCH](),
    )
  }

  async flush(): Promise<void> {
    await this.command(['FLUSHDB'])
  }

  async client(): Promise<unknown> {
    if (!this.#life.open) await this.#life.whenReady()
    return this.#link.client
  }

  /**
   * A dedicated RESP3 connection to the same server with `CLIENT TRACKING on BCAST` for
   * `prefixes` (see `Connection.track`). A handed-in client pool cannot be duplicated: refused.
   */
  track(prefixes: readonly string[], listener: TrackingListener): Tracking {
    return trackingIn(this.#trackings, this.#makeTrackingClient, prefixes, listener)
  }

  /**
   * Closes the connection: calls made from now on reject with a `ClosedError`; those in flight
   * are answered (at most `socketTimeout`, then the client is destroyed). Calls made before it
   * that wait for the client being opened are carried by it: it is given until
   * `socketConnectTimeout` to open, then they are sent and answered before it closes; if it fails
   * to open, they reject with a `ClosedError` and it is destroyed. A second call resolves with
   * the first.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  /** The work of the first `close()`. */
  async #shutdown(): Promise<void> {
    // Blocking calls on the client itself, which the lifecycle rejects as it closes: a graceful
    // close would wait for them.
    const blocked = this.#life.waiting > 0
    this.#life.close(true)
    for (const tracking of this.#trackings) tracking.close().catch(() => undefined)
    this.#trackings.clear()
    // Its blocking calls in flight are unblocked through the client, before it closes.
    const unblocking = this.#blocking?.close()
    await this.#life.carry(this.#connectTimeoutMs)
    await unblocking
    this.#link.stop()
    const client = this.#link.client
    if (!this.#closeClient) {
      // A client of the user's, left open: it keeps none of this connection's listeners.
      this.#link.letGo()
      return
    }
    if (!client.isOpen) return
    if (!this.#link.ready() || blocked) {
      destroyClient(client)
      return
    }
    await closeWithin(
      () => client.close(),
      () => client.destroy(),
      this.#deadlines.timeoutMs ?? this.#connectTimeoutMs,
    )
  }

  /** Sends one command, weighed with the calls it answers (`callers`) or as one of `batch`. */
  #send(
    args: RedisArgument[],
    text: ReplyForm = false,
    callers?: number,
    batch?: BatchOverhead,
  ): Promise<unknown> {
    const deadlines = this.#deadlines
    const weight = commandWeight(args, callers)
    const refused = deadlines.refuse(weight, nameOf(args), this.#where)
    if (refused !== undefined) return rejectAfterTurn(refused)
    const reply = this.#link.sender.as(text).sendCommand(args)
    return deadlines.track(reply, String(args[0]), this.#mapError, weight, 0, batch)
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
    const refused = deadlines.refuse(weight, nameOf(args), this.#where)
    if (refused !== undefined) return rejectAfterTurn(refused)
    const reply = this.#link.sender.as(text).sendCommand(args)
    // On a pool, or a client of yours, close() cannot end the command: its caller is told now.
    // Weightless on a pool, which gives it a client of its own (see `BlockingClients.run`); on a
    // client of yours it holds up the calls behind it, and counts.
    return this.#life.untilClosed(
      deadlines.track(reply, String(args[0]), this.#mapError, this.#isPool ? 0 : weight, blockMs),
    )
  }

  readonly #mapError = (error: unknown): Error =>
    mapStandaloneError(error, {
      where: this.#where,
      secrets: this.#link.secrets,
      resetReason: this.#link.resetReason,
      life: this.#life,
      staticLocation: this.#staticLocation,
    })
}
