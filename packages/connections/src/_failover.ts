import { ConnectionError } from '@cachex/core'
import { FailoverError } from './_errors.ts'
import type { StandaloneConnection } from './standalone.ts'

// A sentinel connection's failover state, and where its writes go meanwhile: to the primary now,
// or (`waitForPrimary`) once the sentinels announce the new one, or a `FailoverError`. And the
// calls already sent to the primary being replaced: a late reply of it must not count.

/** Notifications that a sentinel is failing the primary over: no more writes to it. */
export const FAILOVER_STEPS = new Set([
  '+try-failover',
  '+elected-leader',
  '+failover-state-select-slave',
  '+selected-slave',
  '+failover-state-send-slaveof-noone',
  '+failover-state-wait-promotion',
  '+promoted-slave',
  '+failover-state-reconf-slaves',
])

/** Milliseconds between two asks of the sentinels while a failover runs, in case a notification is lost. */
const FAILOVER_POLL_MS = 500
/** Milliseconds between two looks of the writes that wait for a primary (`waitForPrimary`). */
const WAIT_POLL_MS = 20

interface Waiter {
  resolve(): void
  until: number
}

/** What the failover gate asks of the sentinel connection. */
export interface FailoverGateOptions {
  /** `sentinelOptions.waitForPrimary`: writes wait for the new primary instead of failing. */
  waitForPrimary: boolean
  /** How long a write waits for a primary with `waitForPrimary`. */
  waitMs: number
  /** Where the service is, for messages. */
  where: string
  /** The current primary, if known. */
  primary(): StandaloneConnection | undefined
  /** The current primary's `host:port`, for messages. */
  primaryKey(): string | undefined
  /** Whether the connection is closed, and the error its calls then reject with. */
  closed(): boolean
  closedError(): Error
  /** Asks the sentinels for their views again: done every 500 ms while a failover runs. */
  poll(): void
}

/**
 * The failovers under way (which sentinels are failing the primary over, and since when), and
 * the writes through them: `writable()` says whether the primary takes a write now, `writer()`
 * waits for it (or fails), and `wake()` — called whenever the primary or the failover state
 * changes, and on close — lets waiting writes go. The calls sent to the primary before are
 * fenced when a failover begins, and cut off when it is replaced (`replaced`).
 */
export class FailoverGate {
  readonly #options: FailoverGateOptions
  /**
   * The sentinels failing the primary over now (`host:port`), and since when
   * (`performance.now()`): writes wait or fail while there is one.
   */
  readonly #failovers = new Map<string, number>()
  /** The service's `failover-timeout`: a failover nobody confirms is forgotten after it. */
  failoverTimeoutMs = 180_000
  #pollTimer: NodeJS.Timeout | undefined
  #waiters: Waiter[] = []
  #waitTimer: NodeJS.Timeout | undefined
  /** The primary a failover began on, until it answers the `PING` sent then (see `#fence`). */
  #suspect: StandaloneConnection | undefined

  constructor(options: FailoverGateOptions) {
    this.#options = options
  }

  /** Whether a sentinel is failing the primary over; forgets the ones past `failover-timeout`. */
  failingOver(): boolean {
    const failovers = this.#failovers
    if (failovers.size === 0) return false
    const now = performance.now()
    for (const [from, since] of failovers) {
      if (now - since > this.failoverTimeoutMs) failovers.delete(from)
    }
    if (failovers.size === 0) this.#stopPolling()
    return failovers.size > 0
  }

  /**
   * The sentinel `from` announced `step` (one of `FAILOVER_STEPS`) of failing the primary over.
   * The first step heard fences the primary (`#fence`); a later one other than `+try-failover`
   * (another sentinel trying too) comes a sentinel tick or more after it, and resets the
   * primary's connection if it has not answered the fence by then.
   */
  started(from: string, step: string): void {
    if (!this.failingOver()) this.#fence()
    else if (step !== '+try-failover') this.#resetSuspect()
    if (this.#failovers.has(from)) return
    this.#failovers.set(from, performance.now())
    this.#startPolling()
  }

  /** A sentinel announced the new primary: no failover is under way any more. */
  switched(): void {
    this.#failovers.clear()
    this.#stopPolling()
  }

  /**
   * The sentinels made `by` (`host:port`) the primary in place of `old`: its connection is reset
   * (`StandaloneConnection.reset`), as whatever it answers from now on — a frozen primary waking
   * up, or one the sentinels have not turned into a replica yet — is lost when it rejoins as a
   * replica of `by`. The calls still waiting on it reject with a `ConnectionError`, their outcome
   * unknown; reads there run again elsewhere.
   */
  replaced(old: StandaloneConnection, by: string): void {
    if (this.#suspect === old) this.#suspect = undefined
    old.reset(new ConnectionError(`the sentinels made ${by} the primary in its place`))
  }

  /**
   * A failover of the primary began: no write goes to it from now on, but the calls already sent
   * may still run on it after a replica is promoted — a frozen primary answers them as it wakes —
   * and be lost when the sentinels make it a replica. A `PING` sent now answers after them: a
   * live primary answers it within milliseconds, before the sentinels promote anyone (a tick or
   * more later), and keeps its calls; one that has not by the next step is reset
   * (`#resetSuspect`). A failover the sentinels give up costs its calls then an unknown outcome.
   */
  #fence(): void {
    const primary = this.#options.primary()
    this.#suspect = primary
    if (primary === undefined) return
    const answered = () => {
      if (this.#suspect === primary) this.#suspect = undefined
    }
    // Rejected (known down, timed out): stays suspect, its blocking calls may still be in flight.
    primary.command(['PING']).then(answered, () => undefined)
  }

  /** Resets the primary a failover began on if it has not answered the fence (`#fence`). */
  #resetSuspect(): void {
    const suspect = this.#suspect
    if (suspect === undefined) return
    this.#suspect = undefined
    suspect.reset(
      new ConnectionError(
        `the sentinels are failing it over, and it did not answer a PING sent as they began`,
      ),
    )
  }

  /**
   * The sentinels whose views, asked at `startedAt`, say they are failing the primary over: they
   * are; the others are not, unless they announced one after `startedAt`.
   */
  settle(failing: ReadonlySet<string>, startedAt: number): void {
    if (failing.size > 0 && !this.failingOver()) this.#fence()
    for (const [from, since] of this.#failovers) {
      if (since <= startedAt && !failing.has(from)) this.#failovers.delete(from)
    }
    for (const from of failing) {
      this.#failovers.set(from, Math.max(this.#failovers.get(from) ?? 0, startedAt))
    }
    if (this.#failovers.size > 0) this.#startPolling()
    else this.#stopPolling()
  }

  /** The connection closed: no more polling, and the waiting writes reject. */
  close(): void {
    this.#stopPolling()
    this.wake()
  }

  /**
   * The primary, when a write may go to it now: no sentinel is failing it over (and, with
   * `waitForPrimary`, it is not known down).
   */
  writable(): StandaloneConnection | undefined {
    const options = this.#options
    if (this.failingOver()) return undefined
    const primary = options.primary()
    if (options.waitForPrimary && primary?.isDown) return undefined
    return primary
  }

  /**
   * The primary to write to: now, or, with `waitForPrimary`, once there is one (at most
   * `socketTimeout`); a `FailoverError` while a failover runs otherwise.
   */
  async writer(): Promise<StandaloneConnection> {
    const now = this.writable()
    if (now !== undefined) return now
    const options = this.#options
    if (options.waitForPrimary) {
      await new Promise<void>((resolve) => {
        this.#waiters.push({ resolve, until: performance.now() + options.waitMs })
        this.#waitTimer ??= setInterval(() => this.wake(), WAIT_POLL_MS)
        this.#waitTimer.unref()
      })
      if (options.closed()) throw options.closedError()
      const primary = this.writable()
      if (primary !== undefined) return primary
      // Known down without a failover: its circuit breaker says why.
      if (!this.failingOver()) return options.primary() as StandaloneConnection
    }
    throw new FailoverError(
      `no write sent to ${options.where}: the sentinels are failing over its primary ${options.primaryKey()}${options.waitForPrimary ? `, and announced no new one within ${options.waitMs} ms` : '; writes go on once they announce the new one (sentinelOptions.waitForPrimary makes them wait for it)'}`,
    )
  }

  /** Lets the writes waiting for a primary go (or fail) once there is one, or their time is up. */
  wake(): void {
    if (this.#waiters.length === 0) return
    const ready = this.#options.closed() || this.writable() !== undefined
    const now = performance.now()
    const waiting: Waiter[] = []
    for (const waiter of this.#waiters) {
      if (ready || now >= waiter.until) waiter.resolve()
      else waiting.push(waiter)
    }
    this.#waiters = waiting
    if (waiting.length === 0) {
      clearInterval(this.#waitTimer)
      this.#waitTimer = undefined
    }
  }

  #startPolling(): void {
    if (this.#pollTimer !== undefined || this.#options.closed()) return
    this.#pollTimer = setInterval(() => this.#options.poll(), FAILOVER_POLL_MS)
    this.#pollTimer.unref()
  }

  #stopPolling(): void {
    clearInterval(this.#pollTimer)
    this.#pollTimer = undefined
  }
}
