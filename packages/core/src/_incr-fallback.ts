// django-redis's fallback for a value `INCRBY` refuses (a float, an integer beyond int64): read,
// add as Python adds, write back only if the value is still the one read; the fallbacks of one key
// one after another, each from the sum of the one before when nothing replaced the value between.
import { bounded } from './_bounded.ts'
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

/** Keys whose finished fallbacks are kept at most while calls are under way (see `run`). */
const MAX_KEPT = 10_000

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
 * One `incr` call, as its fallback needs it: the writes of this cache since the call (`written`,
 * since `mark`), its place among the cache's `incr` calls (`order`: a pipeline's are placed at
 * its send), what the commands a pipeline queued after it do to the key (`later`), and the last
 * write of this cache that replaced the key before the call (`replacedAt`,
 * `WritesSince.lastReplaced`; `undefined`: not known, it starts no chain).
 */
export interface IncrCall {
  readonly written: WritesSince
  readonly mark: number
  readonly order: number
  readonly later: LaterWrite
  readonly replacedAt: number | undefined
  /** The method called (or queued in a pipeline), which its errors name. */
  readonly method: 'incr' | 'decr'
}

/**
 * The fallbacks of a key under way that started as one chain (each from the sum of the one
 * before): the bytes the first one's script saw, the first mark, the latest call (by `order`)
 * and the last replace it knew of, and the first call whose pipeline replaced the key after it.
 */
interface Start {
  readonly bytes: unknown
  readonly first: number
  readonly latest: number
  readonly replacedAt: number
  readonly replacedLater: number
  /**
   * The `incr` calls made (`Incrs`' count) when the chain's first sum was sent: a call made after
   * it whose script saw the chain's first bytes saw them written back, not the old value.
   */
  readonly swap: { at: number }
}

/** The fallback `incr`s of one cache, one key's after another. */
export class IncrFallback {
  readonly #context: CacheContext
  /** The last fallback `incr` of each key under way: the next one on that key waits for it. */
  readonly #slow = new Map<string, Promise<unknown>>()
  /** The bytes the last fallback of each key under way left (or would have, had no write replaced them). */
  readonly #left = new Map<string, RedisArgument>()
  /** Where the last fallbacks of each key started, kept while calls are under way. */
  readonly #started = new Map<string, Start>()
  /** Whether `#started` and `#left` are to be emptied once no call is under way. */
  #forgetting = false

  /** The `incr` calls made so far (see `Start.swap`). */
  readonly #calls: () => number

  constructor(context: CacheContext, calls: () => number) {
    this.#context = context
    this.#calls = calls
  }

  /**
   * django-redis's fallback when `INCRBY` refuses the value: add to the value the script saw,
   * write back with the TTL kept. With `asNumber`, a result that is a `bigint` is refused before
   * anything is written. Unlike django-redis's, no increment is lost: the fallbacks of one key run
   * one after another, each from the value the one before it left, and the write happens only if
   * the value is still the one read. Writes this cache made after the call (`call.written`, since
   * `call.mark`) come first: one that replaced the value (a `set`, a `delete`) means the `incr`
   * came before it, and its sum is answered unwritten. Else, when the value changed (another
   * client wrote), it reads again. `call.later`: the writes of a pipeline's commands queued after
   * it, which `written` does not count (see `LaterWrite`).
   *
   * When the fallbacks before it on this key started from the very bytes this call's script saw,
   * and no write of this cache replaced the key between the first of those calls and the last
   * (`call.replacedAt`; this one included, whichever was made first; nor a pipeline's write queued
   * after one of them, for the calls made after it), this one's script ran before their sums were
   * written (scripts sent one after the other each saw the value before): it starts from their
   * sum, as the `{}` of a coalesced script does — sums commute, so a call made first whose
   * fallback runs last (a pipeline's, whose reply takes longer) adds to it too. Without it, a write
   * made after the calls that may replace the value (a failing `hset`) had this one answer its sum
   * of the old value unwritten: an increment lost.
   */
  run(
    key: string,
    rkey: string,
    delta: number | bigint,
    asNumber: boolean,
    refused: Refused,
    call: IncrCall,
  ): Promise<number | bigint> {
    const { written, mark, order, later } = call
    const slow = this.#slow
    const before = slow.get(rkey)
    const last = this.#started.get(rkey)
    const at = call.replacedAt ?? Number.POSITIVE_INFINITY
    const replacedLater = later === 'replaced' ? order : Number.POSITIVE_INFINITY
    let from = refused
    let start: Start = {
      bytes: refused[0],
      first: mark,
      latest: order,
      replacedAt: at,
      replacedLater,
      swap: { at: Number.POSITIVE_INFINITY },
    }
    if (last !== undefined) {
      // The chain with this call in it: its first mark, its latest call with what that knew.
      const joined: Start = {
        bytes: last.bytes,
        first: Math.min(last.first, mark),
        latest: Math.max(last.latest, order),
        replacedAt: order >= last.latest ? at : last.replacedAt,
        replacedLater: Math.min(last.replacedLater, replacedLater),
        swap: last.swap,
      }
      if (
        refused.length === 0 ||
        (joined.replacedAt <= joined.first &&
          // A pipeline's write queued after an incr of the chain replaced the value before the
          // scripts of the calls made after it ran: they saw that write's value.
          order <= last.replacedLater &&
          // Its script was sent before the chain's first sum was.
          order <= last.swap.at &&
          !(later === 'replaced' && last.latest > order) &&
          sameBytes(refused[0], last.bytes))
      ) {
        from = []
        start = joined
      }
    }
    this.#started.set(rkey, start)
    const chain = start.swap
    const method = call.method
    const swap = () =>
      this.#swap(key, rkey, delta, asNumber, from, written, mark, later, chain, method)
    const run = before === undefined ? swap() : before.then(swap, swap)
    const done = run.then(
      () => {},
      () => {},
    )
    slow.set(rkey, done)
    done.then(() => {
      if (slow.get(rkey) !== done) return
      slow.delete(rkey)
      // Kept while calls are under way (up to `MAX_KEPT` keys): an incr made before these whose
      // fallback comes later (a pipeline's, whose reply takes longer) still chains onto them.
      if (this.#started.size > MAX_KEPT) {
        this.#forget(rkey)
      } else if (!this.#forgetting) {
        this.#forgetting = true
        written.whenIdle(() => {
          this.#forgetting = false
          for (const key of [...this.#started.keys(), ...this.#left.keys()]) {
            if (!slow.has(key)) this.#forget(key)
          }
        })
      }
    })
    return run
  }

  /** The chain of `rkey`'s fallbacks is over. */
  #forget(rkey: string): void {
    this.#left.delete(rkey)
    this.#started.delete(rkey)
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
    chain: { at: number },
    method: 'incr' | 'decr',
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
      if (reply === null) throw new KeyNotFoundError(`key '${bounded(key)}' not found`)
      // Until this call has a sum, the next fallback of this key starts from what it read.
      this.#left.set(rkey, reply as RedisArgument)
      const current = context.decode(reply, key)
      const next = addNumbers(current, delta, key)
      // Beyond ±(2^53 - 1): an integer as a bigint, or a float past where numbers count exactly.
      if (asNumber && (typeof next === 'bigint' || !(Math.abs(next) <= Number.MAX_SAFE_INTEGER))) {
        throw unsafeResult(key, method)
      }
      const data = encodeAt(context.codec, next, key)
      this.#left.set(rkey, data)
      // A later write replaced the value (even with the same bytes): it stands.
      if (later === 'replaced' || written.replacedSince(rkey, mark)) return next
      if (chain.at === Number.POSITIVE_INFINITY) chain.at = this.#calls()
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
      `${method}() on key '${bounded(key)}': the value changed ${SWAP_ATTEMPTS} times between reading it and writing the sum (other clients write it); nothing was written`,
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
  throw notANumber(key)
}

/** The error of `incr` and `decr` when the value at `key` is no number (a string, an object…). */
export function notANumber(key: string): NotANumberError {
  return new NotANumberError(`the value at key '${bounded(key)}' is not a number`)
}

/** `n` as a `number` when it is a safe integer, else as it is. */
function narrowed(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(n)
    : n
}
