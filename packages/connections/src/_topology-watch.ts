import type { ConnectionError } from '@cachex/core'
import { noteNode } from './_cluster-errors.ts'
import type { NodeClients, NodeClientsOptions, NodeHandle } from './_cluster-nodes.ts'
import { isErrorReply, toCachexError } from './_errors.ts'
import { checkReplica, type HealthContext, markDown, probe } from './_node-health.ts'
import { isRefusedHandshake, isUnreadableReply, refusedRetryDelay } from './_retry.ts'
import { nodesOf, setAllReaders, setReadersOf } from './_slot-map.ts'
import { sleep } from './_slot-refresh.ts'

// The watch over a cluster's nodes (`NodeWatch`), owned by the topology: what their connections
// report (an error, a reconnection, a refused handshake, ready again), the watch rounds while a
// node is in trouble (probes, nodes marked down, a slot-map refresh), and the periodic checks of
// the replicas cachex reads from. The state lives on the node handles and in the topology's map.

/** How often the watch runs while a node is in trouble: probes, and a slot-map refresh. */
export const WATCH_INTERVAL_MS = 200
/** How long the watch waits for the probes' answers before it asks for the slot map. */
const PROBE_WAIT_MS = 100
/** How often replicas cachex reads from are checked (`INFO replication`). */
export const REPLICA_CHECK_MS = 1000
/** Every how many replica checks the slot map is asked again, for new replicas. */
const REPLICA_DISCOVERY_TICKS = 5

/**
 * The nodes whose last refused handshake (`NodeHandle.refused`) refused the user or password
 * (`isRefusedHandshake`), not another error reply (`ERR max number of clients reached`).
 */
const accessRefused = new WeakSet<NodeHandle>()

/**
 * Whether `node`, down because it refused the connection's handshake (`refused`), refused the
 * user or password (`WRONGPASS`, `NOAUTH`, `NOPERM`, a handshake command renamed away), which ACL
 * users and passwords set on that node fix — not another error reply, as a full node's.
 */
export function refusesAccess(node: NodeHandle): boolean {
  return node.refused && accessRefused.has(node)
}

/** What the watch uses of the topology. */
export interface NodeWatchOptions {
  /** The node handles and their clients. */
  nodes: NodeClients
  /** What the probes and replica checks use (`shards()`: the current map's). */
  health: HealthContext
  /** A node whose probe went unanswered this long is down (`socketTimeout`). */
  downAfterMs: number
  readFromReplicas: boolean
  /** The cluster's node options: their password is cut out of a refusal's message. */
  nodeDefaults: NodeClientsOptions['nodeDefaults']
  /** Whether the topology is closed. */
  closed(): boolean
  /** Whether the topology's map was built. */
  built(): boolean
  /** Refreshes the slot map (see `Topology.refresh`). */
  refresh(): Promise<void>
  /** The error of a call to a node known to be down (see `Topology.downError`). */
  downError(node: NodeHandle): ConnectionError
}

/**
 * The watch of a topology's nodes: a round (`watch`) probes every node of the map with `PING`
 * (one at a time per node), marks down a node whose probe went unanswered for `downAfterMs`, and
 * refreshes the map; it runs again every 200 ms while a node is in trouble. With
 * `readFromReplicas`, the replicas are checked every second (`startReplicaChecks`).
 */
export class NodeWatch {
  readonly #options: NodeWatchOptions
  #watchTimer: NodeJS.Timeout | undefined
  /** A watch round is scheduled or running. */
  #watching = false
  /** Something asked for another round while one ran. */
  #watchAgain = false
  #replicaTimer: NodeJS.Timeout | undefined
  /** Each node's refusals of the user or password in a row (see `#holdRefused`). */
  readonly #refusals = new WeakMap<NodeHandle, number>()

  constructor(options: NodeWatchOptions) {
    this.#options = options
  }

  /**
   * Something went wrong (a timeout, a stall, a lost connection, `CLUSTERDOWN`): watch the nodes
   * and the slot map — at least one round, and more while a node is in trouble.
   */
  watch(): void {
    if (this.#options.closed() || !this.#options.built()) return
    if (this.#watching) {
      this.#watchAgain = true
      return
    }
    this.#watching = true
    this.#watchTimer = setTimeout(this.#cycle, 0)
    this.#watchTimer.unref()
  }

  /** Stops the watch rounds and the replica checks (the topology closes). */
  stop(): void {
    clearTimeout(this.#watchTimer)
    clearInterval(this.#replicaTimer)
  }

  readonly #cycle = async (): Promise<void> => {
    this.#watchTimer = undefined
    this.#watchAgain = false
    if (this.#options.closed()) {
      this.#watching = false
      return
    }
    const { health, downAfterMs } = this.#options
    const now = performance.now()
    let trouble = false
    const dirty = new Set<NodeHandle>()
    const probes: Promise<void>[] = []
    for (const node of nodesOf(health.shards())) {
      if (node.probeSince === 0) probes.push(probe(health, node))
      else if (!node.down && now - node.probeSince >= downAfterMs) {
        markDown(node, `no reply for ${Math.round(now - node.probeSince)} ms`, health.shards())
        dirty.add(node)
      }
      if (node.down || node.probeSince !== 0 || node.client?.isReady === false) trouble = true
    }
    if (dirty.size > 0) setAllReaders(health.shards())
    // The slot map is asked of a node that just answered its probe: give them a moment.
    if (probes.length > 0) await Promise.race([Promise.all(probes), sleep(PROBE_WAIT_MS)])
    await this.#options.refresh()
    if ((trouble || this.#watchAgain) && !this.#options.closed()) {
      this.#watchTimer = setTimeout(this.#cycle, WATCH_INTERVAL_MS)
      this.#watchTimer.unref()
    } else {
      this.#watching = false
    }
  }

  /**
   * A node's connection errored (with `error`) or is reconnecting: the node may be down, or may
   * come back another node (restarted empty), so a replica leaves the read rotation until checked
   * again. An error reply refused the connection's handshake (`WRONGPASS`, `NOAUTH`, `NOPERM`:
   * ACL users and passwords are set per node; or another, as `ERR max number of clients
   * reached`): the node is down now, for that reason — its client retries the handshake (or,
   * refused the user or password, gives up, and the node is tried again later: `#holdRefused`),
   * and the calls waiting for it would otherwise wait for their timeout, unsent, and be reported
   * as writes that may have been applied.
   */
  onNodeTrouble(node: NodeHandle | undefined, error?: unknown): void {
    if (node !== undefined && isErrorReply(error)) this.#refused(node, error)
    if (node !== undefined && isUnreadableReply(error))
      this.#options.nodes.dropUnreadable(node, error)
    if (node !== undefined) {
      // node-redis rejects the commands in flight with the error it emits: they name the node.
      noteNode(error, node)
      node.failedAt = performance.now()
      if (node.replica !== undefined) {
        node.replica = undefined
        setReadersOf(this.#options.health.shards(), node)
      }
    }
    this.watch()
  }

  /**
   * `node` refused the connection's handshake with the error reply `error`: marked down with it
   * (the password cut out), the connect under way failed with it. Its probe brings it back once
   * it accepts the connection (refused the user or password: once it is no longer held).
   */
  #refused(node: NodeHandle, error: unknown): void {
    const password = this.#options.nodeDefaults?.password
    const secrets = typeof password === 'string' ? [password] : []
    const { health } = this.#options
    this.#holdRefused(node, error)
    // Without the reply's closing period: the message goes on after it.
    markDown(node, toCachexError(error, secrets).message.replace(/\.\s*$/, ''), health.shards())
    node.refused = true
    if (isRefusedHandshake(error)) accessRefused.add(node)
    else accessRefused.delete(node)
    setAllReaders(health.shards())
    this.#options.nodes.refuse(node, this.#options.downError(node))
  }

  /**
   * `node` refused the user or password (`isRefusedHandshake`), and its client gave up
   * (`nodeReconnectStrategy`): no client is opened to it for `refusedRetryDelay` — 10 s after the
   * first refusal in a row, twice as long after each next one, up to 5 minutes — after which its
   * probe opens one (every try is a failed login in the node's ACL log). A refusal while it is
   * held (another of its clients, refused in the same round) changes nothing. Called before
   * `node.refused` is set for this refusal.
   */
  #holdRefused(node: NodeHandle, error: unknown): void {
    const now = performance.now()
    if (!isRefusedHandshake(error) || node.heldUntil > now) return
    // In a row: no probe was answered since the last refusal (it clears `refused`).
    const refusals = node.refused ? (this.#refusals.get(node) ?? 0) : 0
    node.heldUntil = now + refusedRetryDelay(refusals)
    this.#refusals.set(node, refusals + 1)
  }

  /** A node's connection is up (again): a replica is checked before it serves reads. */
  onNodeReady(node: NodeHandle | undefined): void {
    if (node !== undefined) {
      node.dropReason = ''
      node.unreadable.up()
      // Marked down before (killed, restarted): its answer to a probe brings it back now.
      if (node.down && !node.refused && node.probeSince === 0 && !this.#options.closed()) {
        void probe(this.#options.health, node)
      }
    }
    if (node !== undefined && this.#options.readFromReplicas) void this.checkReplica(node)
  }

  /** Starts the periodic checks of the replicas (once; not once closed). */
  startReplicaChecks(): void {
    if (this.#replicaTimer !== undefined || this.#options.closed()) return
    let ticks = 0
    this.#replicaTimer = setInterval(() => {
      for (const shard of this.#options.health.shards().values()) {
        for (const replica of shard.replicas) void this.checkReplica(replica)
      }
      // Redis lists a replica in CLUSTER SLOTS only once it has replicated something: a map made
      // early may have none, and a replica may be added. Look again now and then.
      if (++ticks % REPLICA_DISCOVERY_TICKS === 0) void this.#options.refresh()
    }, REPLICA_CHECK_MS)
    this.#replicaTimer.unref()
  }

  /** Checks a replica (`INFO replication`) unless closed, down or not reading from replicas. */
  checkReplica(node: NodeHandle): Promise<void> {
    if (!this.#options.readFromReplicas || node.down || this.#options.closed()) {
      return Promise.resolve()
    }
    return checkReplica(this.#options.health, node)
  }
}
