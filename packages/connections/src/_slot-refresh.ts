import type { NodeClients, NodeHandle, NodeRedisClusterLike, NodeSender } from './_cluster-nodes.ts'
import { within } from './_connect.ts'
import { validAddress } from './_node-address.ts'
import type { Sender } from './_options.ts'
import { checkSlots, type Range, refreshSources, type Shard } from './_slot-map.ts'

// How cachex asks a cluster for its slot map (`CLUSTER SLOTS`): of the primaries of the map, then
// of the seeds; one refresh at a time, rate-limited, each node asked within a bound. A valid map
// is handed to the topology, and node-redis is told to rediscover from the node that gave it.

/**
 * The longest one node is given to connect, and then to answer `CLUSTER SLOTS`, before the next
 * is asked; also how long a refresh waits for the probes of the nodes a new map brings back.
 */
const MAX_REFRESH_WAIT_MS = 1000
/** The least time between two slot-map refreshes. */
const REFRESH_INTERVAL_MS = 200
/** The least time between two rediscoveries a call for a slot without a node asks for. */
const REDISCOVER_INTERVAL_MS = 500

/** What a slot map read from a node did to the topology (`SlotRefreshContext.use`). */
export interface MapUse {
  /** The map changed (or was built): node-redis is told to rediscover. */
  changed: boolean
  /**
   * The probes of the nodes the map brought back that were marked down (they answer, or not, before
   * the refresh ends: a call made right after it is not refused as down from before), if any.
   */
  back: Promise<void> | undefined
}

/** What the refresh needs of the topology. */
export interface SlotRefreshContext {
  cluster: NodeRedisClusterLike
  nodes: NodeClients
  /** How long one `CLUSTER SLOTS` (and a connect for it) may take, at most 1 s. */
  askTimeoutMs: number
  closed(): boolean
  /** Whether the topology's map was built. */
  built(): boolean
  /** The shards of the current map. */
  shards(): ReadonlyMap<string, Shard>
  /** Makes the map from `ranges`, valid (building it the first time). */
  use(ranges: Range[]): MapUse
}

/** The slot-map refreshes of one topology (see `refresh` and `rediscover`). */
export class SlotRefresh {
  readonly #context: SlotRefreshContext
  #refreshing: Promise<void> | undefined
  #refreshAgain = false
  #lastRefresh = Number.NEGATIVE_INFINITY
  #nudging = false
  #rediscovering = false
  #lastRediscover = Number.NEGATIVE_INFINITY

  constructor(context: SlotRefreshContext) {
    this.#context = context
  }

  /**
   * Refreshes the map from a primary that answers (rate-limited: one at a time, 200 ms apart).
   * Never rejects; the map stays as it is when no node answers.
   */
  refresh(): Promise<void> {
    const context = this.#context
    if (context.closed() || !context.built()) return Promise.resolve()
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
      } while (this.#refreshAgain && !context.closed())
    }
    const refreshing = run().finally(() => {
      this.#refreshing = undefined
    })
    this.#refreshing = refreshing
    return refreshing
  }

  /**
   * A call found no node for its slot: the map is not built (no slot was assigned when node-redis
   * discovered the cluster, or its map named no valid node) or no node serves the slot. The map is
   * asked again — of the seeds too — at most one at a time and 500 ms apart; a valid map found
   * builds cachex's, and node-redis is told to rediscover from the node that gave it.
   */
  rediscover(): void {
    const now = performance.now()
    if (
      this.#context.closed() ||
      this.#rediscovering ||
      now - this.#lastRediscover < REDISCOVER_INTERVAL_MS
    )
      return
    this.#rediscovering = true
    this.#lastRediscover = now
    const run = this.#context.built() ? this.refresh() : this.#refreshOnce()
    void run.finally(() => {
      this.#rediscovering = false
    })
  }

  /**
   * Asks the primaries of the map for it (see `refreshSources`), then — when none gave a valid one
   * — the seeds. The first valid map is used (built, the first time).
   */
  async #refreshOnce(): Promise<void> {
    const context = this.#context
    const sources = refreshSources(context.shards(), performance.now()).slice(0, 3)
    const asked = new Set(sources.map((node) => node.address))
    const seeds = seedsOf(context.cluster).filter((address) => !asked.has(address))
    const wait = Math.min(context.askTimeoutMs, MAX_REFRESH_WAIT_MS)
    for (const source of [...sources, ...seeds]) {
      try {
        const node = typeof source === 'string' ? context.nodes.handle(source) : source
        if (node.down && typeof source === 'string') continue
        // The connect too: a node that accepts the connection and never answers its handshake
        // (frozen), or refuses it, would hold the refresh for the connect timeout. The connect
        // goes on in the background, bounded by its own timeout.
        await within(context.nodes.connect(node), wait, `connecting to ${node.address}`)
        const reply = await within(
          (node.sender as Sender<NodeSender>).as(true).sendCommand(['CLUSTER', 'SLOTS']),
          wait,
          `CLUSTER SLOTS on ${node.address}`,
        )
        const { ranges, whole } = checkSlots(reply, node.host)
        if (ranges.length === 0 || context.closed()) continue
        const { changed, back } = context.use(ranges)
        // node-redis's discovery trusts the bounds: it is told only of a map wholly valid.
        if (changed && whole) this.#nudge(node)
        if (back !== undefined) await Promise.race([back, sleep(wait)])
        return
      } catch {
        // Ask the next one.
      }
    }
  }

  /** Tells node-redis to rediscover the cluster too (for the commands it routes), from `source`. */
  #nudge(source: NodeHandle): void {
    const context = this.#context
    const slots = context.cluster._slots
    if (
      this.#nudging ||
      context.closed() ||
      typeof slots?.rediscover !== 'function' ||
      source.client === undefined
    ) {
      return
    }
    this.#nudging = true
    const down = new Set(
      [...context.nodes.all()].filter((n) => n.down || n.probeSince !== 0).map((n) => n.address),
    )
    slots
      .rediscover(source.client, down)
      .catch(() => {})
      .finally(() => {
        this.#nudging = false
        context.nodes.adopt()
      })
  }
}

/**
 * The host all seeds of `cluster` (node-redis's `rootNodes`) share: the host of the node that
 * node-redis asked for its map, which an empty host there means. `undefined` when there are none,
 * or they name more than one host (ambiguous).
 */
export function seedHost(cluster: NodeRedisClusterLike): string | undefined {
  const hosts = new Set(
    seedsOf(cluster).map((address) => address.slice(0, address.lastIndexOf(':'))),
  )
  return hosts.size === 1 ? [...hosts][0] : undefined
}

/** The seeds' addresses (`host:port`), from node-redis's `rootNodes`. */
function seedsOf(cluster: NodeRedisClusterLike): string[] {
  const roots = (cluster._options as { rootNodes?: unknown } | undefined)?.rootNodes
  if (!Array.isArray(roots)) return []
  const addresses: string[] = []
  for (const root of roots as Array<{
    url?: unknown
    socket?: { host?: unknown; port?: unknown }
  }>) {
    try {
      if (typeof root?.url === 'string') {
        const url = new URL(root.url)
        addresses.push(`${url.hostname.replace(/^\[(.*)\]$/, '$1')}:${url.port || 6379}`)
      } else if (root?.socket !== undefined && root.socket.port !== undefined) {
        addresses.push(`${String(root.socket.host ?? 'localhost')}:${Number(root.socket.port)}`)
      }
    } catch {
      // Not an address: not a seed to ask.
    }
  }
  return addresses.filter(validAddress)
}

/** Resolves after `ms` milliseconds, without holding the process open. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
