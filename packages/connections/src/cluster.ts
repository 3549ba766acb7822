import {
  type CommandRoute,
  type Connection,
  type RedisArgument,
  TimeoutError,
  type Tracking,
  type TrackingListener,
} from '@cachex/core'
import { batchWithin } from './_batch-within.ts'
import { ClusterBlocking } from './_cluster-blocking.ts'
import { ClusterCalls } from './_cluster-calls.ts'
import { closeCluster } from './_cluster-close.ts'
import { ClusterFailures } from './_cluster-describe.ts'
import type { NodeRedisClusterLike } from './_cluster-nodes.ts'
import { type ClusterOptions, clusterFromSeeds, isNodeRedisCluster } from './_cluster-options.ts'
import { ClusterRoute, clusterCallError } from './_cluster-route.ts'
import { flushNodes, type ScanSource, scanCluster } from './_cluster-scan.ts'
import { ClusterTracking } from './_cluster-tracking.ts'
import { mapCommands } from './_command-shape.ts'
import { callBounds, connectBounded, SharedAttempt } from './_connect.ts'
import type { Deadlines } from './_deadlines.ts'
import { ownerClosedError } from './_errors.ts'
import { Lifecycle } from './_lifecycle.ts'
import { Listeners } from './_listeners.ts'
import { Sender } from './_options.ts'
import { buildingFrom, ownConnectionOptions } from './_own.ts'
import { tryAgainBudgetMs } from './_redirects.ts'
import { PASSWORD_IN_CLUSTER, PASSWORD_IN_URL } from './_retry.ts'
import { scriptEpoch } from './_scripts.ts'
import { keySlot } from './_slots.ts'
import { Topology } from './_topology.ts'
import { transactionKey } from './_transaction.ts'

export type {
  NodeRedisClusterLike,
  NodeRedisClusterNodeLike,
  NodeRedisNodeClientLike,
} from './_cluster-nodes.ts'
export type { ClusterOptions } from './_cluster-options.ts'
export { isNodeRedisCluster } from './_cluster-options.ts'

/** Without `socketTimeout`: how long a node may go unanswered before it counts as down. */
const DEFAULT_DOWN_AFTER_MS = 5000

const READONLY: CommandRoute = { readonly: true }
const DIGITS: CommandRoute = { digits: true }
const READONLY_DIGITS: CommandRoute = { readonly: true, digits: true }

/**
 * A connection to a Redis Cluster. Discovers the cluster from its seed nodes on first use,
 * routes every command to the primary of its key's hash slot, and follows the cluster when slots
 * move or a replica is promoted. Calls are bounded as in `standalone`: waiting for the cluster by
 * `socketConnectTimeout`, each call by `socketTimeout`, with one timer per connection, and
 * `maxInFlightBytes` caps what awaits replies. Once the discovery failed, calls reject with a
 * `ConnectionError` at once while it is retried in the background (`reconnectDelay` apart: 100
 * ms, doubling up to 2 s). A discovery the seeds refused (a wrong password, an unknown user:
 * each try is a failed login in every seed's ACL log) is tried again 10 s later, then twice as
 * late each time up to every 5 minutes, as on one server; a call made 10 s or more after the
 * last refusal tries once itself, so a password fixed on the server is picked up by the next
 * call.
 *
 * While the cluster changes: `MOVED` and `ASK` are followed to any node (connecting to it when
 * node-redis has no client for it, such as a new primary that owns no slot yet), and `TRYAGAIN`
 * (a multi-key command on a slot being migrated) is retried within `socketTimeout`. cachex keeps
 * its own slot map and, when a call times out or waits long, a node's connection fails or a reply
 * says `CLUSTERDOWN`, probes the nodes and asks a primary that answers for the map, every 200 ms
 * while a node is in trouble: a node silent for `socketTimeout` fails its calls at once (a dead
 * one already does: its client has no offline queue), and the replica promoted in its place gets
 * its slots as soon as the cluster says so.
 *
 * Multi-key commands are split by slot and the parts run in parallel, one command per slot,
 * pipelined per node: `MGET` (the replies come back in the order of the keys), `MSET`, and
 * `DEL`/`UNLINK`/`EXISTS`/`TOUCH` (the counts are summed), as redis-py's `mget_nonatomic` and
 * `mset_nonatomic` do. Such a command is atomic only among keys of one slot, and a part of a read
 * or a delete that keeps meeting `TRYAGAIN` runs key by key. Commands that must
 * stay atomic across their keys — `RENAME` (`incrVersion`), `LMOVE`, scripts — run as they are
 * when their keys share a slot, and otherwise reject with a `CrossSlotError` that explains hash
 * tags.
 */
export function cluster(options: ClusterOptions = {}): Connection {
  // Its own properties only: a polluted `Object.prototype.readFromReplicas` is no option given.
  return buildingFrom(options, () => new ClusterConnection(ownConnectionOptions(options)))
}

class ClusterConnection implements Connection {
  readonly routesBySlot = true
  /** Changes when a node may have lost its Lua scripts (see `Connection.generation`). */
  get generation(): number {
    return scriptEpoch()
  }

  readonly #cluster: NodeRedisClusterLike
  readonly #closeClient: boolean
  /**
   * For a cluster of the user's, whether it was open once: closed since, its owner closed it, and
   * it is not opened again (reopened, it would keep the owner's process alive after its shutdown).
   */
  #givenOpened: boolean | undefined
  readonly #connectTimeoutMs: number
  readonly #deadlines: Deadlines
  readonly #where: string
  /** The passwords, and what its failures say (`_cluster-describe.ts`). */
  readonly #failures: ClusterFailures
  readonly #connecting = new SharedAttempt()
  /** The discovery cachex started, if any. */
  #opening: Promise<unknown> | undefined
  /** Closed or not; the guard every call passes (a failed discovery trips its breaker). */
  readonly #life: Lifecycle
  /**
   * The first `close()`'s work: a later call returns it, so that it too resolves only once the
   * calls made before the first are answered.
   */
  #closing: Promise<void> | undefined
  #lastError: unknown
  /** The listeners put on the user's object (or cachex's own), taken off when it is let go. */
  readonly #listeners = new Listeners()
  /** cachex's slot map and node health: what calls are routed by. */
  readonly #topology: Topology
  /** The tracking groups of `track`, closed with the connection. */
  readonly #tracking: ClusterTracking
  /** Where calls go: cachex's map, or node-redis's routing (see `ClusterRoute`). */
  readonly #route: ClusterRoute
  /** The dedicated clients of blocking commands (see `ClusterCalls`). */
  readonly #blocking: ClusterBlocking
  /** Commands, transactions and a node's commands, routed and bounded. */
  readonly #calls: ClusterCalls

  constructor(options: ClusterOptions) {
    const { connectTimeoutMs, deadlines } = callBounds(options)
    this.#connectTimeoutMs = connectTimeoutMs
    this.#deadlines = deadlines
    const location = options.location
    if (isNodeRedisCluster(location)) {
      this.#cluster = location
      this.#closeClient = options.closeConnection ?? false
      this.#givenOpened = location.isOpen === true
      this.#where = 'the given cluster'
      this.#failures = new ClusterFailures({
        secrets: options.password ? [options.password] : [],
        passwordGoes: PASSWORD_IN_CLUSTER,
        plainAdvice: undefined,
      })
    } else {
      const made = clusterFromSeeds(options, this.#connectTimeoutMs)
      this.#cluster = made.cluster
      this.#where = made.where
      this.#failures = new ClusterFailures({
        secrets: made.secrets,
        passwordGoes: PASSWORD_IN_URL,
        plainAdvice: made.plainAdvice,
      })
      this.#closeClient = true
    }
    this.#life = new Lifecycle({
      where: this.#where,
      ready: () => this.#cluster.isReady,
      connect: () => this.#connect(),
      describe: (error) => this.#failures.describe(error),
      secrets: this.#failures.secrets,
      stopped: () => (this.#closedByOwner() ? ownerClosedError(this.#where, 'cluster') : undefined),
    })
    // Each discovery logs in on the seeds anew: one the seeds refused (their ACL log gets a failed
    // login each time) is tried again 10 s later, doubling up to 5 minutes, not every 2 s; an
    // unreachable or timed-out one keeps the short steps.
    this.#life.breaker.refusal = (cause) =>
      this.#failures.seedRefused && !(cause instanceof TimeoutError)
    const cluster = this.#cluster
    // The nodes node-redis does not know are reached with its own node options.
    const given = cluster._options
    const redirects = (given as { maxCommandRedirections?: unknown } | undefined)
      ?.maxCommandRedirections
    const timeoutMs = this.#deadlines.timeoutMs
    const readFromReplicas = isNodeRedisCluster(location)
      ? (given as { useReplicas?: boolean } | undefined)?.useReplicas === true
      : (options.readFromReplicas ?? false)
    this.#topology = new Topology({
      cluster,
      nodeDefaults:
        given === undefined ? undefined : ((given.defaults ?? {}) as Record<string, unknown>),
      nodeAddressMap: given?.nodeAddressMap,
      readFromReplicas,
      downAfterMs: timeoutMs ?? DEFAULT_DOWN_AFTER_MS,
      askTimeoutMs: Math.min(this.#connectTimeoutMs, timeoutMs ?? this.#connectTimeoutMs),
      where: this.#where,
    })
    this.#tracking = new ClusterTracking(this.#topology, readFromReplicas)
    this.#route = new ClusterRoute({
      cluster,
      // The cluster seen through cachex's command options, for the commands node-redis routes.
      router: new Sender(cluster, (options) => ({
        sendCommand: (key, readonly, args) => cluster.sendCommand(key, readonly, args, options),
      })),
      topology: this.#topology,
      where: this.#where,
      closed: () => this.#life.closed,
      maxRedirects: typeof redirects === 'number' && redirects > 0 ? redirects : 16,
      retryBudgetMs: tryAgainBudgetMs(timeoutMs),
    })
    this.#blocking = new ClusterBlocking({
      redirects: this.#route.redirects,
      deadlines: this.#deadlines,
      connectTimeoutMs: this.#connectTimeoutMs,
      mapError: this.#mapError,
    })
    this.#calls = new ClusterCalls({
      route: this.#route,
      topology: this.#topology,
      deadlines: this.#deadlines,
      blocking: this.#blocking,
      // The nodes' options are known: dedicated clients can be opened.
      dedicatedBlocking: given !== undefined,
      where: this.#where,
      mapError: this.#mapError,
    })
    // A call that timed out or waits long: a node may be frozen; watch the nodes and the map.
    this.#deadlines.onExpire = () => this.#topology.watch()
    this.#deadlines.onStall = () => this.#topology.watch()
    // An 'error' event without a listener crashes the process; remember it for messages instead.
    this.#listeners.add(this.#cluster, 'error', (error: unknown) => {
      this.#lastError = error
      this.#failures.emitted(error)
    })
    // The slot map is known and every primary reached, whoever started the discovery.
    this.#listeners.add(this.#cluster, 'connect', () => {
      this.#failures.connected()
      this.#life.breaker.up()
      this.#topology.build()
    })
  }

  command(args: RedisArgument[], route?: CommandRoute): Promise<unknown> {
    if (this.#life.open) return this.#calls.run(args, route)
    return this.#life.whenReady().then(() => this.#calls.run(args, route))
  }

  async batch(commands: RedisArgument[][], route?: CommandRoute): Promise<unknown[]> {
    // Sent in this tick when the connection is open: a call made after it must not overtake it.
    if (!this.#life.open) await this.#life.whenReady()
    // Each command goes to the node of its own key (`route.key` names only the first command's),
    // in one write per node: one round trip. Weighed whole against maxInFlightBytes (the whole
    // cluster connection's), as one command (`batchWithin`), as on one server.
    const readonly = route?.readonly === true
    let each = readonly ? READONLY : undefined
    if (route?.digits === true) each = readonly ? READONLY_DIGITS : DIGITS
    return batchWithin(this.#deadlines, commands, this.#where, route?.callers, (all, batch) => {
      // Reads of one batch that land on one shard go to one of its nodes, not round robin: GET
      // and PTTL of a key must see the same copy of it.
      const send = () =>
        mapCommands(all, (args) =>
          this.#calls.run(args, each, batch).catch((error: Error) => error),
        )
      return readonly ? this.#route.pinned(send) : send()
    })
  }

  /**
   * The commands as one `MULTI … EXEC` on the primary of their slot (see
   * `Connection.transaction`): keys in several slots reject with `CrossSlotError`, unsent.
   */
  async transaction(commands: RedisArgument[][], route?: CommandRoute): Promise<unknown[]> {
    const key = transactionKey(commands, this.#where)
    if (key instanceof Error) throw key
    if (!this.#life.open) await this.#life.whenReady()
    return this.#calls.transaction(key === undefined ? 0 : keySlot(key), commands, route)
  }

  /**
   * Tracks every node reads go to (each primary; each replica too with `readFromReplicas`) on a
   * RESP3 connection of its own (see `Connection.track`). Up while every primary's is; a replica
   * serves reads only while its own is up. A change of the slot map (resharding, failover)
   * empties the tier and tracks the nodes of the new map.
   */
  track(prefixes: readonly string[], listener: TrackingListener): Tracking {
    if (this.#life.closed) throw this.#life.closedError()
    const tracking = this.#tracking.track(prefixes, listener)
    if (!this.#topology.built) this.#life.whenReady().catch(() => undefined)
    return tracking
  }

  scan(pattern: string, count: number): AsyncIterable<Array<string | Buffer>> {
    return scanCluster(this.#walkSource, pattern, count)
  }

  flush(): Promise<void> {
    return flushNodes(this.#walkSource)
  }

  async client(): Promise<unknown> {
    await this.#life.whenReady()
    return this.#cluster
  }

  /**
   * Closes the connection (see `Connection.close`); a second call resolves with the first, once
   * what the first waits for is done.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  /** The work of the first `close()`. */
  async #shutdown(): Promise<void> {
    this.#life.close()
    this.#tracking.close()
    // Its blocking calls in flight are unblocked through the node clients, before they close.
    await this.#blocking.close()
    await this.#topology.close()
    const cluster = this.#cluster
    if (!this.#closeClient) {
      // A cluster of the user's, left open: it keeps none of this connection's listeners.
      this.#listeners.clear()
      return
    }
    if (!cluster.isOpen) return
    await closeCluster(cluster, {
      opening: this.#opening,
      connectTimeoutMs: this.#connectTimeoutMs,
      graceMs: this.#deadlines.timeoutMs ?? this.#connectTimeoutMs,
    })
  }

  /** What a walk of the keys asks of this connection (`scanCluster`, `flushNodes`). */
  readonly #walkSource: ScanSource = {
    ready: async () => {
      await this.#life.whenReady()
      this.#topology.build()
    },
    refresh: () => this.#topology.refresh(),
    primaries: () => this.#topology.primaries(),
    masterOf: (slot) => this.#topology.table[slot]?.master,
    handle: (address) => this.#topology.handle(address),
    onNode: (node, args) => this.#calls.onNode(node, args),
  }

  /** A call's failure as cachex words it: `ClosedError` only once closed (`clusterCallError`). */
  readonly #mapError = (error: unknown): Error =>
    clusterCallError(error, {
      where: this.#where,
      secrets: this.#failures.secrets,
      passwordGoes: this.#failures.passwordGoes,
      closed: () => this.#life.closed,
      closedError: () => this.#life.closedError(),
      stopped: () => (this.#closedByOwner() ? ownerClosedError(this.#where, 'cluster') : undefined),
    })

  /** Whether a cluster of the user's, open once, is closed now: by its owner. */
  #closedByOwner(): boolean {
    return this.#givenOpened === true && !this.#cluster.isOpen
  }

  /** Starts the discovery of `cluster` (cachex's own); `close()` waits for it to end. */
  #open(cluster: NodeRedisClusterLike): Promise<unknown> {
    this.#failures.seedRefused = false
    const opening = cluster.connect()
    this.#opening = opening
    return opening
  }

  /** Waits for the slot map, at most `socketConnectTimeout`; starts the discovery if needed. */
  #connect(): Promise<void> {
    return this.#connecting.run(() => {
      const cluster = this.#cluster
      if (this.#closedByOwner()) return Promise.reject(ownerClosedError(this.#where, 'cluster'))
      return connectBounded({
        emitter: cluster,
        where: this.#where,
        timeoutMs: this.#connectTimeoutMs,
        // The cluster emits 'connect' once it knows the slot map and reaches every primary.
        readyEvent: 'connect',
        opening: !cluster.isOpen
          ? this.#open(cluster)
          : cluster.isReady
            ? Promise.resolve()
            : undefined,
        lastError: () => this.#lastError,
        setLastError: (error) => {
          this.#lastError = error
        },
        describe: (error) => this.#failures.describe(error),
        secrets: this.#failures.secrets,
      }).then(() => {
        // Open now, by cachex's hand or its owner's: closed later, its owner closed it.
        if (this.#givenOpened === false) this.#givenOpened = true
      })
    })
  }
}
