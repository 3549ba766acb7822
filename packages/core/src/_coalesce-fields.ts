// Coalesced hash reads: the `hget`s of one tick on one hash go to Redis as one `HMGET` of their
// fields (a lone one as a plain `HGET`), each caller answered with its own field's reply.
import { COALESCE_MAX } from './_gathering.ts'
import { ResponseError } from './errors.ts'
import type { CommandRoute, Connection, RedisArgument } from './types.ts'

/** One caller: its field, and how to answer it with the raw reply. */
interface Waiter {
  field: RedisArgument
  resolve: (reply: unknown) => void
  reject: (error: unknown) => void
}

/**
 * Gathers the `hget`s of one tick by hash and sends them when the microtask queue runs (no
 * timer): one `HGET` for a hash read once, one `HMGET` for a hash read several times (at most
 * `COALESCE_MAX` calls in all per batch). `HMGET` answers each field as `HGET` would, nil for a
 * missing field or hash, and fails with `WRONGTYPE` for a key of another type just as `HGET`
 * does, so each caller gets the reply or error its own `HGET` would have. Hashes of different
 * keys are not merged (Redis has no command for that): a tick of `hget`s over distinct hashes
 * sends one `HGET` each, as before.
 */
export class FieldReadCoalescer {
  readonly #connection: Connection
  /** Whether replies come as text (`CommandRoute.text`). */
  readonly #text: boolean
  /** The reads gathered in this tick, by Redis key, each hash's in call order. */
  #pending: Map<string, Waiter[]> | undefined
  #count = 0

  constructor(connection: Connection, text: boolean) {
    this.#connection = connection
    this.#text = text
  }

  /** The raw reply of `HGET rkey field`. */
  hget(rkey: string, field: RedisArgument): Promise<unknown> {
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
      list.push({ field, resolve, reject })
    })
    if (++this.#count >= COALESCE_MAX) this.#flush(pending)
    return promise
  }

  /** Sends what is gathered now: a command sent after it must not overtake it. */
  flush(): void {
    const pending = this.#pending
    if (pending !== undefined) this.#flush(pending)
  }

  #flush(pending: Map<string, Waiter[]>): void {
    if (this.#pending === pending) {
      this.#pending = undefined
      this.#count = 0
    }
    // Emptied as it is sent: the microtask queued for it may come after an earlier `flush()`.
    const batches = [...pending]
    pending.clear()
    for (const [rkey, waiters] of batches) this.#send(rkey, waiters)
  }

  #send(rkey: string, waiters: Waiter[]): void {
    const route = { key: rkey, readonly: true, text: this.#text }
    if (waiters.length === 1) {
      const waiter = waiters[0] as Waiter
      this.#run(['HGET', rkey, waiter.field], route).then(waiter.resolve, waiter.reject)
      return
    }
    const args: RedisArgument[] = new Array(waiters.length + 2)
    args[0] = 'HMGET'
    args[1] = rkey
    for (let i = 0; i < waiters.length; i++) args[i + 2] = (waiters[i] as Waiter).field
    this.#run(args, route).then(
      (replies) => {
        if (!Array.isArray(replies) || replies.length !== waiters.length) {
          const error = new ResponseError(
            `HMGET of ${waiters.length} fields replied ${Array.isArray(replies) ? `${replies.length} values` : typeof replies}`,
          )
          for (const waiter of waiters) waiter.reject(error)
          return
        }
        for (let i = 0; i < waiters.length; i++) (waiters[i] as Waiter).resolve(replies[i] ?? null)
      },
      (error: unknown) => {
        for (const waiter of waiters) waiter.reject(error)
      },
    )
  }

  /** `connection.command`, a synchronous throw (a broken custom connection) as a rejection. */
  #run(args: RedisArgument[], route: CommandRoute): Promise<unknown> {
    try {
      return this.#connection.command(args, route)
    } catch (error) {
      return Promise.reject(error)
    }
  }
}
