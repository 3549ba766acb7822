// Coalesced many-key reads: a `getMany` of one tick that reads the same keys as the `getMany`
// just before it shares that call's `MGET`; each caller decodes the replies on its own.
import type { CacheContext } from './_context.ts'
import { COALESCE_MAX, type Coalescer, sendCommand } from './_gathering.ts'
import type { RedisArgument } from './types.ts'

/** One `MGET` of a tick, and how many `getMany` calls read its replies. */
export interface ManyRead {
  /** `MGET`'s replies, one per key (or the error every reader rejects with). */
  readonly replies: Promise<unknown>
  /**
   * How many calls read the replies; final once they arrive. Above 1, each reader decodes a
   * copy of a reply's bytes: a serializer may hand them back as they are (a msgpack `bin`) or
   * change them as it reads them.
   */
  readers: number
}

interface Pending extends ManyRead {
  readonly args: RedisArgument[]
  readonly primary: boolean
  resolve(replies: unknown): void
  reject(error: unknown): void
}

/**
 * Gathers the `getMany` calls of one tick and sends them when the microtask queue runs (no timer),
 * each as its own `MGET`, in call order. A call that reads the same keys, in the same order and
 * from the same side (primary or replica), as the call just before it is not sent: it reads that
 * call's replies. 100 requests of a tick reading one page's keys then cost Redis and node-redis one
 * `MGET`, as 100 gets of a hot key cost one `GET` (`ReadCoalescer`). Only the call just before is
 * compared, and on its first key first, so calls on other keys pay one string comparison.
 *
 * An `MGET` is sent after the call that made it, so a reader never gets replies older than its
 * call. Merging the keys of different calls into one `MGET` was measured and not kept (a 2–6 %
 * gain for slicing every reply; docs/benchmarks.md).
 */
export class ManyReadCoalescer implements Coalescer {
  readonly #context: CacheContext
  #pending: Pending[] | undefined

  constructor(context: CacheContext) {
    this.#context = context
  }

  /** The replies of an `MGET` of `rkeys` sent after this call; on the primary with `primary`. */
  read(rkeys: readonly string[], primary: boolean): ManyRead {
    let pending = this.#pending
    if (pending === undefined) {
      const fresh: Pending[] = []
      this.#pending = pending = fresh
      queueMicrotask(() => this.#send(fresh))
    }
    const last = pending[pending.length - 1]
    // Shared by at most COALESCE_MAX readers: each counts in the connection's maxInFlightBytes
    // (`callers`), and one MGET answering more than the cap holds would pass it on an idle one.
    if (
      last !== undefined &&
      last.readers < COALESCE_MAX &&
      last.primary === primary &&
      sameKeys(last.args, rkeys)
    ) {
      last.readers++
      return last
    }
    const args: RedisArgument[] = new Array(rkeys.length + 1)
    args[0] = 'MGET'
    for (let i = 0; i < rkeys.length; i++) args[i + 1] = rkeys[i] as string
    let resolve!: (replies: unknown) => void
    let reject!: (error: unknown) => void
    const replies = new Promise<unknown>((yes, no) => {
      resolve = yes
      reject = no
    })
    const read: Pending = { replies, readers: 1, args, primary, resolve, reject }
    pending.push(read)
    if (pending.length >= COALESCE_MAX) this.#send(pending)
    return read
  }

  /** Sends what is gathered now: a command sent after it must not overtake it. */
  flush(): void {
    const pending = this.#pending
    if (pending !== undefined) this.#send(pending)
  }

  #send(pending: Pending[]): void {
    if (this.#pending === pending) this.#pending = undefined
    // Emptied as it is sent: the microtask queued for it may come after an earlier `flush()`.
    const reads = pending.splice(0)
    const context = this.#context
    for (const read of reads) {
      const { args } = read
      sendCommand(context.unordered, args, {
        key: args[1],
        readonly: !read.primary,
        primaryRead: read.primary,
        text: context.text,
        callers: read.readers,
      }).then(read.resolve, read.reject)
    }
  }
}

/** Whether `args` (`MGET` and its keys) names `rkeys`, in order. */
function sameKeys(args: readonly RedisArgument[], rkeys: readonly string[]): boolean {
  if (args.length !== rkeys.length + 1) return false
  for (let i = 0; i < rkeys.length; i++) if (args[i + 1] !== rkeys[i]) return false
  return true
}
