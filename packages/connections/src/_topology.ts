import { ConnectionError, type RedisArgument } from '@cachex/core'
import { markUnsent } from '@cachex/core/internal'
import { rejectAfterTurn } from './_after-turn.ts'
import type { BlockingClient } from './_blocking.ts'
import { namingNode } from './_cluster-errors.ts'
import {
  NodeClients,
  type NodeClientsOptions,
  type NodeHandle,
  type NodeRedisClusterLike,
} from './_cluster-nodes.ts'
import { type HealthContext, probe } from './_node-health.ts'
import { openSender, sendOpen } from './_node-send.ts'
import type { ReplyForm } from './_options.ts'
import { nodesChanged } from './_scripts.ts'
import {
  buildTable,
  nodesOf,
  type Range,
  rangesOfCluster,
  type Shard,
  setAllReaders,
  setReadersOf,
  tableChanged,
} from './_slot-map.ts'
import { type MapUse, SlotRefresh, seedHost } from './_slot-refresh.ts'
import { SLOT_COUNT } from './_slots.ts'
import { NodeWatch, refusesAccess } from './_topology-watch.ts'
import type { TrackingClientLike } from './_tracking.ts'
import { execChain } from './_transaction.ts'

export { REPLICA_CHECK_MS, WATCH_INTERVAL_MS } from './_topology-watch.ts'

/** A node's sender. */
type NodeSenderOf = NonNullable<NodeHandle['sender']>

/** Options of a `Topology`: the cluster and its nodes' options, and the bounds. */
export interface TopologyOptions
  extends Pick<
    NodeClientsOptions,
    'cluster' | 'nodeDefaults' | 'nodeAddressMap' | 'readFromReplicas' | 'where'
  > {
  /** A node whose probe went unanswered this long is down (`socketTimeout`). */
  downAfterMs: number
  /** How long one `CLUSTER SLOTS` (or `INFO`) may take, and cachex's own connects. */
  askTimeoutMs: number
}

/** An idle client cachex opened for a node outside the slot map is closed after this long. */
const IDLE_CLIENT_MS = 60_000

/**
 * cachex's view of a Redis Cluster: which node serves each slot, and how each node is doing.
 *
 * node-redis keeps a slot map too, but refreshes it only on `MOVED` and after a node has been
 * reconnecting for a while: not when a node freezes (its connection stays open), and its
 * discovery has no bound of its own (a frozen node asked for the map hangs it). cachex's map
 * starts as node-redis's and is refreshed by cachex — `CLUSTER SLOTS` asked, within a bound, of a
 * primary that answers — whenever something goes wrong: a call times out or stalls, a node's
 * connection fails, a reply says `MOVED` or `CLUSTERDOWN`. While a node is in trouble, a watch
 * (`NodeWatch`, in `_topology-watch.ts`) runs every 200 ms: it probes every node with `PING` (one
 * at a time per node), marks down a node whose probe went unanswered for `socketTimeout` (its
 * calls then fail at once), and refreshes the map, so that a replica promoted in place of a dead
 * or frozen primary is used within a few hundred milliseconds.
 *
 * Clients: cachex uses node-redis's client of each node; for a node node-redis does not know (a
 * primary just promoted, a new primary that owns no slot yet and receives an `ASK`), it opens its
 * own with the cluster's node options, and closes it once node-redis has one.
 *
 * Replica reads (`readFromReplicas`): a replica enters the read rotation only once it reports
 * `role:slave` with `master_link_status:up` in `INFO replication` (checked every second and
 * whenever its connection comes back), and leaves it when that changes or its connection drops;
 * while its primary is down, a replica that had synchronised keeps serving what it has.
 */
export class Topology {
  /** The shard of each slot; the hot path reads it. */
  table: Array<Shard | undefined> = []
  readonly #options: TopologyOptions
  readonly #cluster: NodeRedisClusterLike
  /** The node handles and their clients. */
  readonly #nodes: NodeClients
  /** What the probes and replica checks use. */
  readonly #health: HealthContext
  #shards = new Map<string, Shard>()
  #built = false
  #closed = false
  /** The listeners on node-redis's cluster, removed on close. */
  readonly #listeners: Array<[string, (...args: unknown[]) => void]>
  /** The slot-map refreshes (`CLUSTER SLOTS`). */
  readonly #refresher: SlotRefresh
  /** The watch rounds, the nodes' connection events and the replica checks. */
  readonly #watch: NodeWatch

  constructor(options: TopologyOptions) {
    this.#options = options
    this.#cluster = options.cluster
    this.#nodes = new NodeClients({
      cluster: options.cluster,
      nodeDefaults: options.nodeDefaults,
      nodeAddressMap: options.nodeAddressMap,
      readFromReplicas: options.readFromReplicas,
      closeTimeoutMs: options.downAfterMs,
      connectTimeoutMs: options.askTimeoutMs,
      where: options.where,
      onTrouble: (node, error) => this.#watch.onNodeTrouble(node, error),
      onReady: (node) => this.#watch.onNodeReady(node),
      onClientChange: (node) => {
        if (node.replica !== undefined) setReadersOf(this.#shards, node)
      },
    })
    const nodes = this.#nodes
    this.#health = {
      nodes,
      shards: () => this.#shards,
      askTimeoutMs: options.askTimeoutMs,
      onOut: (node) => this.onReaderOut?.(node),
    }
    this.#refresher = new SlotRefresh({
      cluster: options.cluster,
      nodes,
      askTimeoutMs: options.askTimeoutMs,
      closed: () => this.#closed,
      built: () => this.#built,
      shards: () => this.#shards,
      use: (ranges) => this.#use(ranges),
    })
    const watch = new NodeWatch({
      nodes,
      health: this.#health,
      downAfterMs: options.downAfterMs,
      readFromReplicas: options.readFromReplicas,
      nodeDefaults: options.nodeDefaults,
      closed: () => this.#closed,
      built: () => this.#built,
      refresh: () => this.refresh(),
      downError: (node) => this.downError(node),
    })
    this.#watch = watch
    // node-redis's node clients: a lost connection is a reason to look at the slot map.
    this.#listeners = [
      ['node-error', (error, info) => watch.onNodeTrouble(nodes.bySocket(info), error)],
      ['node-reconnecting', (info) => watch.onNodeTrouble(nodes.bySocket(info))],
      ['node-ready', (info) => watch.onNodeReady(nodes.bySocket(info))],
    ]
    for (const [event, listener] of this.#listeners) options.cluster.on(event, listener)
  }

  /** Called after every change of the slot map (the local tier re-tracks the nodes). */
  onChange: (() => void) | undefined

  /**
   * Called before a command is sent to the node a redirection named (`MOVED`, `ASK`): the local
   * tier tracks it too, if it does not yet (a new primary importing a slot owns none until the
   * migration ends, and a `MOVED` changes the map for one slot only until the refresh).
   */
  onRedirect: ((node: NodeHandle) => void) | undefined

  /**
   * Called when a replica check takes a replica that served reads out of its shard's read
   * rotation (its link to the primary is down, or it is no replica any more): the local tier
   * drops what it read from it, which a replica cut off from its primary never reports written.
   */
  onReaderOut: ((node: NodeHandle) => void) | undefined

  /** The node an `ASK` names, at `address`: reported to `onRedirect` (a command goes there next). */
  askTarget(address: string): NodeHandle {
    const node = this.handle(address)
    this.onRedirect?.(node)
    return node
  }

  /** The nodes reads may go to: every primary, and the replicas with `readFromReplicas`. */
  readers(): NodeHandle[] {
    return this.#options.readFromReplicas ? [...nodesOf(this.#shards)] : this.primaries()
  }

  /** `node`'s eligibility for reads changed (its tracking): the read rotations follow. */
  readersChanged(node: NodeHandle): void {
    setReadersOf(this.#shards, node)
  }

  /** A new client to `node` for blocking commands (see `NodeClients.blockingClient`). */
  blockingClient(node: NodeHandle): BlockingClient | undefined {
    return this.#nodes.blockingClient(node)
  }

  /** A new tracking client to `node` (see `NodeClients.trackingClient`). */
  trackingClient(node: NodeHandle): TrackingClientLike | undefined {
    return this.#nodes.trackingClient(node)
  }

  /** Whether the map was built (from node-redis's, once it connected). */
  get built(): boolean {
    return this.#built
  }

  /** Builds the map from node-redis's, once: when the cluster connected. */
  build(): void {
    if (this.#built || this.#closed) return
    const withReplicas = this.#options.readFromReplicas
    const ranges = rangesOfCluster(this.#cluster.slots, withReplicas, seedHost(this.#cluster))
    if (ranges.length === 0) return
    this.#built = true
    this.#apply(ranges)
    if (this.#options.readFromReplicas) this.#watch.startReplicaChecks()
  }

  /** The primaries of the map, one handle each. */
  primaries(): NodeHandle[] {
    return [...new Set([...this.#shards.values()].map((shard) => shard.master))]
  }

  /** The handle of the node at `address` (`host:port`), made when it is new. */
  handle(address: string): NodeHandle {
    return this.#nodes.handle(address)
  }

  /**
   * Sends `args` to `node`, failing at once when it is down. Not the hot path (a call to a node
   * of the map goes through its sender): a connection dropped under it names `node` (`noteNode`).
   */
  sendTo(node: NodeHandle, args: ReadonlyArray<RedisArgument>, text: ReplyForm): Promise<unknown> {
    if (node.down) return rejectAfterTurn(this.downError(node))
    return namingNode(
      this.#sendOpen(node, (sender) => sender.as(text).sendCommand(args)),
      node,
    )
  }

  /**
   * Sends `args` to `node` right after `ASKING`, on one chain (nothing between them): how a
   * command follows an `ASK` to the node that imports its slot.
   */
  async asking(
    node: NodeHandle,
    args: ReadonlyArray<RedisArgument>,
    text: ReplyForm,
  ): Promise<unknown> {
    if (node.down) return rejectAfterTurn(this.downError(node))
    node.usedAt = performance.now()
    const sender = (await openSender(this.#nodes, node)).as(text)
    const chain = { chainId: Symbol('ASKING') }
    const asking = sender.sendCommand(['ASKING'], chain)
    const reply = sender.sendCommand(args, chain)
    // Its failure shows in the reply (no ASKING, no answer to the command).
    asking.catch(() => {})
    return namingNode(reply, node)
  }

  /**
   * Runs `commands` as one `MULTI … EXEC` chain on `node` (see `execChain`), after `ASKING` with
   * `asking`; connects first when needed, fails at once when it is down.
   */
  async transaction(
    node: NodeHandle,
    commands: readonly RedisArgument[][],
    text: ReplyForm,
    mapError: (error: unknown) => Error,
    asking = false,
  ): Promise<unknown[]> {
    if (node.down) return rejectAfterTurn(this.downError(node))
    node.usedAt = performance.now()
    const run = (sender: NodeSenderOf) => execChain(sender.as(text), commands, mapError, asking)
    return namingNode(this.#sendOpen(node, run), node)
  }

  /** `send` with `node`'s open sender (see `sendOpen`): never node-redis's closed client. */
  #sendOpen<T>(node: NodeHandle, send: (sender: NodeSenderOf) => Promise<T>): Promise<T> {
    return sendOpen(this.#nodes, node, send, () => this.#closed, this.#options.where)
  }

  /**
   * The error of a call to a node known to be down, made before anything is sent: marked unsent
   * (`markUnsent`), so that a lock's release refused so is told from one that may have run.
   */
  downError(node: NodeHandle): ConnectionError {
    const at = `the cluster node ${node.address} of ${this.#options.where}`
    // A refusal: not the failover wording, as no promotion fixes a user the node does not accept
    // (nor a node that is full); the ACL advice only for a refused user or password.
    const acl = refusesAccess(node)
      ? '; ACL users and passwords are set on each node of a cluster — check them on this one'
      : ''
    const message = node.refused
      ? `${at} refuses the connection: ${node.downReason}${acl} (its calls fail at once until it accepts the connection)`
      : `${at} is down (${node.downReason}); not waiting — the cluster moves its slots to a replica when it promotes one, and cachex follows`
    return markUnsent(new ConnectionError(message))
  }

  /**
   * `MOVED <slot> <address>`: the slot is served by `address` now. The map says so at once for
   * that slot, and the whole map is refreshed soon; `onRedirect` is told of the node.
   */
  moved(slot: number, address: string): NodeHandle {
    const node = this.handle(address)
    let shard = this.#shards.get(address)
    if (shard === undefined) {
      shard = { master: node, replicas: [], readers: [node], turn: 0 }
      this.#shards.set(address, shard)
    }
    if (this.table.length === 0) this.table = new Array<Shard | undefined>(SLOT_COUNT)
    this.table[slot] = shard
    void this.refresh()
    this.onRedirect?.(node)
    return node
  }

  /**
   * Something went wrong (a timeout, a stall, a lost connection, `CLUSTERDOWN`): watch the nodes
   * and the slot map — at least one round, and more while a node is in trouble.
   */
  watch(): void {
    this.#watch.watch()
  }

  /** node-redis closed a client under cachex: forget the closed clients, so they are resolved again. */
  forgetClosed(): void {
    this.#nodes.forgetClosed()
  }

  /**
   * Refreshes the map from a primary that answers (rate-limited: one at a time, 200 ms apart).
   * Never rejects; the map stays as it is when no node answers. The nodes a new map brings back
   * that were marked down are probed before it resolves (see `MapUse.back`).
   */
  refresh(): Promise<void> {
    return this.#refresher.refresh()
  }

  /**
   * A call found no node for its slot: the map is asked again, of the seeds too (see
   * `SlotRefresh.rediscover`).
   */
  rediscover(): void {
    this.#refresher.rediscover()
  }

  /** Stops the watch and the checks, and closes the clients cachex opened. */
  async close(): Promise<void> {
    this.#closed = true
    this.#watch.stop()
    for (const [event, listener] of this.#listeners) this.#cluster.off?.(event, listener)
    await this.#nodes.close()
  }

  /**
   * A valid map read by a refresh: applied (built, the first time). The nodes it brings back that
   * were marked down are probed at once, for the refresh to wait for.
   */
  #use(ranges: Range[]): MapUse {
    const first = !this.#built
    this.#built = true
    const changed = this.#apply(ranges) || first
    if (first && this.#options.readFromReplicas) this.#watch.startReplicaChecks()
    const back: Promise<void>[] = []
    if (changed) {
      for (const node of nodesOf(this.#shards)) {
        if (node.down && !node.refused && node.probeSince === 0)
          back.push(probe(this.#health, node))
      }
    }
    return { changed, back: back.length > 0 ? Promise.all(back).then(() => {}) : undefined }
  }

  /** Makes the map from `ranges`; whether it changed. */
  #apply(ranges: Range[]): boolean {
    const { table, shards } = buildTable(
      ranges,
      (address) => this.handle(address),
      this.#options.readFromReplicas,
    )
    if (!tableChanged(this.table, table)) return false
    this.#shards = shards
    setAllReaders(shards)
    this.table = table
    const inUse = nodesOf(shards)
    let stale = false
    for (const node of inUse) {
      // A node marked down earlier that is back in the map: probe it again before long.
      if (node.down) stale = true
      // Connect the nodes now, not on the first call that needs them.
      if (node.sender === undefined) this.#nodes.connect(node).catch(() => {})
      if (node.replica === undefined && shards.get(node.address) === undefined) {
        void this.#watch.checkReplica(node)
      }
    }
    // Clients cachex opened for nodes that left the map and are not used any more.
    this.#nodes.closeIdle(inUse, IDLE_CLIENT_MS)
    if (stale) this.watch()
    // Slots served by other nodes (a failover, a migration): those may not have the scripts.
    nodesChanged()
    this.onChange?.()
    return true
  }
}
