// `incr`: its scripts (a missing key raises, as in Django), the calls of one tick gathered, and
// the fallback for a value `INCRBY` refuses (`_incr-fallback.ts`).
import { bounded } from './_bounded.ts'
import { AFTER_REFUSED, type IncrCoalescer, isRefusal } from './_coalesce-incr.ts'
import type { CacheContext } from './_context.ts'
import { IncrFallback, type LaterWrite, type Refused } from './_incr-fallback.ts'
import { isWrongType, unsafeResult } from './_messages.ts'
import { replyType } from './_replies.ts'
import type { WritesSince } from './_writes-since.ts'
import { KeyNotFoundError, ResponseError } from './errors.ts'
import { defineScript } from './script.ts'

// INCRBY only when the key exists (django-redis's script). INCRBY's result comes back as an
// integer reply while it is within ±2^52, else as the stored digits, so that integers beyond 2^53
// keep every digit. (Not ±2^53: node-redis 6 reads the integer reply 2^53 - 1 as 2^53, its last
// `* 10 + byte - 48` step rounding above 2^53 - 48.) INCRBY's reply is a double in Lua, exact
// there, so the comparison is exact. EXISTS rather than GET: no copy of the value into Lua, and
// no second GET (measured: 2.7 µs of server CPU a call instead of 3.3; docs/benchmarks.md). A
// value INCRBY refuses ("ERR value is not an integer or out of range", "ERR increment or
// decrement would overflow") comes back as `{bytes}`: the value as it was at this call's turn,
// for the fallback to add to (a `GET` sent after it could read a write made after this call).
// INCRBY's other errors (`WRONGTYPE`) come back as they are.
export const INCR_SCRIPT = defineScript(`if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local n = redis.pcall('INCRBY', KEYS[1], ARGV[1])
if type(n) == 'table' and (string.find(n.err, 'not an integer', 1, true) or string.find(n.err, 'would overflow', 1, true)) then
  return {redis.call('GET', KEYS[1])}
elseif type(n) == 'table' then
  return n
elseif n >= 4503599627370496 or n <= -4503599627370496 then
  return redis.call('GET', KEYS[1])
end
return n`)

// `as: 'number'`: returns the stored digits, or, for a result beyond ±(2^53 - 1), puts the old
// bytes back (the TTL kept) and returns the integer 0 instead: the caller rejects and nothing
// changed. A value INCRBY refuses comes back as `{bytes}`, as from `INCR_SCRIPT`.
export const INCR_NUMBER_SCRIPT = defineScript(`local old = redis.call('GET', KEYS[1])
if not old then
  return false
end
local n = redis.pcall('INCRBY', KEYS[1], ARGV[1])
if type(n) == 'table' and (string.find(n.err, 'not an integer', 1, true) or string.find(n.err, 'would overflow', 1, true)) then
  return {old}
elseif type(n) == 'table' then
  return n
elseif n > 9007199254740991 or n < -9007199254740991 then
  redis.call('SET', KEYS[1], old, 'KEEPTTL')
  return 0
end
return redis.call('GET', KEYS[1])`)

/** Where a pipeline's `incr` stands among the writes of its pipeline and of its cache. */
export interface PipelinePlace {
  /** A write the pipeline queued after it to the same key (`LaterWrite`). */
  readonly later: LaterWrite
  /**
   * The last write of this cache that replaced the key before the pipeline's writes were noted
   * (`Incrs.lastReplaced`).
   */
  readonly replacedAt: number
  /** Whether one of the pipeline's commands queued before it replaced the key. */
  readonly replacedEarlier: boolean
  /** The method queued, which its errors name. */
  readonly method: 'incr' | 'decr'
}

/** An `incr` a pipeline sent, under way until `end()` (`RedisValueStore.pipelineIncr`). */
export interface PipelineIncr {
  /**
   * `incr`'s fallback for a value INCRBY refused (`IncrFallback.run`), the writes this cache made
   * since the pipeline was sent, and the incr's place in its pipeline (`PipelinePlace`).
   */
  fallback(
    key: string,
    rkey: string,
    delta: number | bigint,
    asNumber: boolean,
    refused: Refused,
    place: PipelinePlace,
  ): Promise<number | bigint>
  /** The `incr` was answered (or failed). */
  end(): void
}

/**
 * A cache's `incr`s: the calls of one tick gathered into scripts (`IncrCoalescer`), the
 * read-add-write fallback for the values `INCRBY` refuses (`IncrFallback`), each call under way in
 * `written` from its call (or its pipeline's send) to its answer.
 */
export class Incrs {
  readonly #context: CacheContext
  /** The keys written while an `incr` is under way. */
  readonly #written: WritesSince
  /** The coalescer, once the calls other coalescers gathered before are sent. */
  readonly #gathered: () => IncrCoalescer
  readonly #fallback: IncrFallback
  /** The `incr` calls made so far (a pipeline's counted once, at its send): their order. */
  #calls = 0

  constructor(context: CacheContext, written: WritesSince, gathered: () => IncrCoalescer) {
    this.#context = context
    this.#written = written
    this.#gathered = gathered
    this.#fallback = new IncrFallback(context, () => this.#calls)
  }

  /**
   * Adds `delta` to the integer at `rkey` (`ValueStore.incr`); `method`, the method called
   * (`decr` passes its delta negated), is the one its errors name.
   */
  async incr(
    rkey: string,
    key: string,
    delta: number | bigint,
    asNumber: boolean,
    method: 'incr' | 'decr',
  ): Promise<number | bigint> {
    const context = this.#context
    const written = this.#written
    const mark = written.begin()
    const order = ++this.#calls
    written.touched(rkey)
    // For a fallback to know whether this cache replaced the value since an earlier incr of it.
    const replacedAt = written.lastReplaced(rkey)
    try {
      let reply: unknown
      try {
        // Gathered as the plain ones, `as: 'number'` too (as a script of its own): replies of one
        // key come back the same way, each fallback after the one of the call before it.
        reply = await this.#gathered().incr(
          rkey,
          String(delta),
          asNumber ? INCR_NUMBER_SCRIPT : undefined,
        )
      } catch (error) {
        if (error instanceof ResponseError && isWrongType(error)) {
          throw await context.wrongType(error, method, key, rkey)
        }
        // Anything else — an ACL's refusal (`NOPERM`, or a script's "can't run this command"),
        // a server out of memory — is the answer: the fallback is for values `INCRBY` refuses,
        // which the scripts answer with the value, not an error.
        if (error instanceof ResponseError && error.message.includes("can't run this command")) {
          throw new ResponseError(
            `${method}() of key '${bounded(key)}': ${error.message} (incr's script runs EXISTS, INCRBY and GET: the ACL user needs them, and @scripting)`,
            { cause: error },
          )
        }
        throw error
      }
      if (reply === null || reply === undefined)
        throw new KeyNotFoundError(
          `key '${bounded(key)}' not found: incr() and decr() need a stored number (as in Django); store one first, e.g. add('${bounded(key)}', 0)`,
        )
      if (Array.isArray(reply)) {
        // Only the scripts' own shapes go to the fallback: `[bytes]`, or the `[]` the coalescer
        // marks as following a refused step of the key (`AFTER_REFUSED`). Anything else — `[]`
        // from nowhere, `[1, 2]` — ran INCRBY or not, and reading and adding again could apply
        // the increment twice.
        if (reply !== AFTER_REFUSED && !isRefusal(reply)) throw notTheScripts(key, method, reply)
        // A value INCRBY refused (a float, an integer beyond int64): django-redis's fallback.
        return await this.#fallback.run(key, rkey, delta, asNumber, reply, {
          written,
          mark,
          order,
          later: undefined,
          replacedAt,
          method,
        })
      }
      if (asNumber) {
        // The integer 0: the result was not a safe integer (a result of 0 comes as digits).
        if (reply === 0) throw unsafeResult(key, method)
      } else if (typeof reply === 'number' && Number.isSafeInteger(reply)) {
        // A result within ±2^52 comes as an integer reply, a larger one as its digits.
        return reply
      }
      // The stored digits (a result beyond ±2^52, or any with `as: 'number'`): nothing else.
      if (typeof reply !== 'string' && !Buffer.isBuffer(reply)) {
        throw notTheScripts(key, method, reply)
      }
      const sum = context.decode(reply, key)
      if (typeof sum !== 'number' && typeof sum !== 'bigint')
        throw notTheScripts(key, method, reply)
      return sum
    } finally {
      written.end()
    }
  }

  /** The last write of this cache that replaced `rkey` (`WritesSince.lastReplaced`). */
  lastReplaced(rkey: string): number {
    return this.#written.lastReplaced(rkey)
  }

  /**
   * An `incr` a pipeline sends, once the pipeline's writes are noted: under way from now, as the
   * method's is from its call, so that its fallback counts the writes this cache makes from now
   * on as made after it.
   */
  pipelineIncr(): PipelineIncr {
    const written = this.#written
    const mark = written.begin()
    const order = ++this.#calls
    let ended = false
    return {
      fallback: (key, rkey, delta, asNumber, refused, place) =>
        this.#fallback.run(key, rkey, delta, asNumber, refused, {
          written,
          mark,
          order,
          later: place.later,
          // A replace queued before it in the pipeline came after every call made before the
          // pipeline (whose marks are at most this one), and before it.
          replacedAt: place.replacedEarlier
            ? Math.max(place.replacedAt, mark + 0.5)
            : place.replacedAt,
          method: place.method,
        }),
      end: () => {
        if (!ended) written.end()
        ended = true
      },
    }
  }
}

/**
 * The error of an `incr` whose script reply is none of the script's shapes (a proxy or server
 * out of step): INCRBY may or may not have run, so nothing is read or added again. Also a
 * pipeline's (`PipelinedIncr.fallBack`).
 */
export function notTheScripts(key: string, method: 'incr' | 'decr', reply: unknown): ResponseError {
  return new ResponseError(
    `${method}() of key '${bounded(key)}': Redis replied ${replyType(reply)}, not the script's reply (a proxy or server out of step?): the increment may or may not have been applied; nothing was read or added again`,
  )
}
