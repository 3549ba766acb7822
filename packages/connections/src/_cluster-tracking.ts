// The local tier's tracking on a cluster: one tracking group per `track` call, each with a
// tracking connection per node reads go to. With `readFromReplicas`, a replica serves reads only
// while every group tracks it (its handle's `untracked` flag, read by the shard's read rotation),
// so a replica whose tracking is down does not keep the tier off: only the primaries must be up.
import { InvalidArgumentError, type Tracking, type TrackingListener } from '@cachex/core'
import type { NodeHandle } from './_cluster-nodes.ts'
import type { Topology } from './_topology.ts'
import { startTracking } from './_tracking.ts'
import { type TrackableNode, TrackingGroup } from './_tracking-group.ts'

/** A node as a tracking group sees it: its handle, and how to open a tracking connection to it. */
interface ClusterTracker extends TrackableNode {
  readonly node: NodeHandle
}

interface Entry {
  /** The trackers of this group, by node address. */
  readonly trackers: Map<string, ClusterTracker>
  /** Tracks the nodes of the current map. */
  readonly retrack: () => void
}

/** The tracking groups of one cluster connection, and the read gate they make. */
export class ClusterTracking {
  readonly #topology: Topology
  readonly #readFromReplicas: boolean
  readonly #groups = new Map<TrackingGroup<ClusterTracker>, Entry>()

  constructor(topology: Topology, readFromReplicas: boolean) {
    this.#topology = topology
    this.#readFromReplicas = readFromReplicas
    topology.onChange = () => {
      for (const entry of this.#groups.values()) entry.retrack()
      this.#regateAll()
    }
  }

  /**
   * Tracks every node reads go to on a RESP3 connection of its own: up while every primary's is;
   * a replica reads go to leaves the shard's read rotation while its own is down. A change of the
   * slot map empties the tier and tracks the nodes of the new map.
   */
  track(prefixes: readonly string[], listener: TrackingListener): Tracking {
    const topology = this.#topology
    const trackers = new Map<string, ClusterTracker>()
    const group = new TrackingGroup<ClusterTracker>(prefixes, listener, {
      // Without replica reads every node read from is a primary, which must be up.
      gated: (tracker) => this.#readFromReplicas && !topology.primaries().includes(tracker.node),
      onMember: (tracker) => this.#regate(tracker.node),
    })
    const retrack = () => {
      const nodes = topology.readers().map((node) => {
        let tracker = trackers.get(node.address)
        if (tracker === undefined) {
          tracker = { node, track: (p, l) => this.#open(node, p, l) }
          trackers.set(node.address, tracker)
        }
        return tracker
      })
      group.set(nodes)
      group.reset()
    }
    this.#groups.set(group, { trackers, retrack })
    if (topology.built) retrack()
    this.#regateAll()
    return {
      close: async () => {
        this.#groups.delete(group)
        this.#regateAll()
        await group.close()
      },
    }
  }

  /** Closes every group; no report follows. */
  close(): void {
    for (const group of this.#groups.keys()) group.close().catch(() => undefined)
    this.#groups.clear()
  }

  #open(node: NodeHandle, prefixes: readonly string[], listener: TrackingListener): Tracking {
    const client = this.#topology.trackingClient(node)
    if (client === undefined) {
      throw new InvalidArgumentError(
        'the local tier needs the cluster node options to open its tracking connections: pass seed URLs, not a cluster client without them',
      )
    }
    return startTracking(client, prefixes, listener)
  }

  /** Whether every group tracks `node` now (true with no group: no local tier, no gate). */
  #tracked(node: NodeHandle): boolean {
    for (const [group, entry] of this.#groups) {
      const tracker = entry.trackers.get(node.address)
      if (tracker === undefined || tracker.node !== node || !group.tracks(tracker)) return false
    }
    return true
  }

  /** Lets `node` serve reads as a replica only while tracked; updates its shards' rotations. */
  #regate(node: NodeHandle): void {
    if (!this.#readFromReplicas) return
    const untracked = !this.#tracked(node)
    if (node.untracked === untracked) return
    node.untracked = untracked
    this.#topology.readersChanged(node)
  }

  #regateAll(): void {
    if (!this.#readFromReplicas) return
    for (const node of this.#topology.readers()) this.#regate(node)
  }
}
