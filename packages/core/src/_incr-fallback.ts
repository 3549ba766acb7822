// django-redis's fallback for a value `INCRBY` refuses (a float, an integer beyond int64): read,
// add as Python adds, write back only if the value is still the one read; the fallbacks of one key
// one after another, each from the sum of the one before when nothing replaced the value between.
import type { CacheContext } from './_context.ts'
import { encodeAt } from './_key-errors.ts'
import { isWrongType, unsafeResult } from './_messages.ts'
import type { WritesSince } from './_writes-since.ts'
import { KeyNotFoundError, NotANumberError, ResponseError } from './errors.ts'
import { defineScript, runScript } from './script.ts'
import type { RedisArgument } from './types.ts'

// incr's fallback (a value INCRBY refuses: a float, an integer beyond int64): writes the new value
// over KEYS[1], its TTL kept, only if it still holds the bytes read (ARGV[1]); 0 when another
// write came in between, and nothing changed.
export const INCR_SWAP_SCRIPT = defineScript(`if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1`)

/** Reads and swaps one fallback `incr` tries before it gives up on a value that keeps changing. */
const SWAP_ATTEMPTS = 100

/**
 * Where a fallback `incr` starts: the script's reply for a value INCRBY refused, `[bytes]` (the
 * value at this call's turn) or `[]` (after the refused step before it in the same script: the
 * value the fallback of that call left).
 */
export type Refused = readonly unknown[]

/**
 * What the commands a pipeline queued after an `incr` do to its key (they are noted with the
 * pipeline's, before the `incr` is under way): replace its value (`'replaced'`), or may
 * (`'maybe'`: a command of another family, an expiry that may delete it).
 */
export type LaterWrite = 'replaced' | 'maybe' | undefined

/**
 * Where the last fallbacks of a key under way started, as one chain (each from the sum of the one
 * before): the bytes the first one's script saw, the marks of the first and the latest call of
 * the chain, the last write of this cache that replaced the key before the latest call
 * (`replacedAt`), and what a pipeline's commands queued after the last one did to the key.
 */
interface Start {
  readonly bytes: unknown
  readonly first: number
  readonly latest: number
  readonly replacedAt: number
  readonly later: LaterWrite
}

/** The fallback `incr`s of one cache, one key's after another. */
export class IncrFallback {
  readonly #context: CacheContext
  /** The last fallback `incr` of each key under way: the next one on that key waits for it. */
  readonly #slow = new Map<string, Promise<unknown>>()
  /** The bytes the last fallback of each key under way left (or would have, had no write replaced them). */
  readonly #left = new Map<string, RedisArgument>()
  /** Where the last fallback of each key under way started. */
  readonly #started = new Map<string, Start>()

  constructor(context: CacheContext) {
    this.#context = context
  }

  /**
   * django-redis's fallback when `INCRBY` refuses the value: add to the value the script saw,
   * write back with the TTL kept. With `asNumber`, a result that is a `bigint` is refused before
   * anything is written. Unlike django-redis's, no increment is lost: the fallbacks of one key run
   * one after another, each from the value the one before it left, and the write happens only if
   * the value is still the one read. Writes this cache made after the call (`written`, since
   * `mark`) come first: one that replaced the value (a `set`, a `delete`) means the `incr` came
   * before it, and its sum is answered unwritten. Else, when the value changed (another client
   * wrote), it reads again. `later`: the writes of a pipeline's commands queued after it, which
   * `written` does not count (see `LaterWrite`).
   *
   * `replacedAt`: the number of the last write of this cache that replaced the key's value
   * before the call (`WritesSince.lastReplaced`, read at the call; read later, it only chains
   * less). When the fallbacks before it on this key started from the very bytes this call's
   * script saw, and no such write came between the first of those calls and the last (this one
   * included, whichever was made first), this one's script ran before their sums were written
   * (scripts sent one after the other each saw the value before): it starts from their sum, as
   * the `{}` of a coalesced script does — sums commute, so a call made first whose fallback runs
   * last (a pipeline's, whose reply takes longer) adds to it too. Without it, a write made after
   * the calls that may replace the value (a failing `hset`) had this one answer its sum of the
   * old value unwritten: an increment lost.
   */
  run(
    key: string,
    rkey: string,
    delta: number | bigint,
    asNumber: boolean,
    refused: Refused,
    written: WritesSince,
    mark: number,
    later: LaterWrite = undefined,
    replacedAt: number | undefined = undefined,
  ): Promise<number | bigint> {
    const slow = this.#slow
    const before = slow.get(rkey)
    const last = before === undefined ? undefined : this.#started.get(rkey)
    const at = replacedAt ?? Number.POSITIVE_INFINITY
    let from = refused
    let start: Start = { bytes: refused[0], first: mark, latest: mark, replacedAt: at, later }
    if (last !== undefined) {
      // The chain with this call in it: its first call, and the latest with what it knew.
      const joined: Start = {
        bytes: last.bytes,
        first: Math.min(last.first, mark),
        latest: Math.max(last.latest, mark),
        replacedAt: mark >= last.latest ? at : last.replacedAt,
        later,
      }
      if (
        refused.length === 0 ||
        (joined.replacedAt <= joined.first &&
          // A pipeline's write queued after that incr, noted before its mark, replaced the value.
          last.later !== 'replaced' &&
          sameBytes(refused[0], last.bytes))
      ) {
        from = []
        start = joined
      }
    }
    this.#started.set(rkey, start)
    const swap = () => this.#swap(key, rkey, delta, asNumber, from, written, mark, later)
    const run = before === undefined ? swap() : before.then(swap, swap)
    const done = run.then(
      () => {},
      () => {},
    )
    slow.set(rkey, done)
    done.then(() => {
      if (slow.get(rkey) === done) {
        slow.delete(rkey)
        this.#left.delete(rkey)
        this.#started.delete(rkey)
      }
    })
    return run
  }

  async #swap(
    key: string,
    rkey: string,
    delta: number | bigint,
    asNumber: boolean,
    refused: Refused,
    written: WritesSince,
    mark: number,
    later: LaterWrite,
  ): Promise<number | bigint> {
    const context = this.#context
    const connection = context.connection
    // The value at this call's turn: the bytes the script read, or those the fallback before it
    // left; read now only when neither is known.
    let seen = (refused.length > 0 ? refused[0] : this.#left.get(rkey)) as RedisArgument | undefined
    for (let attempt = 0; attempt < SWAP_ATTEMPTS; attempt++) {
      // As bytes (no `text` route): the swap compares exactly these.
      const reply = seen ?? (await connection.command(['GET', rkey], { key: rkey }))
      seen = undefined
      if (reply === null) throw new KeyNotFoundError(`key '${key}' not found`)
      // Until this call has a sum, the next fallback of this key starts from what it read.
      this.#left.set(rkey, reply as RedisArgument)
      const current = context.decode(reply, key)
      const next = addNumbers(current, delta, key)
      // Beyond ±(2^53 - 1): an integer as a bigint, or a float past where numbers count exactly.
      if (asNumber && (typeof next === 'bigint' || !(Math.abs(next) <= Number.MAX_SAFE_INTEGER))) {
        throw unsafeResult(key)
      }
      const data = encodeAt(context.codec, next, key)
      this.#left.set(rkey, data)
      // A later write replaced the value (even with the same bytes): it stands.
      if (later === 'replaced' || written.replacedSince(rkey, mark)) return next
      let swapped: unknown
      try {
        swapped = await runScript(
          connection,
          INCR_SWAP_SCRIPT,
          [rkey],
          [reply as RedisArgument, data],
        )
      } catch (error) {
        // The key holds another type now (a `*store` into it, another client's write): a
        // write after this call replaced the value, as a `set` would have.
        if (isWrongType(error)) return next
        throw error
      }
      if (swapped === 1 || later !== undefined || written.mayHaveReplaced(rkey, mark)) return next
    }
    throw new ResponseError(
      `incr() on key '${key}': the value changed ${SWAP_ATTEMPTS} times between reading it and writing the sum (other clients write it); nothing was written`,
    )
  }
}

/**
 * Whether two replies are the same bytes: Buffers, or strings read as text (a pipeline reads its
 * replies as text where the method reads bytes; a string is compared as its UTF-8).
 */
export function sameBytes(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return false
  if (typeof a === 'string' && typeof b === 'string') return a === b
  const x = typeof a === 'string' ? Buffer.from(a) : a
  const y = typeof b === 'string' ? Buffer.from(b) : b
  return Buffer.isBuffer(x) && Buffer.isBuffer(y) && x.equals(y)
}

/**
 * `current + delta` as Python adds them: exact for integers (a `bigint` beyond ±(2^53 - 1), a
 * `number` within), float arithmetic for a float. A `number` beyond 2^53 is a float — the codecs
 * write larger integers from `bigint`s and read them back as such — so `1e20 + 1` stays `1e20`.
 */
function addNumbers(current: unknown, delta: number | bigint, key: string): number | bigint {
  if (typeof current === 'bigint') return narrowed(current + BigInt(delta))
  if (typeof current === 'number') {
    if (!Number.isSafeInteger(current)) return current + Number(delta)
    if (typeof delta === 'bigint') return narrowed(BigInt(current) + delta)
    const sum = current + delta
    return Number.isSafeInteger(sum) ? sum : BigInt(current) + BigInt(delta)
  }
  throw new NotANumberError(`the value at key '${key}' is not a number`)
}

/** `n` as a `number` when it is a safe integer, else as it is. */
function narrowed(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(n)
    : n
}
