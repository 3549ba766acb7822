// The local tier's heartbeat: notices that this process's event loop stalled — frozen (SIGSTOP,
// a serverless platform freezing the process between invocations) or blocked by a long
// synchronous task. Keys written meanwhile were reported on the tracking connection (or it was
// closed), but the process reads that socket only when its loop turns again, and a request may
// be served first: from the tier, the overwritten value. So after a stall the tier is emptied.
//
// Why a timer finds the stall before a request is read: after a stall, the loop's timers phase
// runs before its next poll for I/O. A process frozen while it waited for I/O resumes in that
// wait (epoll_wait), which a stop and continue interrupts (EINTR); libuv then finds the wait's
// timeout (the next timer, this heartbeat at most BEAT_MS away) passed and returns without
// dispatching the sockets, to run the due timers; a loop blocked by a synchronous task ends its
// phase, then runs the due timers before it polls. Either way this heartbeat, due, runs before a
// request arriving over the network and before the tracking connection's pending invalidations
// are read, and empties the tier first. What it cannot cover: a read made from a timer due before
// the heartbeat in that same turn (Node runs due timers in the order they fell due: at most
// BEAT_MS of timers; measured with a 3 s SIGSTOP, a read from a timer due 100 ms into the freeze
// returned the old value 3 times of 3, one due 200 or 400 ms into it never, the heartbeat's phase
// deciding), from a setImmediate queued by a task that blocked in an I/O callback, or by the
// blocking task itself. `peek` (the hit path of `Cache.get`) reads no clock; the reads that take
// it anyway (`LocalTier.get`, `getMany`, `ttl`, getOrSet's stampede reads) check the gap too.

/** How often the heartbeat runs, in milliseconds. */
export const BEAT_MS = 250

/**
 * How late a timer must fire, in milliseconds, to mean that the event loop stalled (blocked by a
 * synchronous task, or the process frozen), not that a server is slow: far more than a busy
 * machine delays a timer, far less than a timeout. The heartbeat counts a gap since its last beat
 * longer than this as a stall; the connections' deadlines and tracking watchdog give a command
 * or a connection back the time of such a stall instead of failing it.
 */
export const STALLED_LOOP_MS = 1000

/** A repeating, unref'd timer that calls `stalled` when the event loop was stalled. */
export class Heartbeat {
  readonly #stalled: () => void
  #timer: ReturnType<typeof setInterval> | undefined
  /** `performance.now()` at the last beat (or at the last stall found). */
  #last = 0

  constructor(stalled: () => void) {
    this.#stalled = stalled
  }

  /** Starts beating (no-op when it beats already); the process may exit while it does. */
  start(): void {
    if (this.#timer !== undefined) return
    this.#last = performance.now()
    this.#timer = setInterval(() => this.#beat(performance.now()), BEAT_MS)
    this.#timer.unref()
  }

  /** Stops beating. */
  stop(): void {
    if (this.#timer === undefined) return
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  #beat(now: number): void {
    const gap = now - this.#last
    this.#last = now
    if (gap > STALLED_LOOP_MS) this.#stalled()
  }

  /**
   * From a read, at `now` (`performance.now()`, which it reads anyway), while beating: calls
   * `stalled` when more than STALLED_LOOP_MS passed since the last beat (and counts `now` as
   * one). A read is not a beat otherwise: a task that blocks the loop and reads meanwhile still
   * stalls it. Emptied then, the tier stays empty until the loop turns (a value is held on a
   * reply).
   */
  check(now: number): void {
    if (now - this.#last > STALLED_LOOP_MS && this.#timer !== undefined) this.#beat(now)
  }
}
