// Which data set the configured primary holds (its replication ID, `master_replid`), asked on the
// read rotation's schedule: a listed replica re-pointed (`REPLICAOF`) at another server stays a
// replica with its link up, but holds another application's data, and must serve no read. The
// replication ID tells it: equal on a primary, its replicas and theirs (also after a `FAILOVER`
// among them), another on a replica of another data set. Never the address a replica says its
// primary has (`master_host`), which differs from the configured one behind NAT or with
// `replica-announce-ip`.
import { commandRefusal } from './_acl.ts'
import type { StandaloneConnection } from './standalone.ts'

/** What the read rotation asks of the primary's data set (`RotationOptions.dataSet`). */
export interface DataSetIdentity {
  /**
   * The primary's `master_replid`, when it answered recently on its current connection and is not
   * known down; `undefined` otherwise (then replicas are judged as they were without it).
   */
  readonly replid: string | undefined
  /**
   * Asks the primary again, unless a request is in flight or it refused `INFO` once; `answered`
   * runs when the reply (or the failure) comes, so that the replicas are judged with it.
   */
  refresh(answered: () => void): void
}

/** How many check intervals an answer of the primary is trusted for. */
const FRESH_CHECKS = 3

/**
 * The replication ID of the primary of a `replica` connection: one `INFO replication` on the
 * primary per `refresh` (the rotation's check interval, whatever the number of replicas), never on
 * a call's path. While the primary is known down, or has not answered within `FRESH_CHECKS`
 * intervals, it is not known: a replica re-pointed at a replica promoted by hand must keep
 * serving. An ACL user that may not run `INFO` there (or `INFO` renamed or disabled) is not asked
 * again: replicas are judged without it.
 */
export class PrimaryDataSet implements DataSetIdentity {
  readonly #primary: StandaloneConnection
  readonly #freshMs: number
  #replid: string | undefined
  /** The primary's connection generation (`readyCount`) `#replid` was read on. */
  #generation = -1
  /** `performance.now()` when `#replid` was read. */
  #at = 0
  #asking = false
  #refused = false

  constructor(primary: StandaloneConnection, checkMs: number) {
    this.#primary = primary
    this.#freshMs = FRESH_CHECKS * checkMs
  }

  get replid(): string | undefined {
    const primary = this.#primary
    if (this.#replid === undefined || primary.isDown) return undefined
    // A new connection may reach a restarted primary, with a new replication ID.
    if (primary.readyCount !== this.#generation) return undefined
    return performance.now() - this.#at <= this.#freshMs ? this.#replid : undefined
  }

  refresh(answered: () => void): void {
    const primary = this.#primary
    if (this.#asking || this.#refused || primary.isDown) return
    this.#asking = true
    primary.command(['INFO', 'replication'], { text: true }).then(
      (reply) => {
        this.#asking = false
        const replid = /^master_replid:(.*)$/m.exec(String(reply))?.[1]?.trim()
        this.#replid = replid === '' ? undefined : replid
        this.#generation = primary.readyCount
        this.#at = performance.now()
        answered()
      },
      (error: unknown) => {
        this.#asking = false
        this.#replid = undefined
        if (commandRefusal(error)?.command === 'info') this.#refused = true
        answered()
      },
    )
  }
}
