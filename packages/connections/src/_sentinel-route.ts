// Where the sentinel connection sends a call: a write to the primary through the failover gate
// (held back or refused while the sentinels fail the primary over), a read to a replica of the
// rotation, or to the primary when none is in it or the read asks for the primary.
import type { CommandRoute, RedisArgument } from '@cachex/core'
import type { FailoverGate } from './_failover.ts'
import type { ReplicaRotation } from './_rotation.ts'
import { readBatchOn, readOn } from './_rotation-reads.ts'
import type { StandaloneConnection } from './standalone.ts'

/** What `SentinelRoutes` routes with: the connection's own parts. */
export interface SentinelRoutesOptions {
  /** `undefined` with `replicaPoolSize: 0`: reads run on the primary. */
  rotation: ReplicaRotation | undefined
  failover: FailoverGate
  /** The primary in use (known once the sentinels were asked). */
  primary: () => StandaloneConnection
  closed: () => boolean
  /** How long a read waits for a live node while the primary is down (`socketTimeout`). */
  waitMs: number
}

/** Routes the sentinel connection's commands and batches (see `sentinel()`). */
export class SentinelRoutes {
  readonly #rotation: ReplicaRotation | undefined
  readonly #failover: FailoverGate
  readonly #primary: () => StandaloneConnection
  readonly #closed: () => boolean
  readonly #waitMs: number

  constructor(options: SentinelRoutesOptions) {
    this.#rotation = options.rotation
    this.#failover = options.failover
    this.#primary = options.primary
    this.#closed = options.closed
    this.#waitMs = options.waitMs
  }

  command(args: RedisArgument[], route: CommandRoute | undefined): Promise<unknown> {
    const readonly = route?.readonly === true
    if (readonly || route?.primaryRead === true) {
      // Reads on the primary (`route.primaryRead`: a key written a moment ago) run as reads that
      // found no replica: not held back as writes are while the primary is failed over.
      return readOn(
        readonly ? this.#rotation : undefined,
        this.#primary,
        args,
        route,
        this.#closed,
        this.#readWaitMs(),
        this.#failingOver,
      )
    }
    const primary = this.#failover.writable()
    if (primary !== undefined) return primary.command(args, route)
    return this.#failover.writer().then((node) => node.command(args, route))
  }

  /** A batch, routed as one command of it would be (reads on the primary as in `command`). */
  async batch(commands: RedisArgument[][], route: CommandRoute | undefined): Promise<unknown[]> {
    const readonly = route?.readonly === true
    if (!readonly && route?.primaryRead !== true) {
      const writer = this.#failover.writable() ?? (await this.#failover.writer())
      return writer.batch(commands, route)
    }
    return readBatchOn(
      readonly ? this.#rotation : undefined,
      this.#primary,
      commands,
      route,
      this.#closed,
      this.#readWaitMs(),
      this.#failingOver,
    )
  }

  /**
   * Whether the sentinels are failing the primary over: a read then waits for the new primary
   * even while the old one refuses the handshake (`readOn`); otherwise a refusal (a wrong
   * password) fails the read at once, as it fails a write.
   */
  readonly #failingOver = (): boolean => this.#failover.failingOver()

  /**
   * How long a read that finds no replica waits for one, or for a live primary, while the
   * primary is down, instead of failing on the dead one (`waitMs`): with replicas in use, a
   * replica checked just as its primary died is out until it is promoted, and the sentinels drop
   * the promoted one's clients before they announce it; without replicas, the new primary is
   * what a read waits for while the sentinels fail the old one over. Otherwise a read on a dead
   * primary fails fast, as any call to it. A primary that refuses the handshake (a wrong
   * password) is not dead: reads on it fail fast with the refusal outside a failover (`readOn`).
   */
  #readWaitMs(): number {
    return this.#rotation !== undefined || this.#failover.failingOver() ? this.#waitMs : 0
  }
}
