import { TimeoutError } from '@cachex/core'
import {
  type CommandRefusal,
  commandRefusal,
  refusalRemedy,
  refusalWords,
  type Warn,
  warner,
} from './_acl.ts'
import type { DataSetIdentity } from './_data-set.ts'
import { ofAnotherDataSet, type ReplicaState, replicaState, verdict } from './_replica-verdict.ts'
import type { StandaloneConnection } from './standalone.ts'

export { type ReplicaState, replicaState, verdict } from './_replica-verdict.ts'

/** Milliseconds between two checks of a replica's replication state. */
export const REPLICA_CHECK_MS = 1000

interface Member {
  readonly node: StandaloneConnection
  /** The connection generation `state` was read on; a new connection needs a new check. */
  generation: number
  state: ReplicaState | undefined
  /** The `run_id` the node had when last seen healthy; cleared when it leaves the rotation. */
  trustedRunId: string | undefined
  /** The last check let it serve reads (`healthy` or `complete`). */
  serving: boolean
  /** The last check found it holding another data set than the primary's (`ofAnotherDataSet`). */
  foreign: boolean
  /** `performance.now()` until which it is left out, after a read timed out on it. */
  benchedUntil: number
  checking: boolean
  /**
   * It may not run `INFO` (the ACL user lacks it, or it is renamed or disabled there): it is never
   * checked again, and serves no reads.
   */
  refused: boolean
}

/** What a `ReplicaRotation` needs to know of the topology around it. */
export interface RotationOptions {
  /**
   * Whether writes have a primary now (it is not known down, and no failover runs): while they
   * do not, replicas that were healthy keep serving reads though their link is down.
   */
  primaryUp(): boolean
  /** Milliseconds a replica whose read timed out is left out. */
  benchMs: number
  /** Milliseconds between two checks of each replica. @default REPLICA_CHECK_MS */
  checkMs?: number
  /**
   * Whether `node` may serve a read now besides its health: with a local tier, only while its
   * tracking connection is up (`TrackingGate.admits`). @default every node may
   */
  admits?(node: StandaloneConnection): boolean
  /**
   * Called when a check takes `node`, which could serve reads, out of the rotation: a local tier
   * drops what it read from it, which a node cut off from its primary never reports written
   * (`TrackingGate.left`). @default nothing is done
   */
  onOut?(node: StandaloneConnection): void
  /**
   * The configured primary's data set (`PrimaryDataSet`), asked once per check interval: a replica
   * of another one (re-pointed at another server) leaves the rotation. Sentinel lists the
   * replicas of the primary it announces, and has none. @default replicas are not compared
   */
  dataSet?: DataSetIdentity
  /**
   * Where to say, once, that a replica cannot be checked because it may not run `INFO` — the ACL
   * user lacks it, or it is renamed or disabled there (reads then stay on the primary).
   * @default `warner()` (Node's `process.emitWarning`)
   */
  warn?: Warn
}

/**
 * The read rotation of a topology with replicas (`replica`, `sentinel`): a node serves reads only
 * once it reported itself a replica in sync with its primary (`role:slave`,
 * `master_link_status:up`), checked on every new connection to it and every `checkMs` after, and
 * leaves the rotation as soon as a check says otherwise (see `verdict`) — given the primary's
 * `dataSet`, also when it replicates another data set. A node is never read from on a connection
 * that was not checked: a restarted, empty node reconnects first. With a local tier, a node
 * serves reads only while its tracking connection is up too (`admits`), and the tier is emptied
 * when a check takes a node that could serve reads out (`onOut`).
 */
export class ReplicaRotation {
  readonly #members = new Map<StandaloneConnection, Member>()
  readonly #options: RotationOptions
  #timer: NodeJS.Timeout | undefined
  #closed = false
  /** The `INFO` refusal was reported (once per rotation). */
  #warned = false

  constructor(options: RotationOptions) {
    this.#options = options
  }

  /** The nodes that are candidates now. */
  get nodes(): StandaloneConnection[] {
    return [...this.#members.keys()]
  }

  /** Makes `node` a candidate: it serves reads once a check finds it healthy. */
  add(node: StandaloneConnection): void {
    if (this.#closed || this.#members.has(node)) return
    this.#members.set(node, {
      node,
      generation: -1,
      state: undefined,
      trustedRunId: undefined,
      serving: false,
      foreign: false,
      benchedUntil: 0,
      checking: false,
      refused: false,
    })
    this.#check(this.#members.get(node) as Member)
    // One request for all the replicas added together.
    this.#options.dataSet?.refresh(this.#rejudge)
    this.#timer ??= setInterval(() => this.checkAll(), this.#options.checkMs ?? REPLICA_CHECK_MS)
    this.#timer.unref()
  }

  /** Takes `node` out of the candidates (it is the primary now, or gone). */
  remove(node: StandaloneConnection): void {
    this.#members.delete(node)
  }

  /**
   * A random node that may serve a read now, or `undefined` (then the primary serves it). Nodes
   * not connected start connecting; nodes on a connection not checked yet are checked.
   */
  pick(): StandaloneConnection | undefined {
    const members = this.#members
    if (members.size === 0) return undefined
    const primaryUp = this.#options.primaryUp()
    const admits = this.#options.admits
    let chosen: StandaloneConnection | undefined
    let seen = 0
    let now = 0
    for (const member of members.values()) {
      const node = member.node
      if (member.refused) continue
      if (!node.ready) {
        node.warm()
        continue
      }
      if (member.generation !== node.readyCount) {
        this.#check(member)
        continue
      }
      if (member.benchedUntil !== 0) {
        now ||= performance.now()
        if (member.benchedUntil > now) continue
        member.benchedUntil = 0
      }
      const state = member.state
      if (state === undefined || member.foreign) continue
      if (verdict(state, member.trustedRunId, primaryUp) === 'out') continue
      // A local tier stores what a node returns only while that node's tracking is up.
      if (admits !== undefined && !admits(node)) continue
      // Reservoir sampling: each eligible node is chosen with the same odds, in one pass.
      seen++
      if (Math.random() * seen < 1) chosen = node
    }
    return chosen
  }

  /**
   * Takes `node` out of the rotation after it failed a read with `error`, until a check finds it
   * healthy again on a working connection (a replica the sentinels reconfigure drops its clients,
   * and is back a moment later); after a timeout, for `benchMs` at least.
   */
  bench(node: StandaloneConnection, error: unknown): void {
    const member = this.#members.get(node)
    if (member === undefined) return
    member.generation = -1
    if (error instanceof TimeoutError)
      member.benchedUntil = performance.now() + this.#options.benchMs
  }

  /** Checks every candidate now (after a topology change), and asks the primary's data set. */
  checkAll(): void {
    this.#options.dataSet?.refresh(this.#rejudge)
    for (const member of this.#members.values()) this.#check(member)
  }

  /** Stops checking; the nodes are closed by their owner. */
  close(): void {
    this.#closed = true
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#members.clear()
  }

  /**
   * Asks `INFO replication` and `INFO server` of one candidate (one round trip). A node that may
   * not run `INFO` — an ACL refusal (`NOPERM`), or `INFO` renamed or disabled there (`ERR unknown
   * command`, as managed services do) — is not asked again: the node never serves reads.
   */
  #check(member: Member): void {
    if (member.checking || member.refused || this.#closed) return
    const node = member.node
    // Not connected and known down: nothing to ask until it reconnects.
    if (node.isDown && !node.ready) {
      node.warm()
      return
    }
    member.checking = true
    const generation = node.readyCount
    Promise.all([
      node.command(['INFO', 'replication'], { text: true }),
      node.command(['INFO', 'server'], { text: true }),
    ]).then(
      ([replication, server]) => {
        member.checking = false
        // Sent on a connection that went away meanwhile: the next pick asks again.
        if (node.readyCount !== generation || this.#members.get(node) !== member) return
        member.state = replicaState(String(replication), String(server))
        member.generation = generation
        this.#judge(member, member.state)
      },
      (error: unknown) => {
        member.checking = false
        member.generation = -1
        const refusal = commandRefusal(error)
        if (refusal?.command === 'info' && this.#members.get(node) === member) {
          member.refused = true
          this.#refused(refusal)
        }
      },
    )
  }

  /** Judges `member` by what its last check found (`state`) and what is known of the primary. */
  #judge(member: Member, state: ReplicaState): void {
    const primaryReplid = this.#options.dataSet?.replid
    const judged = verdict(state, member.trustedRunId, this.#options.primaryUp(), primaryReplid)
    if (judged === 'healthy') member.trustedRunId = state.runId
    else if (judged === 'out') member.trustedRunId = undefined
    member.foreign = ofAnotherDataSet(state, primaryReplid)
    const served = member.serving
    member.serving = judged !== 'out'
    // Out of the rotation from now on (`state` says so): what it served may be stale.
    if (served && judged === 'out') this.#options.onOut?.(member.node)
  }

  /**
   * The primary's data set was asked: each replica is judged again by its last check, so that
   * one of another data set leaves at once, whichever reply came first.
   */
  readonly #rejudge = (): void => {
    for (const member of this.#members.values()) {
      const state = member.state
      if (state !== undefined && member.generation === member.node.readyCount) {
        this.#judge(member, state)
      }
    }
  }

  /** Says once that the replicas cannot be checked, so that reads stay on the primary. */
  #refused(refusal: CommandRefusal): void {
    if (this.#warned) return
    this.#warned = true
    ;(this.#options.warn ?? warner())(
      `cachex: on a read replica, INFO ${refusalWords(refusal)}, and cachex needs it to check that a replica is in sync with its primary (INFO replication): reads stay on the primary. ${refusalRemedy(refusal, '+info')} to read from the replicas.`,
    )
  }
}
