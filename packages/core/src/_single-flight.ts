import { MAX_TIMER_MS } from './_limits.ts'
/** What a waiter's promise resolves to when it waited its full bound. */
export const TIMED_OUT: unique symbol = Symbol('timed out')
/**
 * What a waiter's promise resolves to when the cache closed while it waited (or it joined after
 * `close()`): the caller does not compute the value itself, as a caller that timed out does — its
 * store would meet the closed connection, and a shutdown would call the factory once per waiter.
 */
export const CLOSED: unique symbol = Symbol('closed')

/** Waiters whose bound ends at the same tick share one promise: no timer, no object per waiter. */
interface Bucket {
  readonly due: number
  readonly promise: Promise<unknown>
  readonly resolve: (value: unknown) => void
}

/** One computation in flight, and the buckets of the callers waiting on it. */
interface Flight {
  readonly promise: Promise<unknown>
  /** Ordered by `due`. */
  readonly buckets: Bucket[]
  timer: NodeJS.Timeout | undefined
  /** Resolves `CLOSED` at `close()`, for the waiters without a bound (made for the first). */
  stop: { promise: Promise<unknown>; resolve: (value: unknown) => void } | undefined
}

/**
 * Computations in flight by key, so that concurrent callers for one key share one computation,
 * each waiting a bounded time.
 *
 * A waiter's bound is rounded up to a tick (a tenth of the bound, between 5 ms and 1 s): waiters
 * whose bounds end on the same tick share one promise, and each flight has at most one timer, armed
 * for its earliest tick. 200,000 waiters on one key therefore cost 200,000 suspended calls and a
 * handful of promises, not 200,000 timers. A flight leaves the map as soon as it settles, or as
 * soon as a waiter gave up on it (it is presumed hung: later callers start a computation of their
 * own instead of waiting on it again); nothing is kept once every caller settled.
 */
export class SingleFlight {
  readonly #flights = new Map<string, Flight>()
  /** Flights `start` replaced that have not settled: `close()` ends their waits too. */
  readonly #replaced = new Set<Flight>()
  #closed = false

  /**
   * Joins the computation in flight for `key`: a promise of its value (or its error), of
   * `TIMED_OUT` once `waitMs` passed (`null`: no bound), or of `CLOSED` once the cache closed
   * (at once, after `close()`). `undefined` when nothing is in flight.
   */
  join(key: string, waitMs: number | null): Promise<unknown> | undefined {
    const flight = this.#flights.get(key)
    if (flight === undefined) return undefined
    // A computation started after close() (by a call whose read was answered after it).
    if (this.#closed) return Promise.resolve(CLOSED)
    if (waitMs !== null && waitMs <= 0) return Promise.resolve(TIMED_OUT)
    if (waitMs === null) {
      // Per flight, so that nothing outlives it (one promise for the cache would keep a reaction
      // of every such waiter until close()).
      if (flight.stop === undefined) {
        let resolve: (value: unknown) => void = () => {}
        const promise = new Promise<unknown>((res) => {
          resolve = res
        })
        flight.stop = { promise, resolve }
      }
      return Promise.race([flight.promise, flight.stop.promise])
    }
    return this.#bucket(key, flight, waitMs).promise
  }

  /** Whether a computation for `key` is in flight (and not presumed hung). */
  has(key: string): boolean {
    return this.#flights.has(key)
  }

  /** The computation in flight for `key` (not presumed hung), as `start` registered it. */
  current(key: string): Promise<unknown> | undefined {
    return this.#flights.get(key)?.promise
  }

  /**
   * Registers `promise` as the computation in flight for `key` until it settles (in place of one
   * registered before, whose waiters keep waiting on it).
   */
  start(key: string, promise: Promise<unknown>): void {
    const flight: Flight = { promise, buckets: [], timer: undefined, stop: undefined }
    const previous = this.#flights.get(key)
    if (previous !== undefined) this.#replaced.add(previous)
    this.#flights.set(key, flight)
    const settle = () => {
      if (flight.timer !== undefined) clearTimeout(flight.timer)
      flight.timer = undefined
      // Every bucket follows the promise already (see #bucket).
      flight.buckets.length = 0
      this.#replaced.delete(flight)
      this.#forget(key, flight)
    }
    promise.then(settle, settle)
  }

  /**
   * The cache closed: every waiter stops waiting for the computation it joined now (`CLOSED`:
   * the caller rejects with `ClosedError`, its factory not run), and its timers go. The
   * computations themselves run on: their own callers get the value they compute.
   */
  close(): void {
    this.#closed = true
    for (const flight of [...this.#flights.values(), ...this.#replaced]) {
      if (flight.timer !== undefined) clearTimeout(flight.timer)
      flight.timer = undefined
      for (const bucket of flight.buckets) bucket.resolve(CLOSED)
      flight.buckets.length = 0
      flight.stop?.resolve(CLOSED)
    }
    this.#flights.clear()
    this.#replaced.clear()
  }

  #bucket(key: string, flight: Flight, waitMs: number): Bucket {
    const tick = Math.min(1000, Math.max(5, Math.floor(waitMs / 10)))
    const due = Math.ceil((performance.now() + waitMs) / tick) * tick
    const { buckets } = flight
    // Waiters with one bound arrive in due order: the last bucket is almost always the one.
    let at = buckets.length
    while (at > 0 && (buckets[at - 1] as Bucket).due > due) at--
    const previous = buckets[at - 1]
    if (previous !== undefined && previous.due === due) return previous
    let resolve: (value: unknown) => void = () => {}
    let reject: (error: unknown) => void = () => {}
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res
      reject = rej
    })
    flight.promise.then(resolve, reject)
    const bucket: Bucket = { due, promise, resolve }
    buckets.splice(at, 0, bucket)
    if (at === 0) this.#arm(key, flight)
    return bucket
  }

  /** Arms the flight's one timer for its earliest bucket. */
  #arm(key: string, flight: Flight): void {
    if (flight.timer !== undefined) clearTimeout(flight.timer)
    const first = flight.buckets[0]
    if (first === undefined) {
      flight.timer = undefined
      return
    }
    // Capped: #expire arms the timer again while the earliest bucket is not due.
    flight.timer = setTimeout(
      () => this.#expire(key, flight),
      Math.min(MAX_TIMER_MS, Math.max(0, first.due - performance.now())),
    )
  }

  #expire(key: string, flight: Flight): void {
    flight.timer = undefined
    const now = performance.now()
    let expired = 0
    for (const bucket of flight.buckets) {
      // A timer may fire a fraction of a millisecond before performance.now() reaches `due`.
      if (bucket.due > now + 1) break
      bucket.resolve(TIMED_OUT)
      expired++
    }
    if (expired > 0) {
      flight.buckets.splice(0, expired)
      // Someone waited the full bound: the computation looks hung, so new callers do not join it.
      this.#forget(key, flight)
    }
    this.#arm(key, flight)
  }

  #forget(key: string, flight: Flight): void {
    if (this.#flights.get(key) === flight) this.#flights.delete(key)
  }
}
