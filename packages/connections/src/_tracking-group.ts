// The tracking of a topology with several nodes (replicas, sentinel, cluster): one tracking
// connection per node that may serve a read, seen by the local tier as one. It is up only while
// every member is up; a member lost, added, or a change of the topology (a failover, a slot
// move) reports `down`, so the tier is emptied, then `up` again once every member is on.
import type { Tracking, TrackingListener } from '@cachex/core'

/** A node that can open a tracking connection of its own (a `StandaloneConnection`). */
export interface TrackableNode {
  track(prefixes: readonly string[], listener: TrackingListener): Tracking
}

interface Member {
  tracking: Tracking
  up: boolean
}

/**
 * Several tracking connections reported to one listener as one: `up` when every member is up,
 * `down` as soon as one is not, every member's invalidations as they come.
 */
export class TrackingGroup<Node extends TrackableNode> {
  readonly #prefixes: readonly string[]
  readonly #listener: TrackingListener
  readonly #members = new Map<Node, Member>()
  /** What was last reported: `up` or not. */
  #up = false
  #closed = false
  readonly #isReplica: (node: Node) => boolean

  /**
   * `isReplica`: whether a node is a replica now (its invalidations are reported with `replica`);
   * none is by default.
   */
  constructor(
    prefixes: readonly string[],
    listener: TrackingListener,
    isReplica: (node: Node) => boolean = () => false,
  ) {
    this.#prefixes = prefixes
    this.#listener = listener
    this.#isReplica = isReplica
  }

  /**
   * Tracks exactly `nodes`: opens a tracking connection on each new one (the group is down until
   * it is on), closes those of the nodes gone. A change of members empties the tier.
   */
  set(nodes: Iterable<Node>): void {
    if (this.#closed) return
    const wanted = new Set(nodes)
    let changed = false
    for (const [node, member] of this.#members) {
      if (wanted.has(node)) continue
      this.#members.delete(node)
      member.tracking.close().catch(() => undefined)
      changed = true
    }
    for (const node of wanted) {
      if (this.#members.has(node)) continue
      changed = true
      this.#open(node)
    }
    if (changed) this.reset()
  }

  /**
   * The topology changed (a failover, a slot move): reports `down` (the tier is emptied and no
   * read in flight stores), then `up` again if every member is on.
   */
  reset(): void {
    if (this.#closed) return
    if (this.#up) {
      this.#up = false
      this.#listener.down()
    }
    this.#report()
  }

  /** Closes every member; no report follows. */
  async close(): Promise<void> {
    this.#closed = true
    this.#up = false
    const members = [...this.#members.values()]
    this.#members.clear()
    await Promise.all(members.map((member) => member.tracking.close().catch(() => undefined)))
  }

  #open(node: Node): void {
    const member: Member = { tracking: undefined as unknown as Tracking, up: false }
    this.#members.set(node, member)
    const current = () => !this.#closed && this.#members.get(node) === member
    member.tracking = node.track(this.#prefixes, {
      up: () => {
        if (!current()) return
        member.up = true
        this.#report()
      },
      down: () => {
        if (!current()) return
        member.up = false
        this.#report()
      },
      invalidate: (keys) => {
        if (current()) this.#listener.invalidate(keys, this.#isReplica(node))
      },
    })
  }

  /** Reports a change of the group's state: up when every member is up (and there is one). */
  #report(): void {
    if (this.#closed) return
    let up = this.#members.size > 0
    for (const member of this.#members.values()) up &&= member.up
    if (up === this.#up) return
    this.#up = up
    if (up) this.#listener.up()
    else this.#listener.down()
  }
}
