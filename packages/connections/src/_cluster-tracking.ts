// The local tier's tracking on a cluster: one tracking group per `track` call, each with a
// tracking connection per node reads go to. With `readFromReplicas`, a replica serves reads only
// while every group tracks it (its handle's `untracked` flag, read by the shard's read rotation),
// so a replica whose tracking is down does not keep the tier off: only the primaries must be up.
// A replica that leaves the read rotation while tracked (its link to the primary down) empties
// the tier: cut off from its primary, it never reports the writes it misses.
// A node a redirection sends a command to is tracked too before the command goes: the new primary
// a slot migrates to answers the keys already moved (`ASK`) though it owns no slot yet.
import { InvalidArgumentError, type Tracking, type TrackingListener } from '@cachex/core'
import type { NodeHandle } from './_cluster-nodes.ts'
import type { Topology } from './_topology.ts'
import { startTracking } from './_tracking.ts'
import { type TrackableNode, TrackingGroup } from './_tracking-group.ts'

/**
 * How long a node outside the slot map stays tracked after the last redirection that named it:
 * one that no redirection names any more (a migration ended or aborted, a node that died outside
 * the map, which no map change will ever drop) must not keep the tier off, nor a connection open.
 */
const OUTSIDE_KEPT_MS = 5_000

/** A node as a tracking group sees it: its handle, and how to open a tracking connection to it. */
interface ClusterTracker extends TrackableNode {
  readonly node: NodeHandle
}

interface Entry {
  /** The trackers of this group, by node address. */
  readonly trackers: Map<string, ClusterTracker>
  /** The nodes the group tracks now. */
  members: ReadonlySet<NodeHandle>
  /** Tracks the nodes of the current map, and those redirections sent to since it changed. */
  readonly retrack: (reset: boolean) => void
}

/** The tracking groups of one cluster connection, and the read gate they make. */
export class ClusterTracking {
  readonly #topology: Topology
  readonly #readFromReplicas: boolean
  readonly #groups = new Map<TrackingGroup<ClusterTracker>, Entry>()
  /**
   * The nodes outside the slot map a redirection sent a command to since the map last changed
   * (the primary a slot migrates to, while it owns no slot), each with when one last named it:
   * tracked as primaries are, until `OUTSIDE_KEPT_MS` after that.
   */
  readonly #outside = new Map<NodeHandle, number>()
  /** Drops the nodes outside the map no redirection named for `OUTSIDE_KEPT_MS`. */
  #outsideTimer: NodeJS.Timeout | undefined

  constructor(topology: Topology, readFromReplicas: boolean) {
    this.#topology = topology
    this.#readFromReplicas = readFromReplicas
    topology.onChange = () => {
      this.#outside.clear()
      clearTimeout(this.#outsideTimer)
      this.#outsideTimer = undefined
      for (const entry of this.#groups.values()) entry.retrack(true)
      this.#regateAll()
    }
    topology.onRedirect = (node) => this.#redirected(node)
    topology.onReaderOut = (node) => this.#left(node)
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
      // Without replica reads every node read from is a primary, which must be up; so must a
      // node outside the map a redirection reads from.
      gated: (tracker) =>
        this.#readFromReplicas &&
        !this.#outside.has(tracker.node) &&
        !topology.primaries().includes(tracker.node),
      onMember: (tracker) => this.#regate(tracker.node),
    })
    const entry: Entry = {
      trackers,
      members: new Set(),
      retrack: (reset) => {
        const members = new Set([...topology.readers(), ...this.#outside.keys()])
        entry.members = members
        const nodes = [...members].map((node) => {
          let tracker = trackers.get(node.address)
          if (tracker === undefined) {
            tracker = { node, track: (p, l) => this.#open(node, p, l) }
            trackers.set(node.address, tracker)
          }
          return tracker
        })
        // A new member keeps the group down until it is tracked, and no read in flight stores.
        group.set(nodes)
        if (reset) group.reset()
      },
    }
    this.#groups.set(group, entry)
    if (topology.built) {
      try {
        entry.retrack(true)
      } catch (error) {
        // No tracking connection can be opened (a handed-in cluster without node options).
        this.#groups.delete(group)
        group.close().catch(() => undefined)
        throw error
      }
    }
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
    clearTimeout(this.#outsideTimer)
    this.#outsideTimer = undefined
    this.#outside.clear()
    for (const group of this.#groups.keys()) group.close().catch(() => undefined)
    this.#groups.clear()
  }

  /**
   * A redirection sends a command to `node` next: every group that does not track it starts to,
   * before the command goes — the group is down (the tier emptied, no read in flight stores)
   * until `node`'s tracking connection is on, so no value read from it is held unwatched.
   */
  #redirected(node: NodeHandle): void {
    if (this.#groups.size === 0) return
    if (!this.#topology.readers().includes(node)) {
      this.#outside.set(node, performance.now())
      this.#outsideTimer ??= setTimeout(() => this.#dropOutside(), OUTSIDE_KEPT_MS).unref()
    }
    let missing = false
    for (const entry of this.#groups.values()) if (!entry.members.has(node)) missing = true
    if (!missing) return
    for (const [group, entry] of this.#groups) {
      if (entry.members.has(node)) continue
      try {
        entry.retrack(false)
      } catch {
        // No tracking connection can be opened: keep the tier off rather than fail the command.
        group.reset()
      }
    }
    this.#regateAll()
  }

  /**
   * Stops tracking the nodes outside the map that no redirection named for `OUTSIDE_KEPT_MS`:
   * each group tracks the others anew, emptied (what it read from a node it no longer watches
   * must go), as after a change of the map.
   */
  #dropOutside(): void {
    this.#outsideTimer = undefined
    const now = performance.now()
    let next = Number.POSITIVE_INFINITY
    let dropped = false
    for (const [node, at] of this.#outside) {
      if (now - at >= OUTSIDE_KEPT_MS) {
        this.#outside.delete(node)
        dropped = true
      } else {
        next = Math.min(next, at + OUTSIDE_KEPT_MS - now)
      }
    }
    if (next !== Number.POSITIVE_INFINITY) {
      this.#outsideTimer = setTimeout(() => this.#dropOutside(), next).unref()
    }
    if (!dropped) return
    for (const [group, entry] of this.#groups) {
      try {
        entry.retrack(true)
      } catch {
        group.reset()
      }
    }
    this.#regateAll()
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

  /**
   * `node` left its shard's read rotation though its tracking is up (cut off from its primary, it
   * no longer applies the writes, so it never reports them): every group that tracks it empties
   * the tier and is up again at once (`TrackingGroup.reset`, as `TrackingGate.left` does on a
   * replica set). The tier does not know which node a value came from, so it is emptied whole.
   */
  #left(node: NodeHandle): void {
    for (const [group, entry] of this.#groups) {
      const tracker = entry.trackers.get(node.address)
      if (tracker !== undefined && tracker.node === node && group.tracks(tracker)) group.reset()
    }
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
