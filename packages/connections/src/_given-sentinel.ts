import {
  type CommandRoute,
  type Connection,
  ConnectionError,
  type RedisArgument,
} from '@cachex/core'
import { SERVER_EPOCH, scanWalk } from '@cachex/core/internal'
import { rejectAfterTurn } from './_after-turn.ts'
import { type BatchOverhead, batchWithin } from './_batch-within.ts'
import { Breaker } from './_breaker.ts'
import { commandWeight, mapCommands, nameOf } from './_command-shape.ts'
import { callBounds, closeWithin, within } from './_connect.ts'
import type { Deadlines } from './_deadlines.ts'
import {
  isClientClosed,
  isErrorReply,
  isReplicaFailure,
  ownerClosedError,
  scrub,
  toCachexError,
} from './_errors.ts'
import { SentinelOpener } from './_given-sentinel-open.ts'
import { leasedBatch, leasesPrimary, onPrimary } from './_leased-batch.ts'
import { Lifecycle } from './_lifecycle.ts'
import { Listeners } from './_listeners.ts'
import { type ReplyForm, replyForm, Sender } from './_options.ts'
import { isAuthRefusal, PASSWORD_IN_SENTINEL, withAuthHint } from './_retry.ts'
import { nodesChanged, scriptEpoch } from './_scripts.ts'
import type {
  RedisSentinelLike,
  SentinelConnectionOptions,
  SentinelOptions,
} from './_sentinel-options.ts'

/** How long the answer to "is a replica connected?" is reused. */
const REPLICA_CHECK_MS = 100

/**
 * The connection over a node-redis `RedisSentinel` the user handed in as `location`: node-redis
 * routes each command and follows failovers itself (commands sent during one wait for it, each
 * within `socketTimeout`). cachex bounds every call, fails fast once connecting failed, and while
 * node-redis reports an error of its client of the primary (`client-error` events of type
 * `MASTER`), until a `PING` answers or a new primary is announced. Opening the sentinel is a
 * `SentinelOpener`'s (`_given-sentinel-open.ts`).
 */
export class GivenSentinelConnection implements Connection {
  /** Changes when a node may have lost its Lua scripts (see `Connection.generation`). */
  get generation(): number {
    return scriptEpoch()
  }

  /** Changes when node-redis reports a new primary or nodes (`serverOf`): its own count. */
  [SERVER_EPOCH](): number {
    return this.#changes
  }

  /** node-redis's topology changes and readies seen. */
  #changes = 0

  readonly #sentinel: RedisSentinelLike
  /** The sentinel seen through cachex's command options. */
  readonly #sender: Sender<Pick<RedisSentinelLike, 'sendCommand'>>
  readonly #closeSentinel: boolean
  readonly #connectTimeoutMs: number
  readonly #deadlines: Deadlines
  readonly #secrets: string[]
  readonly #where: string
  /** The sentinel's opening: `connect()`, its last error, whether its owner closed it. */
  readonly #opener: SentinelOpener
  /** Closed or not; the guard every call passes (a failed connect trips its breaker). */
  readonly #life: Lifecycle
  /**
   * The first `close()`'s work: a later call returns it, so that it too resolves only once the
   * calls made before the first are answered.
   */
  #closing: Promise<void> | undefined
  /**
   * After node-redis reported an error of the primary's client: calls for the primary fail fast
   * while a `PING` checks it in the background, until one answers, a new primary is announced,
   * or the sentinel is ready again.
   */
  readonly #primary = new Breaker()
  /** The listeners put on the user's object (or cachex's own), taken off when it is let go. */
  readonly #listeners = new Listeners()
  #replicasUp = false
  #replicasCheckedAt = Number.NEGATIVE_INFINITY
  /**
   * The commands sent and not answered yet (blocking ones aside): node-redis's
   * `RedisSentinel.close()` drops the ones still waiting for a client of its pool, so `close()`
   * waits for them first.
   */
  readonly #inFlight = new Set<Promise<unknown>>()

  constructor(options: SentinelOptions) {
    const { connectTimeoutMs, deadlines } = callBounds(options)
    this.#connectTimeoutMs = connectTimeoutMs
    this.#deadlines = deadlines
    const extra = (options.sentinelOptions ?? Object.create(null)) as SentinelConnectionOptions
    const sentinel = options.location as RedisSentinelLike
    this.#sentinel = sentinel
    this.#closeSentinel = options.closeConnection ?? false
    this.#secrets = [options.password, extra.password].filter((s): s is string => !!s)
    this.#where = 'the given sentinel'
    const opener = new SentinelOpener({
      sentinel,
      where: this.#where,
      connectTimeoutMs,
      secrets: this.#secrets,
      describe: (error) => this.#text(error),
    })
    this.#opener = opener
    this.#life = new Lifecycle({
      where: this.#where,
      ready: () => opener.ready(),
      connect: () => opener.connect(),
      describe: (error) => this.#text(error),
      secrets: this.#secrets,
      stopped: () =>
        opener.closedByOwner() ? ownerClosedError(this.#where, 'sentinel') : undefined,
    })
    this.#sender = new Sender(sentinel, (options) => ({
      sendCommand: (isReadonly: boolean, args: ReadonlyArray<RedisArgument>) =>
        sentinel.sendCommand(isReadonly, args, options),
    }))
    // An 'error' event without a listener crashes the process; remember it for messages instead.
    this.#listeners.add(this.#sentinel, 'error', (error) => {
      opener.lastError = error
      this.#replicasCheckedAt = Number.NEGATIVE_INFINITY
    })
    // node-redis reports each error of its node clients as a 'client-error' event, whose type
    // says which: a `MASTER` one means the primary is unreachable.
    this.#listeners.add(this.#sentinel, 'client-error', (event) => {
      const { type, error } = (event ?? {}) as { type?: string; error?: unknown }
      this.#replicasCheckedAt = Number.NEGATIVE_INFINITY
      if (type === 'MASTER' && opener.ready() && !this.#life.closed) {
        opener.lastError = error
        this.#primary.down(error, this.#checkPrimary)
      }
    })
    this.#listeners.add(this.#sentinel, 'topology-change', (event) => {
      // Another primary, or nodes that came and went: they may not have the scripts.
      nodesChanged()
      this.#changes++
      this.#replicasCheckedAt = Number.NEGATIVE_INFINITY
      if ((event as { type?: string } | undefined)?.type === 'MASTER_CHANGE') this.#primary.up()
    })
    this.#listeners.add(this.#sentinel, 'ready', () => {
      opener.seenOpen()
      nodesChanged()
      this.#changes++
      this.#life.breaker.up()
      this.#primary.up()
    })
  }

  command(args: RedisArgument[], route?: CommandRoute): Promise<unknown> {
    const readonly = route?.readonly === true
    const text = replyForm(route)
    // A blocking command (`route.blockMs`) gets its block on top of the bound; node-redis's
    // sentinel runs it on a client of its own pools (`masterPoolSize`, `replicaPoolSize`).
    const blockMs = route?.blockMs ?? 0
    const callers = route?.callers
    if (this.#life.open) return this.#send(args, readonly, text, blockMs, callers)
    // A blocking command is not carried past close() by the sentinel being opened: close() ends it.
    return this.#life
      .whenReady(blockMs <= 0)
      .then(() => this.#send(args, readonly, text, blockMs, callers))
  }

  async batch(commands: RedisArgument[][], route?: CommandRoute): Promise<unknown[]> {
    // Sent in this tick when the connection is open: a call made after it must not overtake it.
    if (!this.#life.open) await this.#life.whenReady()
    const readonly = route?.readonly === true
    const text = replyForm(route)
    // Writes on one client of the primary (`masterPoolSize` may give it several), in queue order.
    // Reads, on the replicas, change nothing: their order does not matter.
    if (!readonly && leasesPrimary(this.#sentinel)) {
      return batchWithin(this.#deadlines, commands, this.#where, route?.callers, (all, batch) =>
        this.#sendLeased(all, text, batch),
      )
    }
    // Weighed whole against maxInFlightBytes, as one command.
    return batchWithin(this.#deadlines, commands, this.#where, route?.callers, (all, batch) =>
      mapCommands(all, (args) =>
        this.#send(args, readonly, text, 0, undefined, batch).catch((error: Error) => error),
      ),
    )
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

  /** The connected node-redis `RedisSentinel`, whatever `write` says: it routes commands itself. */
  async client(_options?: { write?: boolean }): Promise<unknown> {
    if (!this.#life.open) await this.#life.whenReady()
    return this.#sentinel
  }

  /**
   * Closes the connection: calls made from now on reject with a `ClosedError`; calls made before
   * it that wait for the sentinel being opened are carried by it (at most
   * `socketConnectTimeout`), then answered as it closes (a sentinel of the user's stays open).
   * A second call resolves with the first.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  /** The work of the first `close()`. */
  async #shutdown(): Promise<void> {
    this.#life.close(true)
    await this.#life.carry(this.#connectTimeoutMs)
    this.#primary.close()
    const sentinel = this.#sentinel
    if (!this.#closeSentinel) {
      // A sentinel of the user's, left open: it keeps none of this connection's listeners.
      this.#listeners.clear()
      return
    }
    if (!sentinel.isOpen && this.#opener.opening === undefined) return
    const graceMs = this.#deadlines.timeoutMs ?? this.#connectTimeoutMs
    // The calls in flight are answered first (each bounded by socketTimeout), then it closes.
    await closeWithin(
      async () => {
        await Promise.allSettled(this.#inFlight)
        await sentinel.close()
      },
      () => {
        sentinel.destroy().catch(() => undefined)
      },
      graceMs,
    )
  }

  /** Sends one command, weighed with the calls it answers (`callers`) or as one of `batch`. */
  #send(
    args: RedisArgument[],
    readonly: boolean,
    text: ReplyForm,
    blockMs = 0,
    callers?: number,
    batch?: BatchOverhead,
  ): Promise<unknown> {
    const weight = commandWeight(args, callers)
    const refused = this.#deadlines.refuse(weight, nameOf(args), this.#where)
    if (refused !== undefined) return rejectAfterTurn(refused)
    const onReplica = readonly && this.#replicasReady()
    if (!onReplica && this.#primary.isDown) return rejectAfterTurn(this.#primaryDown())
    const sender = this.#sender.as(text)
    let reply = sender.sendCommand(onReplica, args)
    if (onReplica) {
      reply = reply.catch((error: unknown) => {
        if (this.#life.closed || !isReplicaFailure(error)) throw error
        this.#replicasCheckedAt = Number.NEGATIVE_INFINITY
        return sender.sendCommand(false, args)
      })
    }
    const deadlines = this.#deadlines
    const tracked = deadlines.track(reply, String(args[0]), this.#mapError, weight, blockMs, batch)
    // A blocking command is not waited for: close() ends it.
    if (blockMs > 0) return tracked
    this.#waitFor(tracked)
    return tracked
  }

  /** The error of a call made while the primary is known down. */
  #primaryDown(): Error {
    return this.#primary.error(`the primary of ${this.#where}`, (e) => this.#text(e), this.#secrets)
  }

  /** `tracked` is waited for by `close()` until it settles. */
  readonly #waitFor = (tracked: Promise<unknown>): void => {
    const inFlight = this.#inFlight
    inFlight.add(tracked)
    const settled = () => {
      inFlight.delete(tracked)
    }
    tracked.then(settled, settled)
  }

  /**
   * A batch on one client of the primary, leased for all of it (`onPrimary`): sent one by one,
   * its commands could each take a client of node-redis's pool of the primary
   * (`masterPoolSize`) and run side by side, in any order. Each command is refused, weighed,
   * failed fast while the primary is known down, bounded, and waited for by `close()` as `#send`
   * does; its reply or error comes as a value.
   */
  #sendLeased(
    all: readonly RedisArgument[][],
    text: ReplyForm,
    batch: BatchOverhead | undefined,
  ): Array<Promise<unknown>> {
    const leasing = {
      deadlines: this.#deadlines,
      where: this.#where,
      mapError: this.#mapError,
      refused: () => (this.#primary.isDown ? this.#primaryDown() : undefined),
      sent: this.#waitFor,
    }
    return leasedBatch(all, batch, leasing, (leased) => onPrimary(this.#sentinel, leased, text))
  }

  readonly #mapError = (error: unknown): Error => {
    if (this.#life.closed && isClientClosed(error)) return this.#life.closedError()
    // node-redis's client of a node was refused its handshake (the password changed on the
    // server): the command did not run, and the refusal says in words what it means.
    if (error instanceof Error && isErrorReply(error) && isAuthRefusal(error.message)) {
      return new ConnectionError(`${this.#where} refused the connection: ${this.#text(error)}`, {
        cause: scrub(error, this.#secrets),
      })
    }
    return toCachexError(error, this.#secrets)
  }

  /**
   * Whether some replica has a ready client, so that node-redis can serve a read there (it throws
   * when it has no replica client, and keeps re-asking the sentinels while the one it picked is
   * down). Reused for `REPLICA_CHECK_MS`, and asked again after an error or a topology change.
   */
  #replicasReady(): boolean {
    const now = performance.now()
    if (now - this.#replicasCheckedAt < REPLICA_CHECK_MS) return this.#replicasUp
    this.#replicasCheckedAt = now
    let up = false
    for (const count of this.#sentinel.getReplicaNodes().values()) {
      if (count > 0) {
        up = true
        break
      }
    }
    this.#replicasUp = up
    return up
  }

  /** The background check of a primary reported down: a `PING`, bounded by `socketTimeout`. */
  readonly #checkPrimary = (): Promise<unknown> =>
    within(
      this.#sender.as(false).sendCommand(false, ['PING']),
      this.#deadlines.timeoutMs ?? this.#connectTimeoutMs,
      `no PING reply from the primary of ${this.#where}`,
    )

  /**
   * The message of `error` (a node-redis error, or the string node-redis sometimes emits),
   * redacted; an authentication refusal says in words what it means and where the password goes
   * (see `withAuthHint`), as on one server.
   */
  #text(error: unknown): string {
    const main = toCachexError(error, this.#secrets).message
    const cause = error instanceof Error ? error.cause : undefined
    const text =
      cause instanceof Error && !main.includes(cause.message)
        ? `${main} (${toCachexError(cause, this.#secrets).message})`
        : main
    return withAuthHint(text, PASSWORD_IN_SENTINEL)
  }
}
