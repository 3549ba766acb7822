// The tracking of a topology with several nodes (replicas, sentinel, cluster): one tracking
// connection per node that may serve a read, seen by the local tier as one. A value read from a
// node may be stored only if that node's tracking connection was up for the whole read. So the
// group is up only while every REQUIRED member is up — the primaries, and the replicas reads may
// go to — and a `TrackingGate` keeps a replica out of the read rotation while its tracking is not
// up: a replica that stays down does not keep the tier off. A member lost (required or not), a
// member added or removed, a change of the topology (a failover, a slot move), or a replica
// leaving the read rotation (`TrackingGate.left`) reports `down`, so the tier is emptied and no
// read in flight stores, then `up` again once the required members are on.
import type { Tracking, TrackingListener } from '@cachex/core'
import { WARN_ONCE_FOR } from './_acl.ts'

/** A node that can open a tracking connection of its own (a `StandaloneConnection`). */
export interface TrackableNode {
  track(prefixes: readonly string[], listener: TrackingListener): Tracking
}

interface Member {
  tracking: Tracking
  up: boolean
}

/** How a `TrackingGroup` treats its members. */
export interface TrackingGroupOptions<Node> {
  /**
   * Whether reads go to `node` only while its tracking is up (a replica behind a `TrackingGate`):
   * the group is up without it, and its loss only empties the tier (in-flight reads do not
   * store). The others (the primaries) must be up for the group to be. @default none is gated
   */
  gated?(node: Node): boolean
  /** Called after `node`'s tracking connection went up or down (and the group reported it). */
  onMember?(node: Node): void
}

/**
 * The read gate of one connection: with no tracking group (no local tier), every node may serve
 * reads; with some, a node may only while every group tracks it and its tracking is up there.
 */
export class TrackingGate<Node extends TrackableNode> {
  readonly #groups = new Set<TrackingGroup<Node>>()

  /** Gates reads on `group`'s tracking too. */
  add(group: TrackingGroup<Node>): void {
    this.#groups.add(group)
  }

  /** Stops gating reads on `group` (closed). */
  delete(group: TrackingGroup<Node>): void {
    this.#groups.delete(group)
  }

  /** Whether a read may go to `node` now. */
  admits(node: Node): boolean {
    for (const group of this.#groups) if (!group.tracks(node)) return false
    return true
  }

  /**
   * `node` left the read rotation though its tracking is up (cut off from its primary, it no
   * longer applies the writes, so it never reports them): every group that admitted reads from it
   * empties the tier, as after a change of the topology (`TrackingGroup.reset`), and is up again
   * at once. The tier does not know which node a value came from, so it is emptied whole.
   */
  left(node: Node): void {
    for (const group of this.#groups) if (group.tracks(node)) group.reset()
  }
}

/**
 * Several tracking connections reported to one listener as one: `up` when every required
 * member (not `gated`) is up, `down` as soon as one is not — and for a moment (the tier is
 * emptied) when a gated one goes down — every member's invalidations as they come.
 */
export class TrackingGroup<Node extends TrackableNode> {
  readonly #prefixes: readonly string[]
  readonly #listener: TrackingListener
  readonly #members = new Map<Node, Member>()
  readonly #gated: (node: Node) => boolean
  readonly #onMember: ((node: Node) => void) | undefined
  /** What was last reported: `up` or not. */
  #up = false
  #closed = false

  constructor(
    prefixes: readonly string[],
    listener: TrackingListener,
    options: TrackingGroupOptions<Node> = {},
  ) {
    this.#prefixes = prefixes
    this.#listener = listener
    this.#gated = options.gated ?? (() => false)
    this.#onMember = options.onMember
  }

  /** Whether `node` is a member whose tracking connection is up now. */
  tracks(node: Node): boolean {
    return !this.#closed && this.#members.get(node)?.up === true
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
   * read in flight stores), then `up` again if every required member is on.
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
        this.#onMember?.(node)
      },
      down: () => {
        if (!current()) return
        const was = member.up
        member.up = false
        // A read may be in flight on it (it was admitted while up): no read in flight stores.
        if (was) this.reset()
        else this.#report()
        this.#onMember?.(node)
      },
      invalidate: (keys) => {
        // A gated member is a replica: its invalidations are reported as such (see
        // `TrackingListener.invalidate`).
        if (current()) this.#listener.invalidate(keys, this.#gated(node))
      },
      // A refusal (a user who may not run CLIENT TRACKING) is said once for the group, not per node.
      [WARN_ONCE_FOR]: this.#listener,
    } as TrackingListener)
  }

  /**
   * Reports a change of the group's state: up when every required member is up (and there is
   * one). A gated member that is not up serves no read (the gate), so it is not waited for.
   */
  #report(): void {
    if (this.#closed) return
    let up = false
    for (const [node, member] of this.#members) {
      if (this.#gated(node)) continue
      if (!member.up) {
        up = false
        break
      }
      up = true
    }
    if (up === this.#up) return
    this.#up = up
    if (up) this.#listener.up()
    else this.#listener.down()
  }
}
