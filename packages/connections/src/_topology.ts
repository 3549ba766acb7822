import { ConnectionError, type RedisArgument } from '@cachex/core'
import { createClient, ErrorReply } from '@redis/client'
import { closeWithin, within } from './_connect.ts'
import { isClientClosed } from './_errors.ts'
import { Sender } from './_options.ts'
import { SLOT_COUNT } from './_slots.ts'

/** What the cluster factory needs of a node-redis client connected to one cluster node. */
export interface NodeRedisNodeClientLike {
  sendCommand(args: ReadonlyArray<RedisArgument>, options?: object): Promise<unknown>
  withCommandOptions?(options: object): Pick<NodeRedisNodeClientLike, 'sendCommand'>
  /** Whether the client is usable (not closed); node-redis clients have it. */
  readonly isOpen?: boolean
  /** Whether the connection is up; node-redis clients have it. */
  readonly isReady?: boolean
}

/** One node of node-redis's slot map (`cluster.slots[n].master`, `cluster.masters[i]`). */
export interface NodeRedisClusterNodeLike {
  /** `host:port`. */
  readonly address?: string
  readonly host?: string
  readonly port?: number
  /** Whether node-redis connected to it in `READONLY` mode (a replica it reads from). */
  readonly readonly?: boolean
  /** The node's client once it is connected. */
  readonly client?: NodeRedisNodeClientLike
}

/** What the cluster factory needs of a node-redis cluster (`createCluster()`). */
export interface NodeRedisClusterLike {
  sendCommand(
    firstKey: RedisArgument | undefined,
    isReadonly: boolean | undefined,
    args: ReadonlyArray<RedisArgument>,
    options?: object,
  ): Promise<unknown>
  connect(): Promise<unknown>
  close(): Promise<unknown>
  destroy(): void
  on(event: string, listener: (...args: unknown[]) => void): unknown
  off?(event: string, listener: (...args: unknown[]) => void): unknown
  nodeClient(node: NodeRedisClusterNodeLike): Promise<NodeRedisNodeClientLike>
  getSlotRandomNode(slot: number): NodeRedisClusterNodeLike
  readonly slots: ReadonlyArray<
    { master: NodeRedisClusterNodeLike; replicas?: readonly NodeRedisClusterNodeLike[] } | undefined
  >
  readonly masters: readonly NodeRedisClusterNodeLike[]
  readonly isOpen: boolean
  readonly isReady: boolean
  /** node-redis's nodes by `host:port`: their clients are shared with cachex. */
  readonly nodeByAddress?: ReadonlyMap<string, NodeRedisClusterNodeLike>
  /** node-redis's options: `defaults` and `nodeAddressMap` for the nodes cachex connects to itself. */
  readonly _options?: { defaults?: object; nodeAddressMap?: unknown }
  /** node-redis's slot map, told to rediscover the cluster when cachex saw it change. */
  readonly _slots?: {
    rediscover?(startWith?: unknown, excludedAddresses?: ReadonlySet<string>): Promise<unknown>
  }
}

/** A node client seen through cachex's command options (bytes, or text). */
export type NodeSender = {
  sendCommand(args: ReadonlyArray<RedisArgument>, options?: object): Promise<unknown>
}

/** Replica health, from its own `INFO replication`. */
interface ReplicaState {
  /** `master_link_status:up`. */
  linkUp: boolean
  /** It synchronised with its primary since it started (its data is whole, if old). */
  synced: boolean
}

/** One cluster node as cachex routes to it. */
export interface NodeHandle {
  /** `host:port`, as the cluster announces it (`CLUSTER SLOTS`, `MOVED`, `ASK`). */
  readonly address: string
  readonly host: string
  readonly port: number
  /** The client that reaches it: node-redis's own for this node, or one cachex opened. */
  client: NodeRedisNodeClientLike | undefined
  /** `client` with cachex's command options (replies as bytes, or as text). */
  sender: Sender<NodeSender> | undefined
  /** cachex opened `client` (node-redis has none for this node) and closes it. */
  own: boolean
  /** The client is in `READONLY` mode: it may read from a replica. */
  readonlyClient: boolean
  /**
   * Known to be down: its probe went unanswered for `socketTimeout`, or its connection is lost.
   * Calls to it fail at once until it answers again.
   */
  down: boolean
  /** Why it is down, for messages. */
  downReason: string
  /** When the probe (`PING`) in flight was sent, or 0. */
  probeSince: number
  /** When it last failed (0 never): it is not asked for the slot map for a while after. */
  failedAt: number
  /** When a call last went to it outside the slot map (an `ASK` target), for closing idle clients. */
  usedAt: number
  /** For a replica cachex reads from: its health at the last check, `undefined` until known. */
  replica: ReplicaState | undefined
  /** `host:port` of its socket (after `nodeAddressMap`), to match node-redis's node events. */
  readonly socketKey: string
}

/** The nodes that serve a range of slots. */
export interface Shard {
  readonly master: NodeHandle
  readonly replicas: readonly NodeHandle[]
  /** Where reads go with `readFromReplicas`: the primary and its healthy replicas. */
  readers: NodeHandle[]
  /** Round-robin position in `readers`. */
  turn: number
}

/** A range of slots and its nodes, as `CLUSTER SLOTS` gives them. */
interface Range {
  from: number
  to: number
  master: { host: string; port: number }
  replicas: Array<{ host: string; port: number }>
}

/** Options of a `Topology`. */
export interface TopologyOptions {
  cluster: NodeRedisClusterLike
  /** node-redis client options for the nodes cachex connects to itself; `undefined`: it cannot. */
  nodeDefaults: Record<string, unknown> | undefined
  /** node-redis's `nodeAddressMap` (an object or a function), if any. */
  nodeAddressMap: unknown
  readFromReplicas: boolean
  /** A node whose probe went unanswered this long is down (`socketTimeout`). */
  downAfterMs: number
  /** How long one `CLUSTER SLOTS` (or `INFO`) may take, and cachex's own connects. */
  askTimeoutMs: number
  /** Where the cluster is, for messages. */
  where: string
}

/** How often the watch runs while a node is in trouble: probes, and a slot-map refresh. */
export const WATCH_INTERVAL_MS = 200
/** How long the watch waits for the probes' answers before it asks for the slot map. */
const PROBE_WAIT_MS = 100
/** The longest one node is given to answer `CLUSTER SLOTS` before the next is asked. */
const MAX_REFRESH_WAIT_MS = 1000
/** The least time between two slot-map refreshes. */
const REFRESH_INTERVAL_MS = 200
/** A node that failed is not asked for the slot map for this long (it may have restarted empty). */
const SOURCE_QUARANTINE_MS = 10_000
/** How often replicas cachex reads from are checked (`INFO replication`). */
export const REPLICA_CHECK_MS = 1000
/** Every how many replica checks the slot map is asked again, for new replicas. */
const REPLICA_DISCOVERY_TICKS = 5
/** An idle client cachex opened for a node outside the slot map is closed after this long. */
const IDLE_CLIENT_MS = 60_000

/** Each node client with cachex's command options, made once per client. */
const SENDERS = new WeakMap<NodeRedisNodeClientLike, Sender<NodeSender>>()

/**
 * `client` with cachex's command options set once: passing them on each call costs node-redis
 * more than half its throughput on one node client (measured: 200k against 460k GET/s).
 */
export function senderOf(client: NodeRedisNodeClientLike): Sender<NodeSender> {
  let sender = SENDERS.get(client)
  if (sender === undefined) {
    sender = new Sender<NodeSender>(client, (options) => ({
      sendCommand: (args, extra) =>
        client.sendCommand(args, extra === undefined ? options : { ...options, ...extra }),
    }))
    SENDERS.set(client, sender)
  }
  return sender
}

/**
 * cachex's view of a Redis Cluster: which node serves each slot, and how each node is doing.
 *
 * node-redis keeps a slot map too, but refreshes it only on `MOVED` and after a node has been
 * reconnecting for a while: not when a node freezes (its connection stays open), and its
 * discovery has no bound of its own (a frozen node asked for the map hangs it). cachex's map
 * starts as node-redis's and is refreshed by cachex — `CLUSTER SLOTS` asked, within a bound, of a
 * primary that answers — whenever something goes wrong: a call times out or stalls, a node's
 * connection fails, a reply says `MOVED` or `CLUSTERDOWN`. While a node is in trouble, a watch
 * runs every 200 ms: it probes every node with `PING` (one at a time per node), marks down a node
 * whose probe went unanswered for `socketTimeout` (its calls then fail at once), and refreshes the
 * map, so that a replica promoted in place of a dead or frozen primary is used within a few
 * hundred milliseconds.
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
  readonly #handles = new Map<string, NodeHandle>()
  readonly #connecting = new Map<NodeHandle, Promise<void>>()
  #shards = new Map<string, Shard>()
  #built = false
  #closed = false
  #watchTimer: NodeJS.Timeout | undefined
  /** A watch round is scheduled or running. */
  #watching = false
  /** Something asked for another round while one ran. */
  #watchAgain = false
  /** The listeners on node-redis's cluster, removed on close. */
  readonly #listeners: Array<[string, (...args: unknown[]) => void]>
  #replicaTimer: NodeJS.Timeout | undefined
  #refreshing: Promise<void> | undefined
  #refreshAgain = false
  #lastRefresh = Number.NEGATIVE_INFINITY
  #nudging = false

  constructor(options: TopologyOptions) {
    this.#options = options
    this.#cluster = options.cluster
    // node-redis's node clients: a lost connection is a reason to look at the slot map.
    this.#listeners = [
      ['node-error', (_error, info) => this.#onNodeTrouble(this.#bySocket(info))],
      ['node-reconnecting', (info) => this.#onNodeTrouble(this.#bySocket(info))],
      ['node-ready', (info) => this.#onNodeReady(this.#bySocket(info))],
    ]
    for (const [event, listener] of this.#listeners) options.cluster.on(event, listener)
  }

  /** Whether the map was built (from node-redis's, once it connected). */
  get built(): boolean {
    return this.#built
  }

  /** Builds the map from node-redis's, once: when the cluster connected. */
  build(): void {
    if (this.#built || this.#closed) return
    const slots = this.#cluster.slots
    const ranges: Range[] = []
    let current: Range | undefined
    let previous: unknown
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const shard = slots[slot]
      if (shard === undefined) {
        current = undefined
        previous = undefined
        continue
      }
      if (shard === previous && current !== undefined) {
        current.to = slot
        continue
      }
      previous = shard
      const replicas = this.#options.readFromReplicas ? (shard.replicas ?? []) : []
      current = {
        from: slot,
        to: slot,
        master: hostPort(shard.master),
        replicas: replicas.map(hostPort),
      }
      ranges.push(current)
    }
    if (ranges.length === 0) return
    this.#built = true
    this.#apply(ranges)
    if (this.#options.readFromReplicas) this.#startReplicaChecks()
  }

  /** The primaries of the map, one handle each. */
  primaries(): NodeHandle[] {
    return [...new Set([...this.#shards.values()].map((shard) => shard.master))]
  }

  /** The handle of the node at `address` (`host:port`), made when it is new. */
  handle(address: string): NodeHandle {
    const known = this.#handles.get(address)
    if (known !== undefined) return known
    const colon = address.lastIndexOf(':')
    const host = address.slice(0, colon)
    const port = Number(address.slice(colon + 1))
    const mapped = this.#mapAddress(address)
    const handle: NodeHandle = {
      address,
      host,
      port,
      client: undefined,
      sender: undefined,
      own: false,
      readonlyClient: false,
      down: false,
      downReason: '',
      probeSince: 0,
      failedAt: 0,
      usedAt: 0,
      replica: undefined,
      socketKey: mapped === undefined ? address : `${mapped.host}:${mapped.port}`,
    }
    this.#handles.set(address, handle)
    return handle
  }

  /** Sends `args` to `node`, failing at once when it is down. */
  sendTo(node: NodeHandle, args: ReadonlyArray<RedisArgument>, text: boolean): Promise<unknown> {
    if (node.down) return Promise.reject(this.downError(node))
    const sender = node.sender
    if (sender !== undefined) return sender.as(text).sendCommand(args)
    return this.connect(node).then(() => node.sender?.as(text).sendCommand(args))
  }

  /**
   * Sends `args` to `node` right after `ASKING`, on one chain (nothing between them): how a
   * command follows an `ASK` to the node that imports its slot.
   */
  async asking(
    node: NodeHandle,
    args: ReadonlyArray<RedisArgument>,
    text: boolean,
  ): Promise<unknown> {
    if (node.down) throw this.downError(node)
    node.usedAt = performance.now()
    await this.connect(node)
    const sender = (node.sender as Sender<NodeSender>).as(text)
    const chain = { chainId: Symbol('ASKING') }
    const asking = sender.sendCommand(['ASKING'], chain)
    const reply = sender.sendCommand(args, chain)
    // Its failure shows in the reply (no ASKING, no answer to the command).
    asking.catch(() => {})
    return reply
  }

  /** The error of a call to a node known to be down. */
  downError(node: NodeHandle): ConnectionError {
    return new ConnectionError(
      `the cluster node ${node.address} of ${this.#options.where} is down (${node.downReason}); not waiting — the cluster moves its slots to a replica when it promotes one, and cachex follows`,
    )
  }

  /**
   * `MOVED <slot> <address>`: the slot is served by `address` now. The map says so at once for
   * that slot, and the whole map is refreshed soon.
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
    return node
  }

  /**
   * Something went wrong (a timeout, a stall, a lost connection, `CLUSTERDOWN`): watch the nodes
   * and the slot map — at least one round, and more while a node is in trouble.
   */
  watch(): void {
    if (this.#closed || !this.#built) return
    if (this.#watching) {
      this.#watchAgain = true
      return
    }
    this.#watching = true
    this.#watchTimer = setTimeout(this.#cycle, 0)
    this.#watchTimer.unref()
  }

  /** node-redis closed a client under cachex: forget the closed clients, so they are resolved again. */
  forgetClosed(): void {
    for (const node of this.#handles.values()) {
      if (node.client !== undefined && node.client.isOpen === false)
        this.#setClient(node, undefined)
    }
  }

  /** Resolves `node`'s client: node-redis's for it, or one cachex opens (one attempt at a time). */
  connect(node: NodeHandle): Promise<void> {
    if (node.sender !== undefined && node.client?.isOpen !== false) return Promise.resolve()
    let connecting = this.#connecting.get(node)
    if (connecting === undefined) {
      connecting = this.#resolve(node).finally(() => this.#connecting.delete(node))
      this.#connecting.set(node, connecting)
    }
    return connecting
  }

  async #resolve(node: NodeHandle): Promise<void> {
    const cluster = this.#cluster
    const known = cluster.nodeByAddress?.get(node.address)
    if (known !== undefined) {
      try {
        const client = known.client ?? (await cluster.nodeClient(known))
        if (client.isOpen !== false) {
          this.#setClient(node, client, false, known.readonly === true)
          return
        }
      } catch {
        // node-redis could not connect it: try a client of cachex's own.
      }
    }
    await this.#open(node)
  }

  /**
   * Refreshes the map from a primary that answers (rate-limited: one at a time, 200 ms apart).
   * Never rejects; the map stays as it is when no node answers.
   */
  refresh(): Promise<void> {
    if (this.#closed || !this.#built) return Promise.resolve()
    if (this.#refreshing !== undefined) {
      this.#refreshAgain = true
      return this.#refreshing
    }
    const run = async () => {
      do {
        const wait = this.#lastRefresh + REFRESH_INTERVAL_MS - performance.now()
        if (wait > 0) await sleep(wait)
        this.#refreshAgain = false
        this.#lastRefresh = performance.now()
        await this.#refreshOnce()
      } while (this.#refreshAgain && !this.#closed)
    }
    const refreshing = run().finally(() => {
      this.#refreshing = undefined
    })
    this.#refreshing = refreshing
    return refreshing
  }

  /** Stops the watch and the checks, and closes the clients cachex opened. */
  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#watchTimer)
    clearInterval(this.#replicaTimer)
    for (const [event, listener] of this.#listeners) this.#cluster.off?.(event, listener)
    const own = [...this.#handles.values()].filter((node) => node.own && node.client !== undefined)
    await Promise.all(own.map((node) => this.#closeClient(node.client as NodeRedisNodeClientLike)))
  }

  async #refreshOnce(): Promise<void> {
    const now = performance.now()
    const inUse = new Set<NodeHandle>()
    for (const shard of this.#shards.values()) inUse.add(shard.master)
    // Primaries that answer, and did not fail lately (a node that restarted may still claim the
    // slots it had before its replica was promoted); then any that answers.
    const alive = [...inUse].filter((node) => !node.down && node.client?.isReady !== false)
    const answered = alive.filter((node) => node.probeSince === 0)
    const trusted = shuffle(answered.filter((node) => now - node.failedAt > SOURCE_QUARANTINE_MS))
    const sources = [
      ...trusted,
      ...shuffle(answered.filter((node) => !trusted.includes(node))),
      // Nodes whose probe is still out come last, the most recently asked first.
      ...alive.filter((node) => node.probeSince !== 0).sort((a, b) => b.probeSince - a.probeSince),
    ]
    for (const source of sources.slice(0, 3)) {
      try {
        await this.connect(source)
        const reply = await within(
          (source.sender as Sender<NodeSender>).as(true).sendCommand(['CLUSTER', 'SLOTS']),
          Math.min(this.#options.askTimeoutMs, MAX_REFRESH_WAIT_MS),
          `CLUSTER SLOTS on ${source.address}`,
        )
        const ranges = parseSlots(reply, source.host)
        if (ranges.length === 0) continue
        if (this.#apply(ranges)) this.#nudge(source)
        return
      } catch {
        // Ask the next one.
      }
    }
  }

  /** Makes the map from `ranges`; whether it changed. */
  #apply(ranges: Range[]): boolean {
    const table = new Array<Shard | undefined>(SLOT_COUNT)
    const shards = new Map<string, Shard>()
    for (const range of ranges) {
      const address = `${range.master.host}:${range.master.port}`
      let shard = shards.get(address)
      if (shard === undefined) {
        const replicas = this.#options.readFromReplicas
          ? range.replicas.map((r) => this.handle(`${r.host}:${r.port}`))
          : []
        shard = { master: this.handle(address), replicas, readers: [], turn: 0 }
        shards.set(address, shard)
      }
      for (let slot = range.from; slot <= range.to && slot < SLOT_COUNT; slot++) table[slot] = shard
    }
    const old = this.table
    let changed = old.length === 0
    for (let slot = 0; slot < SLOT_COUNT && !changed; slot++) {
      const a = old[slot]
      const b = table[slot]
      if (a?.master !== b?.master || !sameNodes(a?.replicas, b?.replicas)) changed = true
    }
    if (!changed) return false
    this.#shards = shards
    for (const shard of shards.values()) this.#updateReaders(shard)
    this.table = table
    const inUse = new Set<NodeHandle>()
    for (const shard of shards.values()) {
      inUse.add(shard.master)
      for (const replica of shard.replicas) inUse.add(replica)
    }
    let stale = false
    for (const node of inUse) {
      // A node marked down earlier that is back in the map: probe it again before long.
      if (node.down) stale = true
      // Connect the nodes now, not on the first call that needs them.
      if (node.sender === undefined) this.connect(node).catch(() => {})
      if (node.replica === undefined && shards.get(node.address) === undefined) {
        void this.#checkReplica(node)
      }
    }
    // Clients cachex opened for nodes that left the map and are not used any more.
    const now = performance.now()
    for (const node of this.#handles.values()) {
      if (!inUse.has(node) && node.own && now - node.usedAt > IDLE_CLIENT_MS) {
        const client = node.client
        this.#setClient(node, undefined)
        if (client !== undefined) void this.#closeClient(client)
      }
    }
    if (stale) this.watch()
    return true
  }

  /** Tells node-redis to rediscover the cluster too (for the commands it routes), from `source`. */
  #nudge(source: NodeHandle): void {
    const slots = this.#cluster._slots
    if (
      this.#nudging ||
      this.#closed ||
      typeof slots?.rediscover !== 'function' ||
      source.client === undefined
    ) {
      return
    }
    this.#nudging = true
    const down = new Set(
      [...this.#handles.values()].filter((n) => n.down || n.probeSince !== 0).map((n) => n.address),
    )
    slots
      .rediscover(source.client, down)
      .catch(() => {})
      .finally(() => {
        this.#nudging = false
        this.#adopt()
      })
  }

  /** Switches nodes from cachex's own clients to node-redis's, once node-redis has one. */
  #adopt(): void {
    for (const node of this.#handles.values()) {
      if (!node.own || node.client === undefined) continue
      const known = this.#cluster.nodeByAddress?.get(node.address)
      const client = known?.client
      if (client === undefined || client.isReady !== true) continue
      if (this.#options.readFromReplicas && node.readonlyClient && known?.readonly !== true)
        continue
      const mine = node.client
      this.#setClient(node, client, false, known?.readonly === true)
      void this.#closeClient(mine)
    }
  }

  readonly #cycle = async (): Promise<void> => {
    this.#watchTimer = undefined
    this.#watchAgain = false
    if (this.#closed) {
      this.#watching = false
      return
    }
    const now = performance.now()
    let trouble = false
    const dirty = new Set<NodeHandle>()
    const probes: Promise<void>[] = []
    for (const node of this.#nodesInUse()) {
      if (node.probeSince === 0) probes.push(this.#probe(node))
      else if (!node.down && now - node.probeSince >= this.#options.downAfterMs) {
        this.#markDown(node, `no reply for ${Math.round(now - node.probeSince)} ms`)
        dirty.add(node)
      }
      if (node.down || node.probeSince !== 0 || node.client?.isReady === false) trouble = true
    }
    if (dirty.size > 0) this.#updateAllReaders()
    // The slot map is asked of a node that just answered its probe: give them a moment.
    if (probes.length > 0) await Promise.race([Promise.all(probes), sleep(PROBE_WAIT_MS)])
    await this.refresh()
    if ((trouble || this.#watchAgain) && !this.#closed) {
      this.#watchTimer = setTimeout(this.#cycle, WATCH_INTERVAL_MS)
      this.#watchTimer.unref()
    } else {
      this.#watching = false
    }
  }

  #nodesInUse(): Set<NodeHandle> {
    const nodes = new Set<NodeHandle>()
    for (const shard of this.#shards.values()) {
      nodes.add(shard.master)
      for (const replica of shard.replicas) nodes.add(replica)
    }
    return nodes
  }

  /** `PING`s `node`; its answer clears `down`, a lost connection sets it. Never rejects. */
  #probe(node: NodeHandle): Promise<void> {
    const sent = performance.now()
    node.probeSince = sent
    return this.connect(node)
      .then(() => (node.sender as Sender<NodeSender>).as(false).sendCommand(['PING']))
      .then(
        () => {
          if (node.probeSince === sent) node.probeSince = 0
          if (node.down) {
            node.down = false
            node.downReason = ''
            this.#updateAllReaders()
          }
        },
        (error: unknown) => {
          if (node.probeSince === sent) node.probeSince = 0
          if (isClientClosed(error)) {
            // node-redis dropped its client: resolve it again at the next probe.
            this.#setClient(node, undefined)
            return
          }
          if (error instanceof ErrorReply) {
            // An error reply is an answer (LOADING, MASTERDOWN…): the node is up.
            if (node.down) {
              node.down = false
              this.#updateAllReaders()
            }
            return
          }
          this.#markDown(node, error instanceof Error ? error.message : String(error))
          this.#updateAllReaders()
        },
      )
  }

  #markDown(node: NodeHandle, reason: string): void {
    node.down = true
    node.downReason = reason
    node.failedAt = performance.now()
    if (node.replica !== undefined && this.#shards.get(node.address) === undefined) {
      // A replica that comes back is checked again before it serves reads.
      node.replica = undefined
    }
  }

  /**
   * A node's connection errored or is reconnecting: the node may be down, or may come back
   * another node (restarted empty), so a replica leaves the read rotation until checked again.
   */
  #onNodeTrouble(node: NodeHandle | undefined): void {
    if (node !== undefined) {
      node.failedAt = performance.now()
      if (node.replica !== undefined) {
        node.replica = undefined
        for (const shard of this.#shards.values()) {
          if (shard.replicas.includes(node)) this.#updateReaders(shard)
        }
      }
    }
    this.watch()
  }

  /** A node's connection is up (again): a replica is checked before it serves reads. */
  #onNodeReady(node: NodeHandle | undefined): void {
    if (node !== undefined && this.#options.readFromReplicas) void this.#checkReplica(node)
  }

  #bySocket(info: unknown): NodeHandle | undefined {
    const { host, port } = (info ?? {}) as { host?: string; port?: number }
    const key = `${host}:${port}`
    for (const node of this.#handles.values()) if (node.socketKey === key) return node
    return undefined
  }

  #startReplicaChecks(): void {
    if (this.#replicaTimer !== undefined || this.#closed) return
    let ticks = 0
    this.#replicaTimer = setInterval(() => {
      for (const shard of this.#shards.values()) {
        for (const replica of shard.replicas) void this.#checkReplica(replica)
      }
      // Redis lists a replica in CLUSTER SLOTS only once it has replicated something: a map made
      // early may have none, and a replica may be added. Look again now and then.
      if (++ticks % REPLICA_DISCOVERY_TICKS === 0) void this.refresh()
    }, REPLICA_CHECK_MS)
    this.#replicaTimer.unref()
  }

  /** Asks a replica for `INFO replication`; it serves reads only when it reports a live link. */
  async #checkReplica(node: NodeHandle): Promise<void> {
    if (!this.#options.readFromReplicas || node.down || this.#closed) return
    let state: ReplicaState | undefined
    try {
      await this.connect(node)
      const info = String(
        await within(
          (node.sender as Sender<NodeSender>).as(true).sendCommand(['INFO', 'replication']),
          this.#options.askTimeoutMs,
          `INFO replication on ${node.address}`,
        ),
      )
      const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim()
      if (field('role') === 'slave') {
        const linkUp = field('master_link_status') === 'up'
        const downSince = Number(field('master_link_down_since_seconds') ?? -1)
        const syncing = field('master_sync_in_progress') === '1'
        state = { linkUp, synced: linkUp || (downSince >= 0 && !syncing) }
      }
    } catch {
      state = undefined
    }
    const before = node.replica
    node.replica = state
    if (before?.linkUp !== state?.linkUp || before?.synced !== state?.synced) {
      for (const shard of this.#shards.values()) {
        if (shard.replicas.includes(node)) this.#updateReaders(shard)
      }
    }
  }

  #updateAllReaders(): void {
    for (const shard of this.#shards.values()) this.#updateReaders(shard)
  }

  /**
   * The read rotation of a shard: its primary unless it is down, and each replica in `READONLY`
   * mode that reports a live link to it — or, while the primary is down, that had synchronised.
   */
  #updateReaders(shard: Shard): void {
    const master = shard.master
    const readers: NodeHandle[] = master.down ? [] : [master]
    for (const replica of shard.replicas) {
      const state = replica.replica
      if (replica.down || !replica.readonlyClient || state === undefined) continue
      if (state.linkUp || (master.down && state.synced)) readers.push(replica)
    }
    shard.readers = readers.length > 0 ? readers : [master]
  }

  #setClient(
    node: NodeHandle,
    client: NodeRedisNodeClientLike | undefined,
    own = false,
    readonlyClient = false,
  ): void {
    node.client = client
    node.own = client !== undefined && own
    node.readonlyClient = client !== undefined && readonlyClient
    node.sender = client === undefined ? undefined : senderOf(client)
    if (node.replica !== undefined) {
      for (const shard of this.#shards.values()) {
        if (shard.replicas.includes(node)) this.#updateReaders(shard)
      }
    }
  }

  /** Opens cachex's own client to `node`, with the cluster's node options; waits for it (bounded). */
  async #open(node: NodeHandle): Promise<void> {
    const defaults = this.#options.nodeDefaults
    if (defaults === undefined) {
      throw new ConnectionError(
        `cannot reach the cluster node ${node.address}: it is not in node-redis's slot map`,
      )
    }
    const base = (defaults.socket ?? {}) as object
    const client = createClient({
      ...defaults,
      socket: {
        ...base,
        ...(this.#mapAddress(node.address) ?? { host: node.host, port: node.port }),
      },
      readonly: this.#options.readFromReplicas,
    } as never) as unknown as NodeRedisNodeClientLike & {
      connect(): Promise<unknown>
      destroy(): void
      on(event: string, listener: (...args: unknown[]) => void): unknown
    }
    client.on('error', () => this.#onNodeTrouble(node))
    try {
      await within(client.connect(), this.#options.askTimeoutMs, `connecting to ${node.address}`)
    } catch (error) {
      client.destroy()
      throw new ConnectionError(`could not connect to the cluster node ${node.address}`, {
        cause: error,
      })
    }
    if (this.#closed) {
      client.destroy()
      throw new ConnectionError(`the connection to ${this.#options.where} is closed`)
    }
    // Another call may have resolved it meanwhile.
    if (node.sender !== undefined && node.client?.isOpen !== false) {
      void this.#closeClient(client)
      return
    }
    this.#setClient(node, client, true, this.#options.readFromReplicas)
    // Back after a reconnection (the first connection is checked when the node joins the map).
    client.on('ready', () => {
      if (node.client === client) this.#onNodeReady(node)
    })
  }

  #closeClient(client: NodeRedisNodeClientLike): Promise<void> {
    const c = client as NodeRedisNodeClientLike & { close?(): Promise<unknown>; destroy?(): void }
    if (c.close === undefined) {
      c.destroy?.()
      return Promise.resolve()
    }
    return closeWithin(
      () => (c.close as () => Promise<unknown>).call(c),
      () => c.destroy?.(),
      this.#options.downAfterMs,
    )
  }

  /** node-redis's `nodeAddressMap` applied to `address`, as node-redis applies it. */
  #mapAddress(address: string): { host: string; port: number } | undefined {
    const map = this.#options.nodeAddressMap
    if (typeof map === 'function')
      return (map as (a: string) => { host: string; port: number })(address)
    if (typeof map === 'object' && map !== null) {
      return (map as Record<string, { host: string; port: number } | undefined>)[address]
    }
    return undefined
  }
}

function hostPort(node: NodeRedisClusterNodeLike): { host: string; port: number } {
  if (node.host !== undefined && node.port !== undefined)
    return { host: node.host, port: node.port }
  const address = node.address ?? ''
  const colon = address.lastIndexOf(':')
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) }
}

/**
 * The ranges of a `CLUSTER SLOTS` reply: `[from, to, [host, port, id…], [replica…]…]` each. An
 * empty host means the node that was asked (`askedHost`).
 */
export function parseSlots(reply: unknown, askedHost: string): Range[] {
  if (!Array.isArray(reply)) return []
  const ranges: Range[] = []
  for (const entry of reply) {
    if (!Array.isArray(entry) || entry.length < 3) continue
    const node = (value: unknown) => {
      const fields = value as unknown[]
      const host = String(fields[0] ?? '')
      return { host: host === '' ? askedHost : host, port: Number(fields[1]) }
    }
    const nodes = entry.slice(2).filter(Array.isArray).map(node)
    const master = nodes[0]
    if (master === undefined || master.host === '?') continue
    ranges.push({
      from: Number(entry[0]),
      to: Number(entry[1]),
      master,
      replicas: nodes.slice(1).filter((n) => n.host !== '?'),
    })
  }
  return ranges
}

function sameNodes(
  a: readonly NodeHandle[] | undefined,
  b: readonly NodeHandle[] | undefined,
): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined || a.length !== b.length) return false
  return a.every((node) => b.includes(node))
}

function shuffle<T>(list: T[]): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[list[i], list[j]] = [list[j] as T, list[i] as T]
  }
  return list
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
