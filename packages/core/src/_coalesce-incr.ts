// Coalesced increments: the `incr`s of one tick run as one script, each caller still answered with
// its own result, as if each had run alone and in order.
import { refusedWhole } from './_coalesce-set.ts'
import type { CacheContext } from './_context.ts'
import { KeyedTick } from './_gathering.ts'
import { isNoPerm, isScriptRefused, isTryAgain } from './_messages.ts'
import { replyType } from './_replies.ts'
import { CrossSlotError, ResponseError } from './errors.ts'
import { spansSlots } from './key-slot.ts'
import { defineScript, runScript, type Script } from './script.ts'
import type { RedisArgument } from './types.ts'

/** Increments per script at most; a tick with more sends several. */
export const INCR_COALESCE_MAX = 128

/**
 * django-redis's "a missing key raises" for many increments of one key: `false` when the key is
 * missing, else one result per delta, in order. Each `INCRBY` is its own step (`pcall`): one
 * whose value INCRBY refuses (not an integer, an overflow) answers its caller `{bytes}`, the value
 * it refused, and the steps after it `{}` without running: each of those callers then takes the
 * read-add-write fallback, in call order, each from the value the one before it left, as separate
 * calls would. Another error (`WRONGTYPE`) answers its caller and the steps after it. A result
 * beyond ±2^52 is answered with the stored digits, as the single-key script does.
 */
const INCR_MANY_SCRIPT = defineScript(`if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local out = {}
for i = 1, #ARGV do
  local n = redis.pcall('INCRBY', KEYS[1], ARGV[i])
  if type(n) == 'table' then
    out[i] = n
    if string.find(n.err, 'not an integer', 1, true) or string.find(n.err, 'would overflow', 1, true) then
      out[i] = {redis.call('GET', KEYS[1])}
      n = {}
    end
    for j = i + 1, #ARGV do
      out[j] = n
    end
    return out
  elseif n >= 4503599627370496 or n <= -4503599627370496 then
    out[i] = redis.call('GET', KEYS[1])
  else
    out[i] = n
  end
end
return out`)

/**
 * `INCR_MANY_SCRIPT` over several keys: one increment per entry, `KEYS[i]` by `ARGV[i]`, in order
 * (a key incremented twice is in `KEYS` twice); the reply has one entry per increment: `false`
 * when its key is missing, else as `INCR_MANY_SCRIPT` answers it (a key's steps after one that
 * failed answer `{}` or its error without running). One `EXISTS` of all the keys
 * first: when it counts them all (counters that exist, the common case; `EXISTS` counts a key
 * named twice twice) no key is looked up again, else each is, once. Measured on 100 distinct
 * counters, server CPU from `INFO cpu`, three runs: 0.59–0.61 µs an increment, against 0.74–0.80
 * µs when `ARGV` held pairs of a key's index and its delta, and 0.65–0.70 µs a plain `INCR`. An
 * `EXISTS` per key instead of the one cost the script a third more (`INFO commandstats`). One
 * key's increments go as `INCR_MANY_SCRIPT`, whose steps cost the server less.
 */
const INCR_KEYS_SCRIPT = defineScript(`local out = {}
local all = redis.call('EXISTS', unpack(KEYS)) == #KEYS
local found = {}
local failed = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local there = all
  if not all then
    there = found[key]
    if there == nil then
      there = redis.call('EXISTS', key) == 1
      found[key] = there
    end
  end
  if not there then
    out[i] = false
  elseif failed[key] then
    out[i] = failed[key]
  else
    local n = redis.pcall('INCRBY', key, ARGV[i])
    if type(n) == 'table' then
      out[i] = n
      if string.find(n.err, 'not an integer', 1, true) or string.find(n.err, 'would overflow', 1, true) then
        out[i] = {redis.call('GET', key)}
        n = {}
      end
      failed[key] = n
    elseif n >= 4503599627370496 or n <= -4503599627370496 then
      out[i] = redis.call('GET', key)
    else
      out[i] = n
    end
  end
end
return out`)

/**
 * The answer of a step that a coalesced script answered `{}`, its value refused by a step before
 * it of the same key in the same script (`answer`): the caller's fallback starts from what the
 * fallback before it leaves. A reply `[]` of any other origin is the raw `[]`, none of the
 * scripts' answers (`incr` refuses it). Frozen: one value, compared by identity.
 */
export const AFTER_REFUSED: readonly unknown[] = Object.freeze([])

/** One caller: its delta, and how to answer it with the script's reply for it. */
interface Waiter {
  delta: string
  /** The script this step runs as on its own (`INCR_NUMBER_SCRIPT`), else gathered. */
  alone: Script | undefined
  resolve: (reply: unknown) => void
  reject: (error: unknown) => void
}

/**
 * Gathers the increments of one tick and sends them when the microtask queue runs: a lone one as
 * `single` (the one-key script), several of one key as one `INCR_MANY_SCRIPT`, several of many
 * keys as one `INCR_KEYS_SCRIPT` (measured: one script call costs the server about as much as
 * two `INCR`s, one `INCRBY` inside a script a fraction of one). A step with a script of its own
 * (`incr`'s `alone`) goes as that script, and the other steps of its key each as `single`, in
 * call order: every reply of a key is answered the same way, so that the callers read them in
 * the order they were sent. On a cluster, the first batch
 * whose keys span slots turns this into one script per key, from then on; so does a script an ACL
 * refused for one of its keys (`NOPERM`, after which its callers are rejected: nothing ran).
 *
 * Each caller gets the raw reply its own script call would have given — `null` (missing), an
 * integer, the digits, `[bytes]` for a value INCRBY refused (`Refused`), `AFTER_REFUSED` for a
 * step after a refused one of its key — or, for a step that failed otherwise, a
 * `ResponseError`: the caller's own handling (django-redis's read-add-write fallback,
 * `WRONGTYPE`) stays where it was.
 */
export class IncrCoalescer {
  readonly #context: CacheContext
  readonly #single: Script
  /** The increments gathered in this tick, by Redis key. */
  readonly #tick = new KeyedTick<Waiter>(INCR_COALESCE_MAX, (batches) => this.#sendTick(batches))
  /**
   * Off once the connection refused a script over several keys before running it: keys of
   * several cluster slots, or an ACL's `NOPERM` for one of its keys (which then fails only its
   * own callers).
   */
  #whole = true

  constructor(context: CacheContext, single: Script) {
    this.#context = context
    this.#single = single
  }

  /**
   * The raw reply for `INCRBY rkey delta` with a missing key answered `null`; with `alone`, the
   * reply of that script (`KEYS[1]` rkey, `ARGV[1]` delta), sent in its turn among the others.
   */
  incr(rkey: string, delta: string, alone?: Script): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      this.#tick.add(rkey, { delta, alone, resolve, reject })
    })
  }

  /** Sends what is gathered now: a command sent after it must not overtake it. */
  flush(): void {
    this.#tick.flush()
  }

  #sendTick(batches: [string, Waiter[]][]): void {
    let together = batches
    if (batches.length > 1 && batches.some(([, waiters]) => waiters.some(isAlone))) {
      // A key with a step of its own goes apart (a script a step), the others together.
      together = []
      for (const batch of batches) {
        if (batch[1].some(isAlone)) this.#sendKey(batch[0], batch[1])
        else together.push(batch)
      }
    }
    if (
      together.length <= 1 ||
      !this.#whole ||
      // Keys a cluster would refuse in one script go apart at once, in call order.
      (this.#context.unordered.routesBySlot === true && spansSlots(together.map(([rkey]) => rkey)))
    ) {
      for (const [rkey, waiters] of together) this.#sendKey(rkey, waiters)
      return
    }
    this.#sendAll(together).catch((error: unknown) => {
      if (error instanceof CrossSlotError || isTryAgain(error)) {
        // Refused before it ran: each key on its own — from now on for keys of several slots;
        // for a slot half migrated (`TRYAGAIN`), this batch only, each key as its calls alone
        // would have gone (an `ASK` for a key already moved), after the calls made behind them,
        // as the connection's own retry of the `TRYAGAIN` would.
        if (error instanceof CrossSlotError) this.#whole = false
        for (const [rkey, waiters] of together) this.#sendKey(rkey, waiters)
      } else {
        for (const [, waiters] of together) for (const waiter of waiters) waiter.reject(error)
      }
    })
  }

  /**
   * The increments of one key: the single-key script for one, else one script for them all; one
   * script each, in call order, when one of them has a script of its own.
   */
  #sendKey(rkey: string, waiters: Waiter[]): void {
    if (waiters.length === 1 || waiters.some(isAlone)) {
      for (const waiter of waiters) {
        const script = waiter.alone ?? this.#single
        this.#run(script, [rkey], [waiter.delta]).then(waiter.resolve, waiter.reject)
      }
      return
    }
    const deltas = waiters.map((waiter) => waiter.delta)
    this.#run(INCR_MANY_SCRIPT, [rkey], deltas, waiters.length).then(
      // A missing key: `null` for every caller.
      (replies) => answer(waiters, rkey, replies ?? waiters.map(() => null)),
      (error: unknown) => {
        for (const waiter of waiters) waiter.reject(error)
      },
    )
  }

  /**
   * One `INCR_KEYS_SCRIPT` for every increment of `batches`, each caller answered. Rejects (after
   * answering no one) only with a `CrossSlotError` or a cluster's `TRYAGAIN` (asked for at once,
   * `CommandRoute.tryAgain: false`), for the caller to send the keys apart: nothing ran.
   */
  async #sendAll(batches: [string, Waiter[]][]): Promise<void> {
    const keys: string[] = []
    const deltas: string[] = []
    const waiters: Waiter[] = []
    for (const [rkey, list] of batches) {
      for (const waiter of list) {
        keys.push(rkey)
        deltas.push(waiter.delta)
        waiters.push(waiter)
      }
    }
    let replies: unknown
    try {
      // Each caller counts in the connection's maxInFlightBytes (`callers`), not its key alone.
      replies = await runScript(this.#context.unordered, INCR_KEYS_SCRIPT, keys, deltas, {
        key: keys[0],
        tryAgain: false,
        callers: waiters.length,
      })
    } catch (error) {
      if (error instanceof CrossSlotError || isTryAgain(error)) throw error // nothing ran
      let refused = error
      if (isNoPerm(error) && !isScriptRefused(error)) {
        // Refused by the ACL for one of its keys, before it ran: not sent again (behind the
        // calls made after these, a set or delete of the same key would be overtaken); each
        // key goes with a script of its own from now on, so that only its own callers fail.
        this.#whole = false
        refused = refusedWhole(error, 'the incr() calls of one tick went to Redis as one script')
      }
      for (const waiter of waiters) waiter.reject(refused)
      return
    }
    answer(waiters, keys, replies)
  }

  /** Runs `script`; `callers`: how many calls its reply answers (see `CommandRoute.callers`). */
  #run(
    script: Script,
    keys: RedisArgument[],
    args: RedisArgument[],
    callers?: number,
  ): Promise<unknown> {
    return runScript(this.#context.unordered, script, keys, args, { key: keys[0], callers })
  }
}

/** Whether a step runs as a script of its own. */
function isAlone(waiter: Waiter): boolean {
  return waiter.alone !== undefined
}

/**
 * Answers each waiter with its entry of a script's `replies` (one per waiter, in order), `keys`
 * the Redis key of each (one for all: a script of one key). An entry `[]` that follows a refused
 * step of its key (`[bytes]`, or such a `[]`) is answered `AFTER_REFUSED`: the only `[]` the
 * scripts give. Any other is answered as it came, for the caller to refuse: its INCRBY may have
 * run, and a fallback would add again.
 */
function answer(
  waiters: readonly Waiter[],
  keys: string | readonly string[],
  replies: unknown,
): void {
  if (!Array.isArray(replies) || replies.length !== waiters.length) {
    const error = new ResponseError(
      `a script of ${waiters.length} increments replied ${Array.isArray(replies) ? `${replies.length} results` : replyType(replies)}`,
    )
    for (const waiter of waiters) waiter.reject(error)
    return
  }
  // The keys with a refused step so far (none for most scripts: made on the first).
  let refused: Set<string> | undefined
  for (let i = 0; i < waiters.length; i++) {
    const reply: unknown = replies[i]
    const waiter = waiters[i] as Waiter
    // A step that failed comes back as a node-redis error inside the array.
    if (reply instanceof Error) {
      waiter.reject(new ResponseError(reply.message))
      continue
    }
    if (Array.isArray(reply)) {
      const rkey = typeof keys === 'string' ? keys : (keys[i] as string)
      if (reply.length === 0) {
        if (refused?.has(rkey) === true) {
          waiter.resolve(AFTER_REFUSED)
          continue
        }
      } else if (isRefusal(reply)) {
        refused ??= new Set()
        refused.add(rkey)
      }
    }
    waiter.resolve(reply ?? null)
  }
}

/**
 * Whether an array reply is a script's answer for a value INCRBY refused: `[bytes]`, exactly one
 * string reply (bytes, or text where the route reads text), the value it refused.
 */
export function isRefusal(reply: readonly unknown[]): boolean {
  return reply.length === 1 && (Buffer.isBuffer(reply[0]) || typeof reply[0] === 'string')
}
