// Coalesced increments: the `incr`s of one key in one tick run as one script, each caller still
// answered with its own result, as if each had run alone and in order.
import type { CacheContext } from './_context.ts'
import { ResponseError } from './errors.ts'
import { defineScript, runScript, type Script } from './script.ts'
import type { RedisArgument } from './types.ts'

/** Increments per script at most; a tick with more of one key sends several. */
export const INCR_COALESCE_MAX = 128

/**
 * django-redis's "a missing key raises" for many increments of one key: `false` when the key is
 * missing, else one result per delta, in order. Each `INCRBY` is its own step (`pcall`): one
 * that fails (not an integer, an overflow) answers its caller with the error and the next steps
 * still run, as separate calls would. A result beyond ±2^52 is answered with the stored digits,
 * as the single-key script does.
 */
const INCR_MANY_SCRIPT = defineScript(`if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local out = {}
for i = 1, #ARGV do
  local n = redis.pcall('INCRBY', KEYS[1], ARGV[i])
  if type(n) == 'table' then
    out[i] = n
  elseif n >= 4503599627370496 or n <= -4503599627370496 then
    out[i] = redis.call('GET', KEYS[1])
  else
    out[i] = n
  end
end
return out`)

/** One caller: its delta, and how to answer it with the script's reply for it. */
interface Waiter {
  delta: string
  resolve: (reply: unknown) => void
  reject: (error: unknown) => void
}

/**
 * Gathers the increments of each key within one tick and sends them when the microtask queue
 * runs: a lone one as `single` (the one-key script), several of one key as one `INCR_MANY_SCRIPT`
 * (measured: one script call costs the server about as much as two `INCR`s, one `INCRBY` inside a
 * script a fraction of one). Increments of different keys are sent apart, so that each script
 * touches one key: it runs on any topology, a cluster's included.
 *
 * Each caller gets the raw reply its own script call would have given — `null` (missing), an
 * integer, the digits — or, for a step that failed, a `ResponseError`: the caller's own handling
 * (django-redis's read-add-write fallback, `WRONGTYPE`) stays where it was.
 */
export class IncrCoalescer {
  readonly #context: CacheContext
  readonly #single: Script
  #pending: Map<string, Waiter[]> | undefined

  constructor(context: CacheContext, single: Script) {
    this.#context = context
    this.#single = single
  }

  /** The raw reply for `INCRBY rkey delta` with a missing key answered `null`. */
  incr(rkey: string, delta: string): Promise<unknown> {
    let pending = this.#pending
    if (pending === undefined) {
      const fresh = new Map<string, Waiter[]>()
      this.#pending = pending = fresh
      queueMicrotask(() => this.#flush(fresh))
    }
    let waiters = pending.get(rkey)
    if (waiters === undefined) {
      waiters = []
      pending.set(rkey, waiters)
    }
    const list = waiters
    const promise = new Promise<unknown>((resolve, reject) => {
      list.push({ delta, resolve, reject })
    })
    if (list.length >= INCR_COALESCE_MAX) {
      pending.delete(rkey)
      this.#send(rkey, list)
    }
    return promise
  }

  #flush(pending: Map<string, Waiter[]>): void {
    if (this.#pending === pending) this.#pending = undefined
    // Emptied as it is sent: the microtask queued for it may come after an earlier `flush()`.
    const batches = [...pending]
    pending.clear()
    for (const [rkey, waiters] of batches) this.#send(rkey, waiters)
  }

  /** Sends what is gathered now: a command sent after it must not overtake it. */
  flush(): void {
    const pending = this.#pending
    if (pending !== undefined) this.#flush(pending)
  }

  #send(rkey: string, waiters: Waiter[]): void {
    if (waiters.length === 1) {
      const waiter = waiters[0] as Waiter
      this.#run(this.#single, rkey, [waiter.delta]).then(waiter.resolve, waiter.reject)
      return
    }
    const deltas = waiters.map((waiter) => waiter.delta)
    this.#run(INCR_MANY_SCRIPT, rkey, deltas).then(
      (replies) => {
        if (replies === null || replies === undefined) {
          for (const waiter of waiters) waiter.resolve(null)
          return
        }
        if (!Array.isArray(replies) || replies.length !== waiters.length) {
          const error = new ResponseError(
            `a script of ${waiters.length} increments replied ${Array.isArray(replies) ? `${replies.length} results` : typeof replies}`,
          )
          for (const waiter of waiters) waiter.reject(error)
          return
        }
        for (let i = 0; i < waiters.length; i++) {
          const reply: unknown = replies[i]
          const waiter = waiters[i] as Waiter
          // A step that failed comes back as a node-redis error inside the array.
          if (reply instanceof Error) waiter.reject(new ResponseError(reply.message))
          else waiter.resolve(reply)
        }
      },
      (error: unknown) => {
        for (const waiter of waiters) waiter.reject(error)
      },
    )
  }

  #run(script: Script, rkey: string, args: RedisArgument[]): Promise<unknown> {
    return runScript(this.#context.connection, script, [rkey], args)
  }
}
