// The batch of one tick's coalesced reads (`_coalesce.ts`): its callers (`Waiter`), the keys its
// `MGET` asks for (`Batch`), a cluster's part of it for one hash slot (`slotBatch`), and which
// replies count as large (read with a `GET` of their own).
import type { RedisArgument } from './types.ts'

/** A value of more bytes (or UTF-16 code units) than this is read with a `GET` of its own. */
export const LARGE_VALUE = 16 * 1024

/** Whether `reply` is a large value (`LARGE_VALUE`). */
export function isLarge(reply: unknown): boolean {
  return (typeof reply === 'string' || Buffer.isBuffer(reply)) && reply.length > LARGE_VALUE
}

/** One caller of a coalesced read. */
export interface Waiter {
  key: string
  /** Which of the batch's keys it reads (its index in `MGET`'s replies). */
  at: number
  /**
   * Whether another caller reads the same reply: each decodes a copy of its bytes, which a
   * serializer may hand back as they are (a msgpack `bin`, a custom serializer's `Buffer`) or
   * change as it reads them.
   */
  shares: boolean
  fallback: unknown
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

/** The reads gathered in one tick, sent together. */
export interface Batch {
  /**
   * `MGET`'s arguments: the command, then the Redis keys read (a key read by calls one after the
   * other is asked once).
   */
  args: RedisArgument[]
  waiters: Waiter[]
  sent: boolean
  /**
   * The `EXISTS` of all its keys, when it went with the `MGET` — or was sent behind it by
   * `closing()`, for a batch that went without one.
   */
  exists?: Promise<unknown>
  /**
   * Each key's own `GET` (by its index among the keys), sent behind the batch by `closing()`: what
   * a nil is read again with.
   */
  again?: Promise<unknown>[]
}

/** The batch of `waiters` (some of a batch whose `MGET` had `args`), each `at` renumbered. */
export function slotBatch(args: readonly RedisArgument[], waiters: Waiter[]): Batch {
  const keys: RedisArgument[] = ['MGET']
  let last = -1
  for (const waiter of waiters) {
    // Callers of one key follow one another (see `get`): the key is asked once.
    if (waiter.at !== last) {
      last = waiter.at
      keys.push(args[last + 1] as RedisArgument)
    }
    waiter.at = keys.length - 2
  }
  return { args: keys, waiters, sent: true }
}
