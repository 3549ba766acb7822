import type {
  CommandRoute,
  Connection,
  RedisArgument,
  Tracking,
  TrackingListener,
} from '@cachex/core'
import { SERVER_EPOCH, scanWalk } from '@cachex/core/internal'
import { callBounds, SharedAttempt } from './_connect.ts'
import { toCachexError } from './_errors.ts'
import { FAILOVER_STEPS, FailoverGate } from './_failover.ts'
import { GivenSentinelConnection } from './_given-sentinel.ts'
import { Lifecycle } from './_lifecycle.ts'
import { type Credentials, checkUserHasPassword } from './_options.ts'
import { firstHealthy, ReplicaRotation, readBatchOn, readOn } from './_rotation.ts'
import { nodesChanged, scriptEpoch } from './_scripts.ts'
import { invalidAddress, invalidPrimaryError, nodesToUse, PacedQueue } from './_sentinel-address.ts'
import { isRedisSentinel, type SentinelOptions, sentinelSettings } from './_sentinel-options.ts'
import {
  eventMasterAddress,
  type NodeAddress,
  portOf,
  type SentinelEvent,
  type SentinelView,
  SentinelWatch,
} from './_sentinels.ts'
import { TrackingGate, TrackingGroup } from './_tracking-group.ts'
import { StandaloneConnection } from './standalone.ts'

export type {
  RedisSentinelLike,
  SentinelConnectionOptions,
  SentinelOptions,
} from './_sentinel-options.ts'
export { isRedisSentinel } from './_sentinel-options.ts'

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
 *   started yet, writes fail fast with the `ConnectionError` of its circuit breaker. Calls still
 *   waiting on the old primary reject with a `ConnectionError`, their outcome unknown, at the
 *   switch or as soon as it fails to answer a `PING` once the failover began (see `FailoverGate`):
 *   a frozen primary would answer them as it wakes, and lose them as it rejoins as a replica.
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

const key = (node: NodeAddress) => `${node.host}:${node.port}`

class SentinelConnection implements Connection {
  /** Changes when a node may have lost its Lua scripts (see `Connection.generation`). */
  get generation(): number {
    return scriptEpoch()
  }

  /**
   * Changes when the primary may have been replaced: another one (`#switchTo`), or the same one
   * reconnected. What a cursor walk watches (`serverOf`).
   */
  [SERVER_EPOCH](): number {
    return this.#switches * 2 ** 32 + (this.#primary?.[SERVER_EPOCH]() ?? 0)
  }

  /** The times another node became the primary. */
  #switches = 0

  readonly #where: string
  /** The service name (`sentinel monitor <name> …`), for messages. */
  readonly #name: string
  readonly #watch: SentinelWatch
  readonly #roots: NodeAddress[]
  readonly #connectTimeoutMs: number
  /**
   * How long a write waits for the new primary with `waitForPrimary`, and a read with no replica
   * to run on for a live node while the sentinels fail a dead primary over (`socketTimeout`).
   */
  readonly #waitMs: number
  /** The failovers under way, where writes go through them, and the writes that wait. */
  readonly #failover: FailoverGate
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
  /** When a sentinel last announced a new primary (`+switch-master`), `performance.now()`. */
  #switchedAt = Number.NEGATIVE_INFINITY
  /** The newest `config-epoch` the primary was taken from. */
  #epoch = 0
  #discovered = false
  readonly #discovering = new SharedAttempt()
  /**
   * Closed or not; the guard every call passes: ready once the sentinels told where the primary
   * is (a failed discovery trips its breaker).
   */
  readonly #life: Lifecycle
  /**
   * The first `close()`'s work: a later call returns it, so that it too resolves only once the
   * calls made before the first are answered.
   */
  #closing: Promise<void> | undefined
  #refreshing = false
  #refreshAgain = false
  #scanTimer: NodeJS.Timeout | undefined
  /**
   * The replicas listed that have no connection yet, opened a few per turn of the event loop, and
   * tracked once opened (`#retrack`).
   */
  readonly #opener = new PacedQueue<NodeAddress>(
    (replica) => this.#openReplica(replica),
    () => this.#retrack(),
  )
  /** The tracking groups of `track`: every data node in use, re-tracked when they change. */
  readonly #trackings = new Set<TrackingGroup<StandaloneConnection>>()
  /** With a local tier, a replica serves reads only while tracked (see `track`). */
  readonly #gate = new TrackingGate<StandaloneConnection>()

  constructor(options: SentinelOptions) {
    const { connectTimeoutMs, deadlines } = callBounds(options)
    this.#connectTimeoutMs = connectTimeoutMs
    const { address, name, password, extra, replicaPoolSize, ...settings } =
      sentinelSettings(options)
    this.#roots = settings.roots
    this.#name = name
    this.#secrets = [
      password,
      extra.password,
      (extra.clientOptions as Credentials | undefined)?.password,
      (options.clientOptions as Credentials | undefined)?.password,
    ].filter((s): s is string => !!s)
    this.#where = `sentinel service '${name}' (sentinels ${this.#roots.map(key).join(', ')})`
    const dataOptions = options.clientOptions as Credentials | undefined
    checkUserHasPassword(
      address.username ?? dataOptions?.username,
      password ?? dataOptions?.password,
      `the data nodes of ${this.#where}`,
    )
    const sentinelOptions = extra.clientOptions as Credentials | undefined
    checkUserHasPassword(
      extra.username ?? sentinelOptions?.username,
      extra.password ?? sentinelOptions?.password,
      `the sentinels of ${this.#where} (sentinelOptions)`,
    )
    this.#life = new Lifecycle({
      where: this.#where,
      ready: () => this.#discovered,
      connect: () => this.#discovering.run(this.#discover),
      describe: (error) => this.#text(error),
      secrets: this.#secrets,
    })
    this.#scanIntervalMs = settings.scanIntervalMs
    this.#waitMs = deadlines.timeoutMs ?? connectTimeoutMs
    this.#failover = new FailoverGate({
      waitForPrimary: settings.waitForPrimary,
      waitMs: this.#waitMs,
      where: this.#where,
      primary: () => this.#primary,
      primaryKey: () => this.#primaryKey,
      poll: () => this.#refreshSoon(),
      closed: () => this.#life.closed,
      closedError: () => this.#life.closedError(),
    })

    const scheme = address.tls ? 'rediss' : 'redis'
    const user = address.username === undefined ? '' : `${encodeURIComponent(address.username)}@`
    const { sentinels: _s, sentinelOptions: _o, location: _l, ...nodeOptions } = options
    this.#connect = (node) => {
      // An IPv6 address in brackets, its zone ID (`fe80::1%eth0`) written `%25` (RFC 6874).
      const host = node.host.includes(':') ? `[${node.host.replace('%', '%25')}]` : node.host
      return new StandaloneConnection({
        ...nodeOptions,
        location: `${scheme}://${user}${host}:${node.port}/${address.database}`,
        password,
      })
    }

    const sentinelClientOptions = (extra.clientOptions ?? {}) as Credentials & { socket?: object }
    this.#watch = new SentinelWatch({
      name,
      clientOptions: {
        ...sentinelClientOptions,
        username: extra.username ?? sentinelClientOptions.username,
        password: extra.password ?? sentinelClientOptions.password,
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
      const gate = this.#gate
      this.#rotation = new ReplicaRotation({
        admits: (node) => gate.admits(node),
        // What the tier read from a replica that left the rotation goes (see `TrackingGate.left`).
        onOut: (node) => gate.left(node),
        // A replica cut off from its primary keeps serving reads only while there is no primary
        // to write to: its data is then the newest there is.
        primaryUp: () =>
          !this.#failover.failingOver() && this.#primary !== undefined && !this.#primary.isDown,
        benchMs: connectTimeoutMs,
      })
    }
  }

  command(args: RedisArgument[], route?: CommandRoute): Promise<unknown> {
    if (this.#life.open) return this.#route(args, route)
    return this.#life.whenReady().then(() => this.#route(args, route))
  }

  /** A transaction runs on the primary (see `Connection.transaction`). */
  async transaction(commands: RedisArgument[][], route?: CommandRoute): Promise<unknown[]> {
    // Before the first discovery no primary is known: wait for it, as a command does (else the
    // failover gate would take the unknown primary for one being failed over).
    if (!this.#life.open) await this.#life.whenReady()
    // On a primary that takes writes now, sent in this tick: a later call must not overtake it.
    const writer = this.#failover.writable() ?? (await this.#failover.writer())
    return writer.transaction(commands, route)
  }

  async batch(commands: RedisArgument[][], route?: CommandRoute): Promise<unknown[]> {
    if (!this.#life.open) await this.#life.whenReady()
    if (route?.readonly !== true) {
      const writer = this.#failover.writable() ?? (await this.#failover.writer())
      return writer.batch(commands, route)
    }
    return readBatchOn(
      this.#rotation,
      this.#reader,
      commands,
      route,
      this.#isClosed,
      this.#readWaitMs(),
      this.#failingOver,
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

  /** The primary's node-redis client; with `write: false`, a replica's in the read rotation. */
  async client(options: { write?: boolean } = {}): Promise<unknown> {
    await this.#life.whenReady()
    const rotation = this.#rotation
    if (options.write !== false || rotation === undefined) return this.#reader().client()
    return (await firstHealthy(rotation, () => this.#life.closed)) ?? this.#reader().client()
  }

  /**
   * Tracks every data node in use (the primary and the replicas the sentinels list) on a
   * connection of its own (see `Connection.track`). Up while the primary's is; a replica serves
   * reads only while its own is up, so one that stays down (the old primary after a failover)
   * does not keep the tier off. A failover (`+switch-master`) empties the tier; the nodes the
   * sentinels list later are tracked too.
   */
  track(prefixes: readonly string[], listener: TrackingListener): Tracking {
    if (this.#life.closed) throw this.#life.closedError()
    const group = new TrackingGroup<StandaloneConnection>(prefixes, listener, {
      gated: (node) => node !== this.#primary,
    })
    this.#trackings.add(group)
    this.#gate.add(group)
    if (this.#discovered) group.set(this.#nodes.values())
    else this.#life.whenReady().catch(() => undefined)
    return {
      close: async () => {
        this.#trackings.delete(group)
        this.#gate.delete(group)
        await group.close()
      },
    }
  }

  /** Tracks the data nodes in use now (a new one empties the tier until it is tracked). */
  #retrack(): void {
    for (const group of this.#trackings) group.set(this.#nodes.values())
  }

  /**
   * Closes the connection: calls made from now on reject with a `ClosedError`. Calls made before
   * it that wait for the first discovery are carried by it (at most `socketConnectTimeout`), then
   * by the node connections they reach, which answer them as they close (see
   * `StandaloneConnection.close`). A second call resolves with the first.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  /** The work of the first `close()`. */
  async #shutdown(): Promise<void> {
    this.#life.close(true)
    await this.#life.carry(this.#connectTimeoutMs)
    for (const group of this.#trackings) group.close().catch(() => undefined)
    this.#trackings.clear()
    this.#failover.close()
    clearInterval(this.#scanTimer)
    this.#opener.clear()
    this.#watch.close()
    this.#rotation?.close()
    const nodes = [...this.#nodes.values()]
    this.#nodes.clear()
    await Promise.all(nodes.map((node) => node.close()))
  }

  #route(args: RedisArgument[], route: CommandRoute | undefined): Promise<unknown> {
    if (route?.readonly === true) {
      return readOn(
        this.#rotation,
        this.#reader,
        args,
        route,
        this.#isClosed,
        this.#readWaitMs(),
        this.#failingOver,
      )
    }
    const primary = this.#failover.writable()
    if (primary !== undefined) return primary.command(args, route)
    return this.#failover.writer().then((node) => node.command(args, route))
  }

  /**
   * Where a read runs when no replica can serve it: the primary — during a failover too, since
   * until the switch it is the newest copy, and a read changes nothing. While it is down, the
   * read waits for a replica or the new primary (`#readWaitMs`).
   */
  readonly #reader = (): StandaloneConnection => this.#primary as StandaloneConnection

  readonly #isClosed = (): boolean => this.#life.closed

  /**
   * Whether the sentinels are failing the primary over: a read then waits for the new primary
   * even while the old one refuses the handshake (`readOn`); otherwise a refusal (a wrong
   * password) fails the read at once, as it fails a write.
   */
  readonly #failingOver = (): boolean => this.#failover.failingOver()

  /**
   * How long a read that finds no replica waits for one, or for a live primary, while the
   * primary is down, instead of failing on the dead one (`#waitMs`): with replicas in use, a
   * replica checked just as its primary died is out until it is promoted, and the sentinels drop
   * the promoted one's clients before they announce it; without replicas, the new primary is
   * what a read waits for while the sentinels fail the old one over. Otherwise a read on a dead
   * primary fails fast, as any call to it. A primary that refuses the handshake (a wrong
   * password) is not dead: reads on it fail fast with the refusal outside a failover (`readOn`).
   */
  #readWaitMs(): number {
    return this.#rotation !== undefined || this.#failover.failingOver() ? this.#waitMs : 0
  }

  #onEvent(event: SentinelEvent): void {
    if (this.#life.closed || !this.#discovered) return
    const { channel, words, from } = event
    if (channel === '+switch-master') {
      // +switch-master <name> <old ip> <old port> <new ip> <new port>: writes go there now. An
      // address no server can have is no switch: the sentinels are asked which primary won.
      const node = { host: words[3] ?? '', port: portOf(words[4]) }
      if (this.#usable(node) !== undefined) {
        this.#failover.switched()
        this.#switchTo(node)
        this.#switchedAt = performance.now()
        this.#retrack()
      }
      this.#refreshSoon()
      return
    }
    if (FAILOVER_STEPS.has(channel)) {
      // Sent before the sentinel promotes a replica: a write acknowledged by the old primary
      // after the promotion would be lost.
      if (eventMasterAddress(words) === this.#primaryKey) this.#failover.started(from, channel)
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
    // A view naming a primary no server can be (a port out of 1..65535…) names none: the primary
    // in use stays, and its replicas and sentinels are taken all the same.
    const named = views.filter((view) => invalidAddress(view.master) === undefined)
    const settled = named.filter((view) => !view.master.flags.includes('failover_in_progress'))
    let best: SentinelView | undefined
    for (const view of settled) {
      if (best === undefined || view.master.epoch > best.master.epoch) best = view
    }
    const source = best ?? named[0] ?? (views[0] as SentinelView)
    this.#failover.failoverTimeoutMs = source.master.failoverTimeoutMs
    // Views asked before a sentinel announced a switch predate it: they would move writes back
    // to the old primary. So would a sentinel that still has an older configuration.
    const current =
      best !== undefined && startedAt >= this.#switchedAt && best.master.epoch >= this.#epoch
    if ((current || this.#primaryKey === undefined) && this.#switchTo(source.master)) {
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
    this.#failover.settle(failing, startedAt)
    this.#setReplicas(source.replicas)
    this.#retrack()
    for (const view of views) {
      for (const node of nodesToUse(view.sentinels)) this.#watch.add(node)
    }
    this.#failover.wake()
  }

  /**
   * Makes `node` the primary: writes go there from now on. `false` when it cannot be (an address
   * no server can have: `#usable`), and the primary stays.
   */
  #switchTo(node: NodeAddress): boolean {
    const id = key(node)
    if (id === this.#primaryKey) return true
    const primary = this.#usable(node)
    if (primary === undefined) return false
    const first = this.#primaryKey === undefined
    const old = this.#primary
    this.#primary = primary
    this.#primaryKey = id
    this.#switches++
    // A promoted replica never ran the scripts its primary ran.
    nodesChanged()
    this.#rotation?.remove(primary)
    // Another primary: the local tier is emptied (a write the old one took may be lost), and is
    // up again once the new primary is tracked (the old one is a gated replica now).
    if (!first) for (const group of this.#trackings) group.reset()
    // Its calls in flight reject: a reply of the old one now would be of a write it loses.
    if (old !== undefined && old !== primary) this.#failover.replaced(old, id)
    this.#failover.wake()
    return true
  }

  /**
   * The replicas the sentinels list become the candidates of the read rotation, down or not: the
   * rotation's own checks say which may serve reads (the sentinels flag a replica `disconnected`
   * for a moment after every switch, and one that restarted empty is not flagged at all). Only
   * the first `MAX_NODES_PER_VIEW` listed with a valid address, each once (`nodesToUse`). The
   * connections to nodes no longer listed are closed.
   */
  #setReplicas(replicas: SentinelView['replicas']): void {
    const wanted = new Set<string>()
    const rotation = this.#rotation
    const queued: NodeAddress[] = []
    if (rotation !== undefined) {
      const primary = new Set(this.#primaryKey === undefined ? [] : [this.#primaryKey])
      for (const replica of nodesToUse(replicas, primary)) {
        const id = key(replica)
        wanted.add(id)
        const node = this.#nodes.get(id)
        if (node === undefined) queued.push(replica)
        else rotation.add(node)
      }
    }
    this.#opener.replace(queued)
    for (const [id, node] of this.#nodes) {
      if (id === this.#primaryKey || wanted.has(id)) continue
      rotation?.remove(node)
      this.#nodes.delete(id)
      node.close().catch(() => undefined)
    }
  }

  /**
   * Opens the connection to a replica `#setReplicas` queued, and makes it a candidate of the read
   * rotation; `false` when none is opened (closed meanwhile, the primary now, an invalid address).
   */
  #openReplica(replica: NodeAddress): boolean {
    const rotation = this.#rotation
    if (this.#life.closed || rotation === undefined || key(replica) === this.#primaryKey) {
      return false
    }
    const node = this.#usable(replica)
    if (node !== undefined) rotation.add(node)
    return node !== undefined
  }

  /**
   * The connection to the data node at `node` (opened once per `host:port`); `undefined` for an
   * address no server can have (`invalidAddress`), or one the URL of a connection refuses.
   */
  #usable(node: NodeAddress): StandaloneConnection | undefined {
    if (invalidAddress(node) !== undefined) return undefined
    const id = key(node)
    let connection = this.#nodes.get(id)
    if (connection === undefined) {
      try {
        connection = this.#connect(node)
      } catch {
        return undefined
      }
      this.#nodes.set(id, connection)
    }
    return connection
  }

  /**
   * Asks the sentinels where the primary is. Discovered only once one named a primary with a
   * valid address: until then calls reject at once (the lifecycle's breaker) and the sentinels
   * are asked again in the background.
   */
  readonly #discover = async (): Promise<void> => {
    for (const root of this.#roots) this.#watch.add(root)
    const view = await this.#watch.first(this.#connectTimeoutMs, this.#where)
    // Closed meanwhile: the discovery ends, unless it carries calls made before the close.
    if (this.#life.closed && !this.#life.carrying) throw this.#life.closedError()
    if (this.#discovered) return
    // The first to answer names no valid primary: the others may.
    const views =
      invalidAddress(view.master) === undefined ? [view] : [view, ...(await this.#watch.all())]
    if (this.#life.closed && !this.#life.carrying) throw this.#life.closedError()
    if (this.#discovered) return
    this.#apply(views, performance.now())
    if (this.#primaryKey === undefined) throw invalidPrimaryError(this.#name, view)
    this.#discovered = true
    this.#life.breaker.up()
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
