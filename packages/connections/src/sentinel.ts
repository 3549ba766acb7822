// The sentinel connection: its calls, its discovery of the primary, its tracking and its close.
// Where each call goes is `SentinelRoutes` (`_sentinel-route.ts`); the data nodes in use (the
// primary, the replicas) are `SentinelNodes` (`_sentinel-nodes.ts`);
// what the sentinels say is followed by `SentinelEvents` (`_sentinel-events.ts`); a node-redis
// `RedisSentinel` of the user's is served by `GivenSentinelConnection` (`_given-sentinel.ts`).
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
import { FailoverGate } from './_failover.ts'
import { GivenSentinelConnection } from './_given-sentinel.ts'
import { Lifecycle } from './_lifecycle.ts'
import { type Credentials, checkUserHasPassword } from './_options.ts'
import { buildingFrom, ownConnectionOptions } from './_own.ts'
import { ReplicaRotation } from './_rotation.ts'
import { firstHealthy } from './_rotation-reads.ts'
import { scriptEpoch } from './_scripts.ts'
import { invalidAddress, invalidPrimaryError } from './_sentinel-address.ts'
import { SentinelEvents, sentinelClientOptions } from './_sentinel-events.ts'
import { dataNodeConnector, nodeKey, SentinelNodes } from './_sentinel-nodes.ts'
import { isRedisSentinel, type SentinelOptions, sentinelSettings } from './_sentinel-options.ts'
import { SentinelRoutes } from './_sentinel-route.ts'
import { type NodeAddress, SentinelWatch } from './_sentinels.ts'
import { TrackingGate, TrackingGroup } from './_tracking-group.ts'
import type { StandaloneConnection } from './standalone.ts'

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
export function sentinel(given: SentinelOptions = {}): Connection {
  return buildingFrom(given, () => {
    const options = ownConnectionOptions(given)
    return isRedisSentinel(options.location)
      ? new GivenSentinelConnection(options)
      : new SentinelConnection(options)
  })
}

class SentinelConnection implements Connection {
  /** Changes when a node may have lost its Lua scripts (see `Connection.generation`). */
  get generation(): number {
    return scriptEpoch()
  }

  /**
   * Changes when the primary may have been replaced: another one (`SentinelNodes.switchTo`), or
   * the same one reconnected. What a cursor walk watches (`serverOf`).
   */
  [SERVER_EPOCH](): number {
    const nodes = this.#nodes
    return nodes.switches * 2 ** 32 + (nodes.primary?.[SERVER_EPOCH]() ?? 0)
  }

  readonly #where: string
  /** The service name (`sentinel monitor <name> …`), for messages. */
  readonly #name: string
  readonly #watch: SentinelWatch
  readonly #roots: NodeAddress[]
  readonly #connectTimeoutMs: number
  /** The failovers under way, where writes go through them, and the writes that wait. */
  readonly #failover: FailoverGate
  /** Where each call goes: the primary, a replica of the rotation (`_sentinel-route.ts`). */
  readonly #routes: SentinelRoutes
  readonly #secrets: string[]
  /** `undefined` with `replicaPoolSize: 0`: reads run on the primary. */
  readonly #rotation: ReplicaRotation | undefined
  /** The primary and the replicas in use: every data node cachex is connected to. */
  readonly #nodes: SentinelNodes
  /** Follows the sentinels' notifications and views. */
  readonly #events: SentinelEvents
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
    this.#where = `sentinel service '${name}' (sentinels ${this.#roots.map(nodeKey).join(', ')})`
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
    // How long a write waits for the new primary with `waitForPrimary`, and a read with no
    // replica to run on for a live node while the sentinels fail a dead primary over.
    const waitMs = deadlines.timeoutMs ?? connectTimeoutMs
    this.#failover = new FailoverGate({
      waitForPrimary: settings.waitForPrimary,
      waitMs,
      where: this.#where,
      primary: () => this.#nodes.primary,
      primaryKey: () => this.#nodes.primaryKey,
      poll: () => this.#events.refreshSoon(),
      closed: () => this.#life.closed,
      closedError: () => this.#life.closedError(),
    })

    this.#watch = new SentinelWatch({
      name,
      clientOptions: sentinelClientOptions(extra, connectTimeoutMs),
      queryTimeoutMs: deadlines.timeoutMs ?? connectTimeoutMs,
      secrets: this.#secrets,
      onEvent: (event) => this.#events.onEvent(event),
      onReconnect: () => this.#events.refreshSoon(),
    })
    if (replicaPoolSize > 0) {
      const gate = this.#gate
      this.#rotation = new ReplicaRotation({
        admits: (node) => gate.admits(node),
        // What the tier read from a replica that left the rotation goes (see `TrackingGate.left`).
        onOut: (node) => gate.left(node),
        // A replica cut off from its primary keeps serving reads only while there is no primary
        // to write to: its data is then the newest there is.
        primaryUp: () => {
          const primary = this.#nodes.primary
          return !this.#failover.failingOver() && primary !== undefined && !primary.isDown
        },
        benchMs: connectTimeoutMs,
      })
    }
    this.#routes = new SentinelRoutes({
      rotation: this.#rotation,
      failover: this.#failover,
      primary: () => this.#nodes.primary as StandaloneConnection,
      closed: () => this.#life.closed,
      waitMs,
    })
    this.#nodes = new SentinelNodes({
      connect: dataNodeConnector(options, address, password),
      rotation: this.#rotation,
      failover: this.#failover,
      closed: () => this.#life.closed,
      reset: () => {
        for (const group of this.#trackings) group.reset()
      },
      retrack: () => this.#retrack(),
    })
    this.#events = new SentinelEvents({
      watch: this.#watch,
      failover: this.#failover,
      nodes: this.#nodes,
      scanIntervalMs: settings.scanIntervalMs,
      closed: () => this.#life.closed,
      discovered: () => this.#discovered,
      retrack: () => this.#retrack(),
    })
  }

  command(args: RedisArgument[], route?: CommandRoute): Promise<unknown> {
    if (this.#life.open) return this.#routes.command(args, route)
    return this.#life.whenReady().then(() => this.#routes.command(args, route))
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
    return this.#routes.batch(commands, route)
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
    const primary = this.#nodes.primary as StandaloneConnection
    if (options.write !== false || rotation === undefined) return primary.client()
    return (await firstHealthy(rotation, () => this.#life.closed)) ?? primary.client()
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
      gated: (node) => node !== this.#nodes.primary,
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
    this.#events.stop()
    this.#watch.close()
    await this.#nodes.close()
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
    this.#events.apply(views, performance.now())
    if (this.#nodes.primaryKey === undefined) throw invalidPrimaryError(this.#name, view)
    this.#discovered = true
    this.#life.breaker.up()
    // The other sentinels may know a newer configuration.
    this.#events.refreshSoon()
    this.#events.scan()
  }

  #text(error: unknown): string {
    return toCachexError(error, this.#secrets).message
  }
}
