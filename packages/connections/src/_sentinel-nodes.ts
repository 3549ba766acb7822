// The data nodes of a sentinel connection: the primary writes go to, and the replicas the
// sentinels list, each a `standalone` connection opened once per `host:port`. Which node is the
// primary and which replicas are listed is decided from what the sentinels say
// (`_sentinel-events.ts`); this module makes it so.
import type { FailoverGate } from './_failover.ts'
import type { ReplicaRotation } from './_rotation.ts'
import { nodesChanged } from './_scripts.ts'
import { invalidAddress, nodesToUse, PacedQueue } from './_sentinel-address.ts'
import type { SentinelOptions } from './_sentinel-options.ts'
import type { NodeAddress, SentinelView } from './_sentinels.ts'
import { StandaloneConnection } from './standalone.ts'
import type { RedisAddress } from './url.ts'

/** A node's `host:port`: what the nodes are known by. */
export const nodeKey = (node: NodeAddress): string => `${node.host}:${node.port}`

/**
 * Makes the `standalone` connection to a data node: the options of the sentinel connection, the
 * scheme, user and database of its `location` (`address`), and the data nodes' `password`.
 */
export function dataNodeConnector(
  options: SentinelOptions,
  address: RedisAddress,
  password: string | undefined,
): (node: NodeAddress) => StandaloneConnection {
  const scheme = address.tls ? 'rediss' : 'redis'
  const user = address.username === undefined ? '' : `${encodeURIComponent(address.username)}@`
  const { sentinels: _s, sentinelOptions: _o, location: _l, ...nodeOptions } = options
  return (node) => {
    // An IPv6 address in brackets, its zone ID (`fe80::1%eth0`) written `%25` (RFC 6874).
    const host = node.host.includes(':') ? `[${node.host.replace('%', '%25')}]` : node.host
    return new StandaloneConnection({
      ...nodeOptions,
      location: `${scheme}://${user}${host}:${node.port}/${address.database}`,
      password,
    })
  }
}

/** What `SentinelNodes` asks of the sentinel connection it serves. */
export interface SentinelNodesOptions {
  /** A `standalone` connection to `node` (`dataNodeConnector`). */
  connect(node: NodeAddress): StandaloneConnection
  /** `undefined` with `replicaPoolSize: 0`: reads run on the primary. */
  rotation: ReplicaRotation | undefined
  /** The failovers under way: told when the primary is replaced. */
  failover: FailoverGate
  /** Whether the connection was closed: no replica is opened then. */
  closed(): boolean
  /** Another node became the primary (not the first): the local tier is emptied. */
  reset(): void
  /** Replicas were opened: every data node in use is tracked. */
  retrack(): void
}

/**
 * The primary and the replicas of a sentinel connection: the connection to each (`usable`), the
 * switch of primary (`switchTo`), and the replicas listed (`setReplicas`), opened a few per turn
 * of the event loop.
 */
export class SentinelNodes {
  readonly #options: SentinelNodesOptions
  /** Every data node cachex is connected to, by `host:port`. */
  readonly #nodes = new Map<string, StandaloneConnection>()
  #primary: StandaloneConnection | undefined
  #primaryKey: string | undefined
  /** The times another node became the primary. */
  #switches = 0
  /**
   * The replicas listed that have no connection yet, opened a few per turn of the event loop, and
   * tracked once opened (`retrack`).
   */
  readonly #opener: PacedQueue<NodeAddress>

  constructor(options: SentinelNodesOptions) {
    this.#options = options
    this.#opener = new PacedQueue<NodeAddress>(
      (replica) => this.#openReplica(replica),
      () => options.retrack(),
    )
  }

  /** The primary writes go to; `undefined` until the first discovery. */
  get primary(): StandaloneConnection | undefined {
    return this.#primary
  }

  /** The primary's `host:port`. */
  get primaryKey(): string | undefined {
    return this.#primaryKey
  }

  /** The times another node became the primary. */
  get switches(): number {
    return this.#switches
  }

  /** Every data node cachex is connected to. */
  values(): IterableIterator<StandaloneConnection> {
    return this.#nodes.values()
  }

  /**
   * Makes `node` the primary: writes go there from now on. `false` when it cannot be (an address
   * no server can have: `usable`), and the primary stays.
   */
  switchTo(node: NodeAddress): boolean {
    const id = nodeKey(node)
    if (id === this.#primaryKey) return true
    const primary = this.usable(node)
    if (primary === undefined) return false
    const first = this.#primaryKey === undefined
    const old = this.#primary
    this.#primary = primary
    this.#primaryKey = id
    this.#switches++
    // A promoted replica never ran the scripts its primary ran.
    nodesChanged()
    const { rotation, failover } = this.#options
    rotation?.remove(primary)
    // Another primary: the local tier is emptied (a write the old one took may be lost), and is
    // up again once the new primary is tracked (the old one is a gated replica now).
    if (!first) this.#options.reset()
    // Its calls in flight reject: a reply of the old one now would be of a write it loses.
    if (old !== undefined && old !== primary) failover.replaced(old, id)
    failover.wake()
    return true
  }

  /**
   * The replicas the sentinels list become the candidates of the read rotation, down or not: the
   * rotation's own checks say which may serve reads (the sentinels flag a replica `disconnected`
   * for a moment after every switch, and one that restarted empty is not flagged at all). Only
   * the first `MAX_NODES_PER_VIEW` listed with a valid address, each once (`nodesToUse`). The
   * connections to nodes no longer listed are closed.
   */
  setReplicas(replicas: SentinelView['replicas']): void {
    const wanted = new Set<string>()
    const rotation = this.#options.rotation
    const queued: NodeAddress[] = []
    if (rotation !== undefined) {
      const primary = new Set(this.#primaryKey === undefined ? [] : [this.#primaryKey])
      for (const replica of nodesToUse(replicas, primary)) {
        const id = nodeKey(replica)
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
   * The connection to the data node at `node` (opened once per `host:port`); `undefined` for an
   * address no server can have (`invalidAddress`), or one the URL of a connection refuses.
   */
  usable(node: NodeAddress): StandaloneConnection | undefined {
    if (invalidAddress(node) !== undefined) return undefined
    const id = nodeKey(node)
    let connection = this.#nodes.get(id)
    if (connection === undefined) {
      try {
        connection = this.#options.connect(node)
      } catch {
        return undefined
      }
      this.#nodes.set(id, connection)
    }
    return connection
  }

  /**
   * Closes every node (the connection closes): the replicas still queued are not opened, and the
   * read rotation stops.
   */
  async close(): Promise<void> {
    this.#opener.clear()
    this.#options.rotation?.close()
    const nodes = [...this.#nodes.values()]
    this.#nodes.clear()
    await Promise.all(nodes.map((node) => node.close()))
  }

  /**
   * Opens the connection to a replica `setReplicas` queued, and makes it a candidate of the read
   * rotation; `false` when none is opened (closed meanwhile, the primary now, an invalid address).
   */
  #openReplica(replica: NodeAddress): boolean {
    const rotation = this.#options.rotation
    if (this.#options.closed() || rotation === undefined || nodeKey(replica) === this.#primaryKey) {
      return false
    }
    const node = this.usable(replica)
    if (node !== undefined) rotation.add(node)
    return node !== undefined
  }
}
