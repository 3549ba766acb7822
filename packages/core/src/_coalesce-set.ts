// Coalesced writes: the plain `set`s of one tick (no NX/XX) go to Redis as one `MSET`, or with an
// expiry as one script of `SET … PX`; each caller is answered on its own.
import type { CacheContext } from './_context.ts'
import { sendCommand } from './_gathering.ts'
import { isNoPerm, isScriptRefused, isTryAgain } from './_messages.ts'
import { CrossSlotError, ResponseError } from './errors.ts'
import { spansSlots } from './key-slot.ts'
import { defineScript, runScript } from './script.ts'
import type { CommandRoute, RedisArgument } from './types.ts'

/** Writes per command at most; a tick with more sends several. */
export const SET_COALESCE_MAX = 128

/**
 * Stores `KEYS[i]` = `ARGV[i + 1]`, each expiring in `ARGV[1]` milliseconds (Redis 7.0 has no
 * `MSET` with an expiry). The first key is a `SET … PX`, so a bad expiry fails before anything is
 * stored. Up to 15 keys, each is a `SET … PX`; from 16, the others are one `MSET` (per 1,000 keys:
 * Lua's `unpack` takes about 8,000 values) and a `PEXPIRE` each, which costs the server about a
 * tenth less than a `SET … PX` each (108 against 122 µs for 100 keys). A script stops at its first
 * error: the keys set before it stay set, and the call rejects. A `setMany` of more than
 * `SET_MANY_SCRIPT_KEYS` keys runs it once per that many (`WriteCoalescer.setAll`).
 */
export const SET_MANY_SCRIPT = defineScript(`local n = #KEYS
if #ARGV ~= n + 1 then
  return redis.error_reply('ERR wrong number of arguments: an expiry, then one value per key')
end
local px = ARGV[1]
redis.call('SET', KEYS[1], ARGV[2], 'PX', px)
if n < 16 then
  for i = 2, n do
    redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', px)
  end
  return n
end
local i = 2
while i <= n do
  local last = math.min(i + 999, n)
  local args, k = {}, 0
  for j = i, last do
    args[k + 1] = KEYS[j]
    args[k + 2] = ARGV[j + 1]
    k = k + 2
  end
  redis.call('MSET', unpack(args))
  i = last + 1
end
for j = 2, n do
  redis.call('PEXPIRE', KEYS[j], px)
end
return n`)

/**
 * Keys per `SET_MANY_SCRIPT` at most: a `setMany` of more runs one script per 1,000 keys, all sent
 * at once. Each holds the server about 4 ms (1,000 keys of 30 bytes, on a loaded machine: 4.0 µs a
 * key, as for 500; 4.4 µs at 2,000 and 5,000), where one script of all the keys held every other
 * client up for seconds (2 s for 300,000 keys, 12 to 19 s for 2 million, answered `BUSY`).
 */
export const SET_MANY_SCRIPT_KEYS = 1000

/**
 * The error of each write an ACL refused whole (`NOPERM`, `error`): the server's message, then
 * how the writes went (`sentAs`: `'the set() calls of one tick went to Redis as one MSET'`) and
 * what that means. Redis checks the command and each of its keys before it runs it, so nothing
 * was stored; the writes are not sent again, as they would then go behind the calls made after
 * them (a delete of the same key undone).
 */
export function refusedWhole(error: ResponseError, sentAs: string): ResponseError {
  return new ResponseError(
    `${error.message} (${sentAs}, which the server refused before running it: nothing was stored, and the next such writes go as one command each)`,
    { cause: error },
  )
}

/** Milliseconds before the script that asks whether scripts run is sent again after a failure. */
const ASK_AGAIN_MS = 1000

/** Answers `1`, touching nothing: whether the user may run scripts (`WriteCoalescer`). */
const NOTHING_SCRIPT = defineScript(`return 1`)

interface Waiter {
  resolve: (stored: boolean) => void
  reject: (error: unknown) => void
}

/** The writes gathered in one tick, all with the same expiry. */
interface Batch {
  ms: number | null
  keys: string[]
  values: RedisArgument[]
  waiters: Waiter[]
  sent: boolean
}

/**
 * Gathers the unconditional `set`s of one tick and sends them when the microtask queue runs (no
 * timer: a lone `set` is one `SET`, sent in the same tick). Several go as one `SET_MANY_SCRIPT`
 * (one pipeline of `SET`s when the keys span cluster slots, or after a `TRYAGAIN` of a slot half
 * migrated). A `set` with another expiry than the batch gathering sends that batch first, so
 * writes of one key land in call order.
 */
export class WriteCoalescer {
  readonly #context: CacheContext
  #batch: Batch | undefined
  /**
   * Off once the connection refused one command over several keys before running it: keys of
   * several cluster slots, or an ACL's `NOPERM` (for `MSET` itself, a user allowed only `SET`,
   * or for one of the keys, which then fails only its own caller). Writes then go as pipelines
   * of one `SET` each.
   */
  #whole = true
  /**
   * Off once the server refused the script (an ACL user without `@scripting`, or whose scripting
   * was revoked since; `EVAL` renamed or disabled on the server): writes with an expiry go as
   * pipelines of `SET … PX`, as a lone `set` and django-redis's `set_many` do.
   */
  #scripts = true
  /**
   * Whether a script was answered on this connection: its user may run scripts. Until then,
   * writes with an expiry go as pipelines of `SET … PX` (sent at once, in call order), after
   * which one script asks (`#probe`): a script that might be refused could only be replaced by
   * writes sent after it — behind later calls (a `delete` of the same key undone), or refused
   * once `close()` has begun.
   */
  #scriptsKnown = false
  /** The script under way that finds out whether this user may run scripts. */
  #probe: Promise<unknown> | undefined
  /** `performance.now()` before which the script is not asked again (after a failure). */
  #askAfter = 0

  constructor(context: CacheContext) {
    this.#context = context
  }

  /** Stores the encoded `data` at `rkey`, expiring in `ms` (`null`: never). */
  set(rkey: string, data: RedisArgument, ms: number | null): Promise<boolean> {
    let batch = this.#batch
    if (batch !== undefined && batch.ms !== ms) {
      this.#send(batch)
      batch = undefined
    }
    if (batch === undefined) {
      const fresh: Batch = { ms, keys: [], values: [], waiters: [], sent: false }
      this.#batch = batch = fresh
      queueMicrotask(() => this.#send(fresh))
    }
    batch.keys.push(rkey)
    batch.values.push(data)
    const waiters = batch.waiters
    const promise = new Promise<boolean>((resolve, reject) => {
      waiters.push({ resolve, reject })
    })
    if (waiters.length >= SET_COALESCE_MAX) this.#send(batch)
    return promise
  }

  /** Sends what is gathered now: a command sent after it must not overtake it. */
  flush(): void {
    const batch = this.#batch
    if (batch !== undefined) this.#send(batch)
  }

  #send(batch: Batch): void {
    if (this.#batch === batch) this.#batch = undefined
    if (batch.sent) return
    batch.sent = true
    const { keys, values, waiters, ms } = batch
    const px = ms === null ? '' : String(ms)
    if (keys.length === 1) {
      const key = keys[0] as string
      const waiter = waiters[0] as Waiter
      sendCommand(this.#context.unordered, setArguments(key, values[0], px), { key }).then(
        (reply) => waiter.resolve(reply !== null),
        waiter.reject,
      )
      return
    }
    // One command (MSET, or a script with an expiry) sent whole: on a cluster, keys of several
    // slots then go as a pipeline, where a node that is down fails only the writes to it, and
    // so do the keys of a slot half migrated.
    const replies = this.setAll(keys, values, px, true)
    replies.then(
      (each) => {
        for (let i = 0; i < waiters.length; i++) {
          const reply = each[i]
          const waiter = waiters[i] as Waiter
          if (reply instanceof Error) waiter.reject(reply)
          else waiter.resolve(true)
        }
      },
      (error: unknown) => {
        // Refused whole by the ACL: each caller told why (see `refusedWhole`).
        const refused = isNoPerm(error)
          ? refusedWhole(
              error,
              `the set() calls of one tick went to Redis as one ${px === '' ? 'MSET' : 'script'}`,
            )
          : error
        for (const waiter of waiters) waiter.reject(refused)
      },
    )
  }

  /**
   * Stores each of `keys`, expiring in `px` milliseconds (`''`: never): one command (an `MSET`
   * without an expiry, a script with one; past `SET_MANY_SCRIPT_KEYS` keys, one pipeline of
   * scripts, `#inChunks`), or one pipeline of `SET`s: when the keys span cluster
   * slots, and, with an expiry, until this user is known to run scripts (or when not allowed
   * to). Resolves the reply of each key, an `Error` for a `SET` of the pipeline that failed;
   * rejects when the one command fails — also when an ACL refused it (`NOPERM`: nothing ran),
   * after which the next writes go as pipelines. With `gathered` (separate `set` calls of one
   * tick), a cluster's `TRYAGAIN` for the one command (its slot half migrated) is asked for at
   * once (`CommandRoute.tryAgain: false`), and the writes then go as the pipeline, each as its
   * caller's `set` alone would have gone; without (`setMany`), the connection retries it and the
   * call fails with it.
   */
  async setAll(
    keys: readonly string[],
    values: readonly RedisArgument[],
    px: string,
    gathered = false,
  ): Promise<unknown[]> {
    const connection = this.#context.unordered
    // Keys a cluster would refuse whole go apart at once: learned from the refusal, they would
    // be sent after the commands called behind them.
    const apart = connection.routesBySlot === true && spansSlots(keys)
    const scripted = px !== ''
    if (scripted && this.#scripts && !this.#scriptsKnown) {
      // The writes first; the script asks once they are answered: in flight beside them, its
      // few bytes would have `maxInFlightBytes` refuse a write over the cap, which runs while
      // nothing else is in flight (a value of 32 to 64 MiB, by default). The callers are
      // answered with the writes: a script the server holds up holds up none of them.
      const replies = this.#pipeline(keys, values, px, gathered)
      const ask = () => this.#askScripts(keys[0] as string)
      replies.then(ask, ask)
      return replies
    }
    if (this.#whole && keys.length > 1 && !apart && (!scripted || this.#scripts)) {
      // Gathered: each set() of the tick counts in maxInFlightBytes (`callers`), not its bytes alone.
      const route: CommandRoute = gathered
        ? { key: keys[0], tryAgain: false, callers: keys.length }
        : { key: keys[0] }
      try {
        if (!scripted) {
          await connection.command(msetArguments(keys, values), { ...route, atomic: true })
        } else if (keys.length <= SET_MANY_SCRIPT_KEYS) {
          await runScript(connection, SET_MANY_SCRIPT, keys, [px, ...values], route)
        } else return await this.#inChunks(keys, values, px)
        return new Array<unknown>(keys.length).fill('OK')
      } catch (error) {
        // Keys of several cluster slots, refused before anything ran: the pipeline below
        // stores what the one command would have.
        if (error instanceof CrossSlotError) this.#whole = false
        // A slot half migrated, refused before anything ran: the pipeline below sends each
        // write as its caller's `set` alone would have gone (an `ASK` for a key already moved),
        // after the calls made behind them, as the connection's own retry of the `TRYAGAIN`
        // would; the next batches go whole again (the migration ends).
        else if (!(gathered && isTryAgain(error))) {
          // An ACL's refusal also comes before anything ran, but only once the command's reply
          // is in: a pipeline sent now would go behind the calls made after these writes (a
          // delete of one of their keys undone). Refused, then; the next writes go apart.
          if (scripted && isScriptRefused(error)) this.#scripts = false
          else if (isNoPerm(error)) this.#whole = false
          throw error
        }
      }
    }
    return this.#pipeline(keys, values, px, gathered)
  }

  /**
   * `SET_MANY_SCRIPT` once per `SET_MANY_SCRIPT_KEYS` of `keys`, as one pipeline: sent in this
   * tick (one round trip), weighed whole against `maxInFlightBytes` as the one script was, the
   * server free for other clients between two scripts. Each goes with `EVAL`: an `EVALSHA` behind
   * the first, on a server that lost the script, would answer `NOSCRIPT`, to be sent again behind
   * later calls (the source adds under a kilobyte to 1,000 keys). Resolves each key's reply:
   * `'OK'`, or the error of its script (which may have stored the keys before the one it failed
   * on). Rejects as the one script would have when every script failed (the ACL refused them,
   * `#scripts` or `#whole` then off, or the connection was lost), or when one was refused as keys
   * of several slots (`CrossSlotError`: `setAll` sends them all again as a pipeline).
   */
  async #inChunks(
    keys: readonly string[],
    values: readonly RedisArgument[],
    px: string,
  ): Promise<unknown[]> {
    const n = keys.length
    const commands: RedisArgument[][] = []
    for (let start = 0; start < n; start += SET_MANY_SCRIPT_KEYS) {
      const m = Math.min(SET_MANY_SCRIPT_KEYS, n - start)
      // EVAL source m key… px value…
      const args: RedisArgument[] = new Array(4 + 2 * m)
      args[0] = 'EVAL'
      args[1] = SET_MANY_SCRIPT.source
      args[2] = String(m)
      args[3 + m] = px
      for (let i = 0; i < m; i++) {
        args[3 + i] = keys[start + i] as string
        args[4 + m + i] = values[start + i] as RedisArgument
      }
      commands.push(args)
    }
    const replies = await this.#context.unordered.batch(commands, { key: keys[0] })
    const each = new Array<unknown>(n)
    let first: Error | undefined
    let stored = false
    for (let c = 0; c < replies.length; c++) {
      const reply = replies[c]
      if (reply instanceof Error) {
        if (reply instanceof CrossSlotError) throw reply
        first ??= reply
        if (isScriptRefused(reply)) this.#scripts = false
        else if (isNoPerm(reply)) this.#whole = false
      } else stored = true
      const start = c * SET_MANY_SCRIPT_KEYS
      each.fill(reply instanceof Error ? reply : 'OK', start, start + SET_MANY_SCRIPT_KEYS)
    }
    if (!stored && first !== undefined) throw first
    return each
  }

  /**
   * Runs a script that does nothing, on `key`'s node, to learn whether this user may run scripts
   * (`#scriptsKnown`, or `#scripts` off when refused by the ACL or unknown to the server: a
   * renamed `EVAL`, a proxy without scripts); once at a time, and again, a second later at the
   * soonest, after a failure that says nothing of scripts (a lost connection, a busy server).
   */
  #askScripts(key: string): void {
    if (this.#probe !== undefined || performance.now() < this.#askAfter) return
    this.#probe = runScript(this.#context.unordered, NOTHING_SCRIPT, [key], []).then(
      () => {
        this.#scriptsKnown = true
      },
      (error: unknown) => {
        if (isScriptRefused(error)) {
          this.#scripts = false
          return
        }
        this.#askAfter = performance.now() + ASK_AGAIN_MS
        this.#probe = undefined
      },
    )
  }

  /**
   * One `SET` (with `PX px` unless `''`) per key, as one pipeline, weighed in maxInFlightBytes
   * as the calls it answers (`callers`): each `set` when `gathered` from separate calls, else one
   * (a `setMany`).
   */
  #pipeline(
    keys: readonly string[],
    values: readonly RedisArgument[],
    px: string,
    gathered: boolean,
  ) {
    const connection = this.#context.unordered
    return connection.batch(
      keys.map((key, i) => setArguments(key, values[i], px)),
      { key: keys[0], callers: gathered ? keys.length : 1 },
    )
  }
}

/** `SET key value`, with `PX px` unless `px` is `''`. */
function setArguments(key: string, value: RedisArgument | undefined, px: string): RedisArgument[] {
  const args = ['SET', key, value as RedisArgument]
  if (px !== '') args.push('PX', px)
  return args
}

/** `MSET k1 v1 k2 v2 …`. */
export function msetArguments(
  keys: readonly string[],
  values: readonly RedisArgument[],
): RedisArgument[] {
  const args: RedisArgument[] = new Array(2 * keys.length + 1)
  args[0] = 'MSET'
  for (let i = 0; i < keys.length; i++) {
    args[2 * i + 1] = keys[i] as string
    args[2 * i + 2] = values[i] as RedisArgument
  }
  return args
}
