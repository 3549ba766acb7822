import {
  type CommandRoute,
  type Connection,
  InvalidArgumentError,
  type RedisArgument,
} from '@cachex/core'
import { callBounds, SharedAttempt, scanNode } from './_connect.ts'
import { FailoverError, toCachexError } from './_errors.ts'
import { GivenSentinelConnection } from './_given-sentinel.ts'
import { Lifecycle } from './_lifecycle.ts'
import {
  isRedisSentinel,
  poolSize,
  type SentinelConnectionOptions,
  type SentinelOptions,
  sentinelNodes,
} from './_sentinel-options.ts'

export type {
  RedisSentinelLike,
  SentinelConnectionOptions,
  SentinelOptions,
} from './_sentinel-options.ts'
export { isRedisSentinel } from './_sentinel-options.ts'

import { parseLocation } from './_location.ts'
import { firstHealthy, ReplicaRotation, readBatchOn, readOn } from './_rotation.ts'
import {
  eventMasterAddress,
  type NodeAddress,
  type SentinelEvent,
  type SentinelView,
  SentinelWatch,
} from './_sentinels.ts'
import { StandaloneConnection } from './standalone.ts'
import { parseRedisUrl, redactUrl } from './url.ts'

/**
 * A primary and its replicas found through Redis Sentinel (django-redis's `SentinelClient`).
 * cachex talks to the sentinels itself: it asks one for the primary and the replicas
 * (`SENTINEL MASTER`, `REPLICAS`, `SENTINELS`), and listens to every sentinel's notifications.
 * Each data node is a `standalone` connection, with its bounds and its circuit breaker.
 *
 * - Writes run on the primary. When a sentinel announces that it fails the primary over
 *   (`+try-failover`, before it promotes a replica), writes reject at once with a `FailoverError`
 *   (or, with `sentinelOptions.waitForPrimary`, wait for the new primary, at most
 *   `socketTimeout`) until the new primary is announced (`+switch-master`, from whichever sentinel
 *   says it first), and then go to it at once. While the primary is down and no failover has
 *   started yet, writes fail fast with the `ConnectionError` of its circuit breaker.
 * - Reads (commands routed as `readonly`) run on a replica in the read rotation, picked at random:
 *   a node enters it only once it reports itself in sync with its primary (`role:slave` with
 *   `master_link_status:up`, asked on every new connection to it and every second after), so a
 *   restarted, empty node serves no read until it has synced. Through a failover, the replicas
 *   that were in sync keep serving reads although their link to the dead primary is down, as does
 *   the replica being promoted. With none in the rotation, the primary serves reads; a read a
 *   replica fails with a connection error runs again there.
 * - Connecting (a sentinel, then the nodes) is bounded by `socketConnectTimeout`; once it failed,
 *   calls reject with a `ConnectionError` at once while it is retried in the background. Errors
 *   are `CachexError`s without passwords.
 *
 * `client()` resolves the primary's node-redis client, `client({ write: false })` a replica's in
 * the rotation (the primary's when none is). An existing node-redis `RedisSentinel` handed in as
 * `location` is used as it is instead: node-redis routes each command and follows failovers
 * itself, and `client()` resolves it.
 */
export function sentinel(options: SentinelOptions = {}): Connection {
  return isRedisSentinel(options.location)
    ? new GivenSentinelConnection(options)
    : new SentinelConnection(options)
}

/** Notifications that a sentinel is failing the primary over: no more writes to it. */
const FAILOVER_STEPS = new Set([
  '+try-failover',
  '+elected-leader',
  '+failover-state-select-slave',
  '+selected-slave',
  '+failover-state-send-slaveof-noone',
  '+failover-state-wait-promotion',
  '+promoted-slave',
  '+failover-state-reconf-slaves',
])

/** Milliseconds between two asks of the sentinels while a failover runs, in case a notification is lost. */
const FAILOVER_POLL_MS = 500
/** Milliseconds between two looks of the writes that wait for a primary (`waitForPrimary`). */
const WAIT_POLL_MS = 20

interface Waiter {
  resolve(): void
  until: number
}

const key = (node: NodeAddress) => `${node.host}:${node.port}`

class SentinelConnection implements Connection {
  readonly #where: string
  readonly #watch: SentinelWatch
  readonly #roots: NodeAddress[]
  readonly #connectTimeoutMs: number
  /** How long a write waits for a primary with `waitForPrimary`. */
  readonly #waitMs: number
  readonly #waitForPrimary: boolean
  readonly #scanIntervalMs: number
  readonly #secrets: string[]
  /** A `standalone` connection to `node`. */
  readonly #connect: (node: NodeAddress) => StandaloneConnection
  /** `undefined` with `replicaPoolSize: 0`: reads run on the primary. */
  readonly #rotation: ReplicaRotation | undefined
  /** Every data node cachex is connected to, by `host:port`. */
  readonly #nodes = new Map<string, StandaloneConnection>()
  #primary: StandaloneConnection | undefined
  #primaryKey: string | undefined
  /**
   * The sentinels failing the primary over now (`host:port`), and since when
   * (`performance.now()`): writes wait or fail while there is one.
   */
  readonly #failovers = new Map<string, number>()
  /** When a sentinel last announced a new primary (`+switch-master`), `performance.now()`. */
  #switchedAt = Number.NEGATIVE_INFINITY
  /** The newest `config-epoch` the primary was taken from. */
  #epoch = 0
  /** The service's `failover-timeout`: a failover nobody confirms is forgotten after it. */
  #failoverTimeoutMs = 180_000
  #discovered = false
  readonly #discovering = new SharedAttempt()
  /**
   * Closed or not; the guard every call passes: ready once the sentinels told where the primary
   * is (a failed discovery trips its breaker).
   */
  readonly #life: Lifecycle
  #refreshing = false
  #refreshAgain = false
  #pollTimer: NodeJS.Timeout | undefined
  #scanTimer: NodeJS.Timeout | undefined
  #waiters: Waiter[] = []
  #waitTimer: NodeJS.Timeout | undefined

  constructor(options: SentinelOptions) {
    const { connectTimeoutMs, deadlines } = callBounds(options)
    this.#connectTimeoutMs = connectTimeoutMs
    this.#waitMs = deadlines.timeoutMs ?? connectTimeoutMs
    const extra = (options.sentinelOptions ?? {}) as SentinelConnectionOptions
    const given = typeof options.location === 'string' ? parseLocation(options.location) : undefined
    if (given?.length !== 1) {
      throw new InvalidArgumentError(
        "the sentinel connection needs location: 'redis://<service name>/<db>' (or a node-redis RedisSentinel)",
      )
    }
    const location = given[0] as string
    const address = parseRedisUrl(location)
    if (address.path !== undefined) {
      throw new InvalidArgumentError(
        `the sentinel location names a service, not a socket: ${redactUrl(location)}`,
      )
    }
    const name = address.host as string
    this.#roots = sentinelNodes(options.sentinels)
    const password = address.password ?? options.password
    this.#secrets = [password, extra.password].filter((s): s is string => !!s)
    this.#where = `sentinel service '${name}' (sentinels ${this.#roots.map(key).join(', ')})`
    this.#life = new Lifecycle({
      where: this.#where,
      ready: () => this.#discovered,
      connect: () => this.#discovering.run(this.#discover),
      describe: (error) => this.#text(error),
    })
    const replicaPoolSize = poolSize(extra.replicaPoolSize, 1, 'replicaPoolSize', 0)
    poolSize(extra.masterPoolSize, 1, 'masterPoolSize', 1)
    const scanInterval = extra.scanInterval ?? 0
    if (typeof scanInterval !== 'number' || !Number.isFinite(scanInterval) || scanInterval < 0) {
      throw new InvalidArgumentError('sentinelOptions.scanInterval must be 0 or more milliseconds')
    }
    this.#scanIntervalMs = scanInterval
    const wait = extra.waitForPrimary ?? false
    if (typeof wait !== 'boolean') {
      throw new InvalidArgumentError('sentinelOptions.waitForPrimary must be true or false')
    }
    this.#waitForPrimary = wait

    const scheme = address.tls ? 'rediss' : 'redis'
    const user = address.username === undefined ? '' : `${encodeURIComponent(address.username)}@`
    const { sentinels: _s, sentinelOptions: _o, location: _l, ...nodeOptions } = options
    this.#connect = (node) => {
      const host = node.host.includes(':') ? `[${node.host}]` : node.host
      return new StandaloneConnection({
        ...nodeOptions,
        location: `${scheme}://${user}${host}:${node.port}/${address.database}`,
        password,
      })
    }

    const sentinelClientOptions = (extra.clientOptions ?? {}) as { socket?: object }
    this.#watch = new SentinelWatch({
      name,
      clientOptions: {
        ...sentinelClientOptions,
        username: extra.username,
        password: extra.password,
        socket: {
          connectTimeout: connectTimeoutMs,
          ...(extra.tls ? { tls: true as const } : {}),
          ...sentinelClientOptions.socket,
          ...extra.socket,
        },
      },
      queryTimeoutMs: deadlines.timeoutMs ?? connectTimeoutMs,
      secrets: this.#secrets,
      onEvent: (event) => this.#onEvent(event),
      onReconnect: () => this.#refreshSoon(),
    })
    if (replicaPoolSize > 0) {
      this.#rotation = new ReplicaRotation({
        // A replica cut off from its primary keeps serving reads only while there is no primary
        // to write to: its data is then the newest there is.
        primaryUp: () =>
          !this.#failingOver() && this.#primary !== undefined && !this.#primary.isDown,
        benchMs: connectTimeoutMs,
      })
    }
  }

  command(args: RedisArgument[], route?: CommandRoute): Promise<unknown> {
    if (this.#life.open) return this.#route(args, route)
    return this.#life.whenReady().then(() => this.#route(args, route))
  }

  async batch(commands: RedisArgument[][], route?: CommandRoute): Promise<unknown[]> {
    if (!this.#life.open) await this.#life.whenReady()
    if (route?.readonly !== true) return (await this.#writer()).batch(commands, route)
    return readBatchOn(this.#rotation, this.#reader, commands, route, this.#isClosed)
  }

  scan(pattern: string, count: number): AsyncIterable<string[]> {
    return scanNode((args) => this.command(args), pattern, count)
  }

  async flush(): Promise<void> {
    await this.command(['FLUSHDB'])
  }

  /** The primary's node-redis client; with `write: false`, a replica's in the read rotation. */
  async client(options: { write?: boolean } = {}): Promise<unknown> {
    await this.#life.whenReady()
    const rotation = this.#rotation
    if (options.write !== false || rotation === undefined) return this.#reader().client()
    return (await firstHealthy(rotation, () => this.#life.closed)) ?? this.#reader().client()
  }

  async close(): Promise<void> {
    if (!this.#life.close()) return
    this.#stopPolling()
    clearInterval(this.#scanTimer)
    this.#wake()
    this.#watch.close()
    this.#rotation?.close()
    const nodes = [...this.#nodes.values()]
    this.#nodes.clear()
    await Promise.all(nodes.map((node) => node.close()))
  }

  #route(args: RedisArgument[], route: CommandRoute | undefined): Promise<unknown> {
    if (route?.readonly === true) {
      return readOn(this.#rotation, this.#reader, args, route, this.#isClosed)
    }
    const primary = this.#writable()
    if (primary !== undefined) return primary.command(args, route)
    return this.#writer().then((node) => node.command(args, route))
  }

  /**
   * Where a read runs when no replica can serve it: the primary — during a failover too, since
   * until the switch it is the newest copy, and a read changes nothing.
   */
  readonly #reader = (): StandaloneConnection => this.#primary as StandaloneConnection

  readonly #isClosed = (): boolean => this.#life.closed

  /**
   * The primary, when a write may go to it now: no sentinel is failing it over (and, with
   * `waitForPrimary`, it is not known down).
   */
  #writable(): StandaloneConnection | undefined {
    if (this.#failingOver()) return undefined
    const primary = this.#primary
    if (this.#waitForPrimary && primary?.isDown) return undefined
    return primary
  }

  /**
   * The primary to write to: now, or, with `waitForPrimary`, once there is one (at most
   * `socketTimeout`); a `FailoverError` while a failover runs otherwise.
   */
  async #writer(): Promise<StandaloneConnection> {
    const now = this.#writable()
    if (now !== undefined) return now
    if (this.#waitForPrimary) {
      await new Promise<void>((resolve) => {
        this.#waiters.push({ resolve, until: performance.now() + this.#waitMs })
        this.#waitTimer ??= setInterval(() => this.#wake(), WAIT_POLL_MS)
        this.#waitTimer.unref()
      })
      if (this.#life.closed) throw this.#life.closedError()
      const primary = this.#writable()
      if (primary !== undefined) return primary
      // Known down without a failover: its circuit breaker says why.
      if (!this.#failingOver()) return this.#primary as StandaloneConnection
    }
    throw new FailoverError(
      `no write sent to ${this.#where}: the sentinels are failing over its primary ${this.#primaryKey}${this.#waitForPrimary ? `, and announced no new one within ${this.#waitMs} ms` : '; writes go on once they announce the new one (sentinelOptions.waitForPrimary makes them wait for it)'}`,
    )
  }

  /** Lets the writes waiting for a primary go (or fail) once there is one, or their time is up. */
  #wake(): void {
    if (this.#waiters.length === 0) return
    const ready = this.#life.closed || this.#writable() !== undefined
    const now = performance.now()
    const waiting: Waiter[] = []
    for (const waiter of this.#waiters) {
      if (ready || now >= waiter.until) waiter.resolve()
      else waiting.push(waiter)
    }
    this.#waiters = waiting
    if (waiting.length === 0) {
      clearInterval(this.#waitTimer)
      this.#waitTimer = undefined
    }
  }

  /** Whether a sentinel is failing the primary over; forgets the ones past `failover-timeout`. */
  #failingOver(): boolean {
    const failovers = this.#failovers
    if (failovers.size === 0) return false
    const now = performance.now()
    for (const [from, since] of failovers) {
      if (now - since > this.#failoverTimeoutMs) failovers.delete(from)
    }
    if (failovers.size === 0) this.#stopPolling()
    return failovers.size > 0
  }

  #onEvent(event: SentinelEvent): void {
    if (this.#life.closed || !this.#discovered) return
    const { channel, words, from } = event
    if (channel === '+switch-master') {
      // +switch-master <name> <old ip> <old port> <new ip> <new port>: writes go there now.
      const port = Number(words[4])
      if (words[3] !== undefined && Number.isInteger(port)) {
        this.#failovers.clear()
        this.#stopPolling()
        this.#switchTo({ host: words[3], port })
        this.#switchedAt = performance.now()
      }
      this.#refreshSoon()
      return
    }
    if (FAILOVER_STEPS.has(channel)) {
      // Sent before the sentinel promotes a replica: a write acknowledged by the old primary
      // after the promotion would be lost.
      if (eventMasterAddress(words) === this.#primaryKey && !this.#failovers.has(from)) {
        this.#failovers.set(from, performance.now())
        this.#startPolling()
      }
      return
    }
    // The end of a failover (the sentinels are asked which primary won), or a change of the
    // replicas or the sentinels.
    this.#refreshSoon()
  }

  /** Asks every sentinel for its view again, one ask at a time (another follows if needed). */
  #refreshSoon(): void {
    if (this.#life.closed || !this.#discovered) return
    if (this.#refreshing) {
      this.#refreshAgain = true
      return
    }
    this.#refreshing = true
    const startedAt = performance.now()
    this.#watch
      .all()
      .then((views) => {
        if (!this.#life.closed && views.length > 0) this.#apply(views, startedAt)
      })
      .catch(() => undefined)
      .finally(() => {
        this.#refreshing = false
        if (this.#refreshAgain) {
          this.#refreshAgain = false
          this.#refreshSoon()
        }
      })
  }

  /**
   * Follows what the sentinels say: the primary of the newest configuration (the highest
   * `config-epoch` among the sentinels that are not failing over), the failovers under way, the
   * replicas, and the sentinels they know. `startedAt`: when the views were asked; a failover
   * announced after that is not undone by them.
   */
  #apply(views: SentinelView[], startedAt: number): void {
    const settled = views.filter((view) => !view.master.flags.includes('failover_in_progress'))
    let best: SentinelView | undefined
    for (const view of settled) {
      if (best === undefined || view.master.epoch > best.master.epoch) best = view
    }
    const source = best ?? (views[0] as SentinelView)
    this.#failoverTimeoutMs = source.master.failoverTimeoutMs
    // Views asked before a sentinel announced a switch predate it: they would move writes back
    // to the old primary. So would a sentinel that still has an older configuration.
    const current =
      best !== undefined && startedAt >= this.#switchedAt && best.master.epoch >= this.#epoch
    if (current || this.#primaryKey === undefined) {
      this.#switchTo(source.master)
      this.#epoch = Math.max(this.#epoch, source.master.epoch)
    }
    // The sentinels failing over the primary in use: until one announces the switch (the leader
    // keeps its flag a moment after the others took the new configuration).
    const failing = new Set(
      views
        .filter(
          (view) =>
            view.master.flags.includes('failover_in_progress') &&
            key(view.master) === this.#primaryKey,
        )
        .map((view) => view.from),
    )
    for (const [from, since] of this.#failovers) {
      if (since <= startedAt && !failing.has(from)) this.#failovers.delete(from)
    }
    for (const from of failing) {
      this.#failovers.set(from, Math.max(this.#failovers.get(from) ?? 0, startedAt))
    }
    if (this.#failovers.size > 0) this.#startPolling()
    else this.#stopPolling()
    this.#setReplicas(source.replicas)
    for (const view of views) {
      for (const node of view.sentinels) if (node.host !== '') this.#watch.add(node)
    }
    this.#wake()
  }

  /** Makes `node` the primary: writes go there from now on. */
  #switchTo(node: NodeAddress): void {
    const id = key(node)
    if (id === this.#primaryKey || node.host === '') return
    const primary = this.#node(node)
    this.#primary = primary
    this.#primaryKey = id
    this.#rotation?.remove(primary)
    this.#wake()
  }

  /**
   * The replicas the sentinels list become the candidates of the read rotation, down or not: the
   * rotation's own checks say which may serve reads (the sentinels flag a replica `disconnected`
   * for a moment after every switch, and one that restarted empty is not flagged at all). The
   * connections to nodes no longer listed are closed.
   */
  #setReplicas(replicas: SentinelView['replicas']): void {
    const wanted = new Set<string>()
    const rotation = this.#rotation
    if (rotation !== undefined) {
      for (const replica of replicas) {
        const id = key(replica)
        if (id === this.#primaryKey || replica.host === '') continue
        wanted.add(id)
        rotation.add(this.#node(replica))
      }
    }
    for (const [id, node] of this.#nodes) {
      if (id === this.#primaryKey || wanted.has(id)) continue
      rotation?.remove(node)
      this.#nodes.delete(id)
      node.close().catch(() => undefined)
    }
  }

  #node(node: NodeAddress): StandaloneConnection {
    const id = key(node)
    let connection = this.#nodes.get(id)
    if (connection === undefined) {
      connection = this.#connect(node)
      this.#nodes.set(id, connection)
    }
    return connection
  }

  #startPolling(): void {
    if (this.#pollTimer !== undefined || this.#life.closed) return
    this.#pollTimer = setInterval(() => this.#refreshSoon(), FAILOVER_POLL_MS)
    this.#pollTimer.unref()
  }

  #stopPolling(): void {
    clearInterval(this.#pollTimer)
    this.#pollTimer = undefined
  }

  readonly #discover = async (): Promise<void> => {
    for (const root of this.#roots) this.#watch.add(root)
    const view = await this.#watch.first(this.#connectTimeoutMs, this.#where)
    if (this.#life.closed) throw this.#life.closedError()
    if (this.#discovered) return
    this.#discovered = true
    this.#life.breaker.up()
    this.#apply([view], performance.now())
    // The other sentinels may know a newer configuration.
    this.#refreshSoon()
    if (this.#scanIntervalMs > 0) {
      this.#scanTimer = setInterval(() => this.#refreshSoon(), this.#scanIntervalMs)
      this.#scanTimer.unref()
    }
  }

  #text(error: unknown): string {
    return toCachexError(error, this.#secrets).message
  }
}
