// Coalesced writes: the plain `set`s of one tick (no NX/XX) go to Redis as one script of `SET`s;
// each caller is answered on its own.
import type { CacheContext } from './_context.ts'
import { CrossSlotError } from './errors.ts'
import { defineScript, runScript } from './script.ts'
import type { RedisArgument } from './types.ts'

/** Writes per command at most; a tick with more sends several. */
export const SET_COALESCE_MAX = 128

/**
 * `SET` for each key, in one script: `ARGV[1]` is the expiry in milliseconds (empty: none),
 * `ARGV[i + 1]` the value of `KEYS[i]` (Redis 7.0 has no `MSET` with an expiry). A script stops
 * at its first error: the keys set before it stay set, and the call rejects.
 */
export const SET_MANY_SCRIPT = defineScript(`local px = ARGV[1]
for i = 1, #KEYS do
  if px == '' then
    redis.call('SET', KEYS[i], ARGV[i + 1])
  else
    redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', px)
  end
end
return #KEYS`)

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
 * (one pipeline of `SET`s when the keys span cluster slots). A `set` with another expiry than the
 * batch gathering sends that batch first, so writes of one key land in call order.
 */
export class WriteCoalescer {
  readonly #context: CacheContext
  #batch: Batch | undefined
  /** Off once the connection refused a script over keys of several cluster slots. */
  #scripts = true

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
    const px = ms === null ? undefined : String(ms)
    if (keys.length === 1) {
      const args: RedisArgument[] = ['SET', keys[0] as string, values[0] as RedisArgument]
      if (px !== undefined) args.push('PX', px)
      const waiter = waiters[0] as Waiter
      this.#command(args).then((reply) => waiter.resolve(reply !== null), waiter.reject)
      return
    }
    // One script even without an expiry (not MSET): on a cluster, keys of several slots then
    // go as a pipeline, where a node that is down fails only the writes to it.
    const replies = this.setAll(keys, values, px ?? '')
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
        for (const waiter of waiters) waiter.reject(error)
      },
    )
  }

  /** `connection.command`, a synchronous throw (a broken custom connection) as a rejection. */
  #command(args: RedisArgument[]): Promise<unknown> {
    try {
      return this.#context.connection.command(args, { key: args[1] })
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Stores each of `keys`, expiring in `px` milliseconds (`''`: never): one script, or, when the
   * keys span cluster slots, one pipeline of `SET`s (from then on). Resolves the reply of each
   * key, an `Error` for a `SET` of the pipeline that failed; rejects when the script fails.
   */
  async setAll(
    keys: readonly string[],
    values: readonly RedisArgument[],
    px: string,
  ): Promise<unknown[]> {
    const connection = this.#context.connection
    if (this.#scripts && keys.length > 1) {
      try {
        await runScript(connection, SET_MANY_SCRIPT, keys, [px, ...values])
        return new Array<unknown>(keys.length).fill('OK')
      } catch (error) {
        if (!(error instanceof CrossSlotError)) throw error
        this.#scripts = false
      }
    }
    return connection.batch(
      keys.map((key, i) =>
        px === ''
          ? ['SET', key, values[i] as RedisArgument]
          : ['SET', key, values[i] as RedisArgument, 'PX', px],
      ),
      { key: keys[0] },
    )
  }
}
