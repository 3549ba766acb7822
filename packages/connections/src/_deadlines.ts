import {
  BackpressureError,
  InvalidArgumentError,
  type RedisArgument,
  TimeoutError,
} from '@cachex/core'
import { MAX_TIMER_MS, STALLED_LOOP_MS } from '@cachex/core/internal'
import { rejectAfterTurn } from './_after-turn.ts'
import type { BatchOverhead } from './_batch-within.ts'
import { COMMAND_OVERHEAD, NOT_AN_ARGUMENT } from './_command-shape.ts'
import { isClientOffline } from './_redis-errors.ts'

interface Entry {
  expires: number
  settled: boolean
  /** Given back the time of a stalled event loop once already (`Deadlines.#tick`): not again. */
  extended: boolean
  reject: (error: Error) => void
  command: string
  next: Entry | undefined
}

/**
 * The bytes of other commands a connection may have awaiting replies and still count as idle for
 * a command (or a batch) larger than `maxInFlightBytes`: a few small ones (8 of
 * `COMMAND_OVERHEAD`), such as cachex's own (the script that asks whether scripts run), which
 * would otherwise refuse a large write on a connection the caller left idle.
 */
export const IDLE_BYTES = 16 * 1024

/** The default `maxInFlightBytes`: 32 MiB. */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 32 * 1024 * 1024

/**
 * The bookkeeping of the calls in flight on one connection: it bounds each call's wait for its
 * reply, and caps the bytes of commands awaiting a reply.
 *
 * Deadlines: one timer per connection instead of one per command (node-redis's own per-command
 * `AbortSignal.timeout` costs about 3× throughput on small pipelined commands). Every tracked call
 * gets the same timeout, so entries expire in the order they were added: a linked list ordered by
 * deadline. A ticker running `resolution` ms apart rejects the expired ones at the head; settled
 * entries are dropped from the head as they finish, which keeps the list short on one connection
 * where replies arrive in order. A call therefore settles between `timeoutMs` and
 * `timeoutMs + resolution` after it started, whatever the server does. `onExpire` runs once per
 * tick in which calls timed out, so the connection can be reset (the commands still queued behind
 * a stalled server would otherwise all stay in memory, and all run once it wakes up).
 *
 * The cap: a call counts its `commandWeight` from when it is sent until node-redis settles its
 * reply — not until the call times out, since a timed-out command still sits in node-redis's queue
 * and on the socket. `refuse` is asked before each send.
 */
export class Deadlines {
  /** Milliseconds a call may wait for its reply; `undefined` for no bound. */
  readonly timeoutMs: number | undefined
  /** Most bytes awaiting a reply (`Infinity` for no cap). */
  readonly maxInFlightBytes: number
  /** Called once per tick in which calls timed out. */
  onExpire: (() => void) | undefined
  /**
   * Called once per tick while the oldest call in flight has waited `stallMs` or more for its
   * reply (long before it times out): a node may have stopped answering.
   */
  onStall: (() => void) | undefined
  /** How long the oldest call may wait before `onStall` runs: half the timeout, at most 500 ms. */
  readonly stallMs: number
  /**
   * While a batch admitted whole is sent (synchronously, by `batchWithin`): `refuse` passes its
   * commands, which would otherwise be refused one by one once the batch's first ones fill the
   * cap, leaving gaps in it.
   */
  admitted = false
  readonly #resolution: number
  /** When `#tick` last ran (`performance.now()`); 0 while no ticker runs. */
  #lastTick = 0
  #inFlight = 0
  #head: Entry | undefined
  #tail: Entry | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(timeoutMs: number | undefined, maxInFlightBytes = DEFAULT_MAX_IN_FLIGHT_BYTES) {
    this.timeoutMs = timeoutMs
    this.maxInFlightBytes = maxInFlightBytes
    this.#resolution =
      timeoutMs === undefined ? 0 : Math.min(1000, Math.max(5, Math.floor(timeoutMs / 10)))
    this.stallMs = timeoutMs === undefined ? 0 : Math.min(500, timeoutMs / 2)
  }

  /** Bytes of commands sent and not answered yet (timed-out ones included, until they settle). */
  get inFlightBytes(): number {
    return this.#inFlight
  }

  /**
   * An `InvalidArgumentError` when the command is not a non-empty array or an argument is
   * neither a string nor a Buffer (`weight` is NaN). A `BackpressureError` when a command of `weight` bytes would take the bytes in flight
   * past the cap (unless it is larger than the cap on its own and nothing is in flight but
   * `IDLE_BYTES` of small commands: a single big command still runs; or while a batch admitted
   * whole is sent); `undefined` to send it.
   */
  refuse(
    weight: number,
    command: RedisArgument | undefined,
    where: string,
  ): BackpressureError | InvalidArgumentError | undefined {
    if (Number.isNaN(weight)) {
      return new InvalidArgumentError(
        `${command === undefined ? 'the command' : String(command)} not sent to ${where}: ${NOT_AN_ARGUMENT}`,
      )
    }
    const inFlight = this.#inFlight
    const cap = this.maxInFlightBytes
    if (this.admitted || inFlight + weight <= cap || (weight > cap && inFlight <= IDLE_BYTES)) {
      return undefined
    }
    return new BackpressureError(
      `${String(command)} not sent to ${where}: ${inFlight} bytes of commands already await their replies, and ${weight} more would pass maxInFlightBytes (${this.maxInFlightBytes}); the server is not keeping up`,
    )
  }

  /**
   * `promise` (a reply from node-redis), counted as `bytes` in flight until it settles,
   * its failure mapped by `mapError`, and rejected with a `TimeoutError` when it has not settled
   * within `timeoutMs` (`timeoutMs + blockMs` for a blocking command, see `#trackBlocking`).
   * `batch`: the `BatchOverhead` of the batch admitted with its `callers` that the command is
   * part of (`batchWithin`).
   */
  track<T>(
    promise: Promise<T>,
    command: string,
    mapError: (error: unknown) => Error,
    bytes: number,
    blockMs = 0,
    batch?: BatchOverhead,
  ): Promise<T> {
    // A command of a batch admitted with its `callers` (`batchWithin`): its own overhead is
    // replaced by its share of the batch's, all of it on the first command tracked, so that the
    // batch counts in flight what it was admitted as.
    const weight = batch === undefined ? bytes : Math.max(0, bytes - COMMAND_OVERHEAD + batch.left)
    if (batch !== undefined) batch.left = 0
    this.#inFlight += weight
    if (blockMs > 0 && this.timeoutMs !== undefined) {
      return this.#trackBlocking(promise, command, mapError, weight, blockMs)
    }
    if (this.timeoutMs === undefined) {
      return promise.then(
        (value) => {
          this.#inFlight -= weight
          return value
        },
        (error: unknown) => {
          this.#inFlight -= weight
          if (isClientOffline(error)) return rejectAfterTurn(mapError(error))
          throw mapError(error)
        },
      )
    }
    const timeoutMs = this.timeoutMs
    return new Promise<T>((resolve, reject) => {
      const entry: Entry = {
        expires: performance.now() + timeoutMs,
        settled: false,
        extended: false,
        reject,
        command,
        next: undefined,
      }
      if (this.#tail === undefined) this.#head = entry
      else this.#tail.next = entry
      this.#tail = entry
      this.#timer ??= setInterval(() => this.#tick(), this.#resolution).unref()
      promise.then(
        (value) => {
          this.#inFlight -= weight
          entry.settled = true
          this.#dropSettled()
          resolve(value)
        },
        (error) => {
          this.#inFlight -= weight
          entry.settled = true
          this.#dropSettled()
          // A client offline (a pool's, reconnecting) refuses at once: on the loop's next turn,
          // as `rejectAfterTurn`, so that a caller retrying at once lets it reconnect.
          if (isClientOffline(error)) setImmediate(reject, mapError(error))
          else reject(mapError(error))
        },
      )
    })
  }

  /**
   * A blocking command (`CommandRoute.blockMs`: `XREAD BLOCK`, `BLPOP`…) is bounded by
   * `timeoutMs + blockMs`: the server holds its reply back for up to `blockMs` on purpose. It
   * cannot join the list (ordered by one common timeout), nor count as a stall, so it gets a
   * timer of its own — blocking calls are few and long, unlike the hot path. Its expiry does not
   * run `onExpire`: the command runs on a dedicated client, which the caller drops.
   */
  #trackBlocking<T>(
    promise: Promise<T>,
    command: string,
    mapError: (error: unknown) => Error,
    weight: number,
    blockMs: number,
  ): Promise<T> {
    const boundMs = (this.timeoutMs as number) + blockMs
    let until = performance.now() + boundMs
    return new Promise<T>((resolve, reject) => {
      let settled = false
      /** When the timer is due, and whether a stalled loop's time was given back (once, as `#tick`). */
      let due = performance.now() + Math.min(boundMs, MAX_TIMER_MS)
      let extended = false
      /** Whether the sockets were given a turn to be read before the call is given up. */
      let reading = false
      // A block longer than a timer can hold (XREAD's BLOCK is any integer) is waited in steps.
      const expire = (): void => {
        if (settled) return
        const now = performance.now()
        // Fired far later than due: this process's loop was blocked or frozen, and a reply that
        // arrived meanwhile (a popped item, lost if the call timed out) is not read yet: once,
        // the call waits a little more (how long the stall took before it fell due is unknown
        // here), time for the sockets to be read.
        if (!extended && now - due > STALLED_LOOP_MS) {
          extended = true
          until = Math.max(until, now + STALLED_LOOP_MS)
        }
        const left = until - now
        if (left > 1) {
          due = now + Math.min(left, MAX_TIMER_MS)
          timer = setTimeout(expire, Math.min(left, MAX_TIMER_MS)).unref()
          return
        }
        // Timers run before sockets are read: a reply already waiting in the socket (the loop
        // was busy when it came) is read first, then the call is given up if still unanswered.
        if (!reading) {
          reading = true
          setImmediate(expire)
          return
        }
        settled = true
        reject(
          new TimeoutError(
            `${command} did not complete within ${boundMs} ms (its block of ${blockMs} ms plus socketTimeout)`,
          ),
        )
      }
      let timer = setTimeout(expire, Math.min(boundMs, MAX_TIMER_MS)).unref()
      promise.then(
        (value) => {
          this.#inFlight -= weight
          if (settled) return
          settled = true
          clearTimeout(timer)
          resolve(value)
        },
        (error: unknown) => {
          this.#inFlight -= weight
          if (settled) return
          settled = true
          clearTimeout(timer)
          reject(mapError(error))
        },
      )
    })
  }

  #dropSettled(): void {
    let head = this.#head
    while (head?.settled) head = unlink(head)
    this.#head = head
    if (head === undefined) this.#tail = undefined
  }

  #tick(): void {
    const now = performance.now()
    // A tick far later than its interval: this process's event loop was blocked or frozen (a
    // long synchronous task, SIGSTOP, a serverless freeze). That time is not the server's: every
    // call in flight gets it back, once (a loop blocked again and again must not keep a call
    // waiting on a frozen server for ever), so that a reply that arrived, or a command written
    // only after the stall, is read before its call can time out, and the connection is not reset
    // under the calls made right after it. The list stays in order: a call given it back now was
    // made after the stall that extended the calls before it.
    const since =
      this.#lastTick !== 0
        ? this.#lastTick
        : this.#head === undefined
          ? now
          : this.#head.expires - (this.timeoutMs as number)
    this.#lastTick = now
    const stalled = now - since - this.#resolution
    if (stalled > STALLED_LOOP_MS) {
      for (let entry = this.#head; entry !== undefined; entry = entry.next) {
        if (entry.extended) continue
        entry.extended = true
        entry.expires += stalled
      }
    }
    let head = this.#head
    let expired = false
    while (head !== undefined && (head.settled || head.expires <= now)) {
      if (!head.settled) {
        head.settled = true
        expired = true
        head.reject(
          new TimeoutError(
            `${head.command} did not complete within ${this.timeoutMs} ms (socketTimeout, which counts the transfer of a large value over a slow link too); if it writes, it may or may not have been applied`,
          ),
        )
      }
      head = unlink(head)
    }
    this.#head = head
    if (head === undefined) {
      this.#tail = undefined
      this.#stop()
    } else if (
      this.onStall !== undefined &&
      now - (head.expires - (this.timeoutMs as number)) >= this.stallMs
    ) {
      this.onStall()
    }
    if (expired) this.onExpire?.()
  }

  #stop(): void {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
    this.#lastTick = 0
  }
}

function settledAlready(): void {}

/**
 * Drops a settled entry from the list and returns the next one. The entry lets go of what it
 * holds: it has usually lived long enough to reach the old generation, where, dead but not yet
 * collected, it would keep its call's promise — and the reply in it — alive through every young
 * collection, and the next entries with it (measured: twice the CPU a call on `MGET` of 100 keys
 * at 100 in flight, most of it in the garbage collector).
 */
function unlink(entry: Entry): Entry | undefined {
  const next = entry.next
  entry.next = undefined
  entry.reject = settledAlready
  return next
}
