// Coalesced expiry reads: the `ttl`s of one tick over several keys go to Redis as one read-only
// script of `PTTL`s, each caller answered in its own unit, as its own `TTL` or `PTTL` would be.
import type { CacheContext } from './_context.ts'
import { COALESCE_MAX, KeyedTick, sendCommand } from './_gathering.ts'
import { toArray, toNumber } from './_replies.ts'
import { CrossSlotError, ResponseError } from './errors.ts'
import { defineScript, type Script } from './script.ts'
import type { CommandRoute, RedisArgument } from './types.ts'

/** The `PTTL` of each of `KEYS`, in order. */
const PTTL_KEYS_SCRIPT: Script = defineScript(`local out = {}
for i = 1, #KEYS do
  out[i] = redis.call('PTTL', KEYS[i])
end
return out`)

/**
 * Refusals of the script as a whole that will not change: a server without `EVALSHA_RO` (before
 * Redis 7.0), an ACL user allowed `PTTL` but not scripts, a proxy that refuses scripts, keys of
 * several slots. After one, each `ttl` is sent on its own, as without coalescing.
 */
const NEVER = /^(ERR unknown command|NOPERM|CROSSSLOT)/i

/** One caller: its unit (`TTL`'s seconds or `PTTL`'s milliseconds), and how to answer it. */
interface Waiter {
  seconds: boolean
  resolve: (reply: number) => void
  reject: (error: unknown) => void
}

/**
 * Gathers the `ttl`s of one tick and sends them when the microtask queue runs (no timer). A
 * lone call sends its own `TTL` or `PTTL`; several calls on one key one `PTTL`; calls on several
 * keys one `EVALSHA_RO` of a script that reads each key's `PTTL` (`EVAL_RO` after `NOSCRIPT`), so
 * that it runs where reads go (a replica). Seconds are derived from milliseconds as `TTL` does
 * (rounded half up; `-1` for no expiry and `-2` for a missing key stay as they are).
 *
 * Each caller resolves with the reply its own command would have given. A connection error or
 * timeout rejects each caller of the batch. A refusal of the script that will not change (keys of
 * several cluster slots, a server before Redis 7.0, an ACL user without scripts) answers that
 * batch key by key, and each `ttl` after it is sent on its own.
 */
export class TtlCoalescer {
  readonly #context: CacheContext
  readonly #tick = new KeyedTick<Waiter>(COALESCE_MAX, (batches) => this.#sendTick(batches))
  /** Off once the script was refused for good: one command per key from then on. */
  #whole = true

  constructor(context: CacheContext) {
    this.#context = context
  }

  /** The reply of `TTL rkey` (`seconds`) or `PTTL rkey`. */
  ttl(rkey: string, seconds: boolean): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.#tick.add(rkey, { seconds, resolve, reject })
    })
  }

  /** Whether calls are gathered at all: not once the script was refused for good. */
  get gathering(): boolean {
    return this.#whole
  }

  /** Sends what is gathered now: a command sent after it must not overtake it. */
  flush(): void {
    this.#tick.flush()
  }

  #sendTick(batches: [string, Waiter[]][]): void {
    if (batches.length === 1 || !this.#whole) {
      for (const [rkey, waiters] of batches) this.#sendKey(rkey, waiters)
      return
    }
    const keys: string[] = new Array(batches.length)
    for (let i = 0; i < batches.length; i++) keys[i] = (batches[i] as [string, Waiter[]])[0]
    this.#script(keys).then(
      (reply) => {
        const replies = toArray(reply)
        if (replies.length !== batches.length) {
          const error = new ResponseError(
            `a script of ${batches.length} PTTLs replied ${replies.length} results`,
          )
          for (const [, waiters] of batches) for (const waiter of waiters) waiter.reject(error)
          return
        }
        for (let i = 0; i < batches.length; i++) {
          answer((batches[i] as [string, Waiter[]])[1], toNumber(replies[i]))
        }
      },
      (error: unknown) => {
        const refused =
          error instanceof CrossSlotError ||
          (error instanceof ResponseError && NEVER.test(error.message))
        if (refused) this.#whole = false
        if (refused || error instanceof ResponseError) {
          // Refused as a whole, nothing read: each key asks on its own.
          for (const [rkey, waiters] of batches) this.#sendKey(rkey, waiters)
          return
        }
        for (const [, waiters] of batches) for (const waiter of waiters) waiter.reject(error)
      },
    )
  }

  /** The calls on one key: its own command for one, else one `PTTL` for them all. */
  #sendKey(rkey: string, waiters: Waiter[]): void {
    const route: CommandRoute = { key: rkey, readonly: true }
    if (waiters.length === 1) {
      const waiter = waiters[0] as Waiter
      sendCommand(this.#context.connection, [waiter.seconds ? 'TTL' : 'PTTL', rkey], route).then(
        (reply) => waiter.resolve(toNumber(reply)),
        waiter.reject,
      )
      return
    }
    sendCommand(this.#context.connection, ['PTTL', rkey], route).then(
      (reply) => answer(waiters, toNumber(reply)),
      (error: unknown) => {
        for (const waiter of waiters) waiter.reject(error)
      },
    )
  }

  /** `EVALSHA_RO` of the script over `keys`, `EVAL_RO` when the server does not know it. */
  async #script(keys: string[]): Promise<unknown> {
    const connection = this.#context.connection
    const route: CommandRoute = { key: keys[0], readonly: true }
    const tail: RedisArgument[] = [String(keys.length), ...keys]
    try {
      return await sendCommand(connection, ['EVALSHA_RO', PTTL_KEYS_SCRIPT.sha1, ...tail], route)
    } catch (error) {
      if (!(error instanceof ResponseError) || !error.message.startsWith('NOSCRIPT')) throw error
      return sendCommand(connection, ['EVAL_RO', PTTL_KEYS_SCRIPT.source, ...tail], route)
    }
  }
}

/** Answers each caller with `ms`, a `PTTL` reply, in its unit. */
function answer(waiters: readonly Waiter[], ms: number): void {
  for (const waiter of waiters) waiter.resolve(waiter.seconds ? toSeconds(ms) : ms)
}

/** `TTL`'s reply from `PTTL`'s: `(ms + 500) / 1000` in integers, as Redis computes it. */
function toSeconds(ms: number): number {
  return ms < 0 ? ms : Math.floor((ms + 500) / 1000)
}
