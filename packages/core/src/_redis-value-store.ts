// The `ValueStore` of every `Cache`: string values over the cache's `Connection`, with
// django-redis's semantics (timeouts ≤ 0 delete, `incr` keeps every digit and falls back to
// read-add-write for values `INCRBY` refuses).
import { bounded } from './_bounded.ts'
import { LARGE_VALUE, ReadCoalescer } from './_coalesce.ts'
import { ExistsCoalescer } from './_coalesce-exists.ts'
import { IncrCoalescer } from './_coalesce-incr.ts'
import { ManyReadCoalescer } from './_coalesce-many.ts'
import { msetArguments, refusedWhole, WriteCoalescer } from './_coalesce-set.ts'
import type { CacheContext } from './_context.ts'
import type { Coalescer } from './_gathering.ts'
import { INCR_SCRIPT, Incrs, type PipelineIncr } from './_incr.ts'
import { noteFailedEntry } from './_key-errors.ts'
import { isNoPerm } from './_messages.ts'
import { integerReply, isOne, mgetReplies } from './_replies.ts'
import type { SetCondition, ValueStore } from './_value-store.ts'
import { deleteWalking, WritesSince } from './_writes-since.ts'
import { decodeReplaced, noteStored, setGetWrites } from './commands/_removed.ts'
import { KeyNotFoundError, ResponseError } from './errors.ts'
import type { RedisArgument } from './types.ts'

/**
 * A large value's text as UTF-8 bytes. node-redis measures a string argument (`Buffer.byteLength`)
 * and then has the socket encode it; given the bytes, it writes them as they are. Measured with
 * raw node-redis (client CPU a `SET`, medians of 7 rounds, two runs): 100 KB 861 µs as bytes
 * against 942 as text, 1 MB 10,233–10,376 against 11,713–13,271; at 20 KB level (183–195 against
 * 186–207); at 10 MB 99–105 ms against 101–113 ms.
 */
function asBytes(data: RedisArgument): RedisArgument {
  return typeof data === 'string' && data.length > LARGE_VALUE ? Buffer.from(data) : data
}

/** The store of each context, the one a local tier wraps too (`redisStoreOf`). */
const stores = new WeakMap<CacheContext, RedisValueStore>()

/** The `RedisValueStore` of `context` (under its local tier, if any), for a pipeline's `incr`. */
export function redisStoreOf(context: CacheContext): RedisValueStore | undefined {
  return stores.get(context)
}

/** String values in Redis, through the context's connection and codec. */
export class RedisValueStore implements ValueStore {
  readonly #context: CacheContext
  /** The `get`s of one tick as one `MGET` (`coalesceReads`); `undefined`: one `GET` each. */
  readonly #reads: ReadCoalescer | undefined
  /** The `getMany`s of one tick, those of the same keys one after the other as one `MGET`. */
  readonly #manyReads: ManyReadCoalescer | undefined
  /** The existence checks of one tick as one `EXISTS` (`coalesceReads`); `undefined`: one each. */
  readonly #exists: ExistsCoalescer | undefined
  /** The unconditional `set`s of one tick as one script. */
  readonly #writes: WriteCoalescer
  /** The `incr`s: of one tick as one script, and the fallback for values `INCRBY` refuses. */
  readonly #incrs: Incrs
  /** The keys written while an `incr` or a batch of `hasKey`s is under way. */
  readonly #written = new WritesSince()

  /** Coalesces reads (`get`s, existence checks) when the context says so (`coalesceReads`). */
  constructor(context: CacheContext) {
    this.#context = context
    const gathering = context.gathering
    this.#reads = context.coalesce ? gathering.add(new ReadCoalescer(context)) : undefined
    this.#manyReads = context.coalesce ? gathering.add(new ManyReadCoalescer(context)) : undefined
    this.#exists = context.coalesce
      ? gathering.add(new ExistsCoalescer(context, this.#written))
      : undefined
    const incrs = gathering.add(new IncrCoalescer(context, INCR_SCRIPT))
    this.#incrs = new Incrs(context, this.#written, () => this.#gather(incrs))
    this.#writes = gathering.add(new WriteCoalescer(context))
    stores.set(context, this)
  }

  /**
   * An `incr` a pipeline sends, once the pipeline's writes are noted: under way from now
   * (`Incrs.pipelineIncr`).
   */
  pipelineIncr(): PipelineIncr {
    return this.#incrs.pipelineIncr()
  }

  /** The last write of this cache that replaced `rkey`, for a pipeline's `incr` (`Incrs`). */
  lastReplaced(rkey: string): number {
    return this.#incrs.lastReplaced(rkey)
  }

  /** `coalescer`, once the calls other coalescers gathered before are sent. */
  #gather<C extends Coalescer>(coalescer: C): C {
    return this.#context.gathering.use(coalescer)
  }

  get(rkey: string, key: string, fallback: unknown, primary = false): Promise<unknown> {
    const reads = this.#reads
    if (reads !== undefined && !primary) {
      this.#gather(reads)
      return reads.get(rkey, key, fallback)
    }
    return this.#getOne(rkey, key, fallback, primary)
  }

  async #getOne(rkey: string, key: string, fallback: unknown, primary: boolean): Promise<unknown> {
    const context = this.#context
    const reply = await this.#context.connection.command(['GET', rkey], {
      key: rkey,
      readonly: !primary,
      primaryRead: primary,
      text: context.text,
    })
    return reply === null ? fallback : context.decode(reply, key)
  }

  async getMany(
    keys: readonly string[],
    rkeys: readonly string[],
    primary = false,
  ): Promise<Map<string, unknown>> {
    const context = this.#context
    const manyReads = this.#manyReads
    let replies: unknown[]
    // Whether another call reads the same replies: each decodes a copy of their bytes.
    let shared = false
    if (manyReads !== undefined) {
      const read = this.#gather(manyReads).read(rkeys, primary)
      replies = mgetReplies(await read.replies, rkeys.length)
      shared = read.readers > 1
    } else {
      const args: RedisArgument[] = new Array(rkeys.length + 1)
      args[0] = 'MGET'
      for (let i = 0; i < rkeys.length; i++) args[i + 1] = rkeys[i] as string
      replies = mgetReplies(
        await this.#context.connection.command(args, {
          key: args[1],
          readonly: !primary,
          primaryRead: primary,
          text: context.text,
        }),
        rkeys.length,
      )
    }
    const found = new Map<string, unknown>()
    // The values decompress under one budget (4 × maxValueSize in all), not each under its own.
    const budget = context.budget()
    for (let i = 0; i < keys.length; i++) {
      const reply = replies[i]
      const key = keys[i] as string
      // A key named twice is decoded once: the budget counts what the answer holds.
      if (reply !== null && reply !== undefined && !found.has(key)) {
        const own = shared && Buffer.isBuffer(reply) ? Buffer.from(reply) : reply
        found.set(key, context.decode(own, key, undefined, budget))
      }
    }
    return found
  }

  async set(
    rkey: string,
    value: unknown,
    ms: number | null,
    condition?: SetCondition,
  ): Promise<boolean> {
    const data = this.#context.encode(value)
    // Noted once encoded (a value refused is no write), before anything is sent.
    if (condition === 'nx') this.#written.changed(rkey)
    else this.#written.replaced(rkey)
    // A large value goes alone: a batch stays small, and within `maxInFlightBytes`.
    if (condition === undefined && (ms === null || ms > 0) && data.length <= LARGE_VALUE) {
      // After the other coalesced calls gathered before it: sent in call order.
      this.#gather(this.#writes)
      return this.#writes.set(rkey, data, ms)
    }
    const connection = this.#context.connection
    if (ms !== null && ms <= 0) {
      if (condition === 'nx') return (await this.has(rkey)) === false
      return isOne(await connection.command(['UNLINK', rkey], { key: rkey }))
    }
    const args: RedisArgument[] = ['SET', rkey, asBytes(data)]
    if (ms !== null) args.push('PX', String(ms))
    if (condition === 'nx') args.push('NX')
    else if (condition === 'xx') args.push('XX')
    return (await connection.command(args, { key: rkey })) !== null
  }

  async setMany(
    rkeys: readonly string[],
    values: readonly unknown[],
    ms: number | null,
  ): Promise<boolean[]> {
    const context = this.#context
    const connection = this.#context.connection
    const n = rkeys.length
    // Every value encoded before anything is sent. A value that cannot be encoded is noted as
    // entry i, for the cache, which has the user's keys, to name its key.
    const data: RedisArgument[] = new Array(n)
    let i = 0
    try {
      for (; i < n; i++) data[i] = asBytes(context.encode(values[i]))
    } catch (error) {
      throw noteFailedEntry(error, i)
    }
    const written = this.#written
    written.batch(() => {
      for (let i = 0; i < n; i++) written.replaced(rkeys[i] as string)
    })
    // On a cluster, keys over several slots go as a pipeline of SETs whatever the timeout (see
    // below): an MSET split by slot would reject the whole call when one node's part failed,
    // after the other parts were stored.
    if (ms === null && connection.routesBySlot !== true) {
      await connection.command(msetArguments(rkeys, data), { key: rkeys[0] })
      return new Array<boolean>(n).fill(true)
    }
    if (ms !== null && ms <= 0) {
      await connection.command(['UNLINK', ...rkeys], { key: rkeys[0] })
      return new Array<boolean>(n).fill(true)
    }
    // One script of `SET … PX` (one per 1,000 keys, sent together: `SET_MANY_SCRIPT_KEYS`; one
    // `MSET` without an expiry), or one pipeline of SETs (keys over cluster slots, or until this
    // user is known to run scripts: see `WriteCoalescer.setAll`). A script the ACL refused
    // (scripting revoked since it was learnt) is not replaced by a pipeline sent after calls made
    // behind this one: the call rejects, nothing stored, and the next ones go as pipelines.
    let replies: unknown[]
    try {
      // Sent at once, on the connection as handed in: after every call gathered before it.
      context.gathering.flush()
      replies = await this.#writes.setAll(rkeys, data, ms === null ? '' : String(ms))
    } catch (error) {
      const whole = ms === null ? 'one MSET' : 'one script'
      throw isNoPerm(error) ? refusedWhole(error, `setMany() went to Redis as ${whole}`) : error
    }
    // Keys that failed are a cluster's: a node that refused or could not be reached fails only
    // the writes to it. Elsewhere the pipeline stands in for the one script, and fails as it
    // does: the call rejects with the first error, which tells which writes the replies say were
    // stored (`storedBeforeFailure`).
    const stored = replies.map((reply) => !(reply instanceof Error))
    if (connection.routesBySlot !== true) {
      const failed = replies.find((reply) => reply instanceof Error)
      if (failed !== undefined) throw noteStored(failed as Error, stored)
    }
    return stored
  }

  async setGet(
    rkey: string,
    key: string,
    value: unknown,
    ms: number | null,
    condition?: SetCondition,
    missing: unknown = null,
  ): Promise<unknown> {
    const context = this.#context
    const data = context.encode(value, key)
    if (condition === 'nx') this.#written.changed(rkey)
    else this.#written.replaced(rkey)
    let args: RedisArgument[]
    if (ms !== null && ms <= 0) {
      // Expired at once, as `set` does: deleted (or, with nx, left alone), its value returned.
      args = condition === 'nx' ? ['GET', rkey] : ['GETDEL', rkey]
    } else {
      args = ['SET', rkey, data]
      if (ms !== null) args.push('PX', String(ms))
      if (condition === 'nx') args.push('NX')
      else if (condition === 'xx') args.push('XX')
      args.push('GET')
    }
    // Read as bytes: an old value the codec cannot read was replaced or deleted all the same,
    // and is given back as the stored bytes (`decodeReplaced`), which text may not hold.
    const reply = await this.#context.connection.command(args, { key: rkey, text: false })
    return reply === null || reply === undefined
      ? missing
      : decodeReplaced(context, reply, key, setGetWrites(ms, condition))
  }

  writing<T>(
    rkeys: readonly string[],
    write: () => Promise<T>,
    unreplaced: readonly string[] = [],
    replaced: readonly string[] = [],
  ): Promise<T> {
    const written = this.#written
    written.batch(() => {
      for (const rkey of rkeys) written.mayReplace(rkey)
      for (const rkey of unreplaced) written.changed(rkey)
      for (const rkey of replaced) written.replaced(rkey)
    })
    return write()
  }

  async delete(rkey: string): Promise<boolean> {
    this.#written.replaced(rkey)
    return isOne(await this.#context.connection.command(['UNLINK', rkey], { key: rkey }))
  }

  async deleteMany(rkeys: readonly string[]): Promise<number> {
    const written = this.#written
    written.batch(() => {
      for (const rkey of rkeys) written.replaced(rkey)
    })
    return integerReply(
      await this.#context.connection.command(['UNLINK', ...rkeys], { key: rkeys[0] }),
    )
  }

  has(rkey: string, primary = false): Promise<boolean> {
    const exists = this.#exists
    return exists !== undefined && !primary && !exists.apart()
      ? this.#gather(exists).has(rkey)
      : this.#hasOne(rkey, primary)
  }

  async #hasOne(rkey: string, primary: boolean): Promise<boolean> {
    const route = { key: rkey, readonly: !primary, primaryRead: primary }
    return isOne(await this.#context.connection.command(['EXISTS', rkey], route))
  }

  async touch(rkey: string, ms: number | null): Promise<boolean> {
    // PEXPIRE 0 deletes it.
    if (ms !== null && ms <= 0) this.#written.replaced(rkey)
    else this.#written.touched(rkey)
    const connection = this.#context.connection
    if (ms === null) {
      const [, exists] = await connection.batch(
        [
          ['PERSIST', rkey],
          ['EXISTS', rkey],
        ],
        { key: rkey },
      )
      if (exists instanceof Error) throw exists
      return isOne(exists)
    }
    return isOne(await connection.command(['PEXPIRE', rkey, String(ms)], { key: rkey }))
  }

  incr(
    rkey: string,
    key: string,
    delta: number | bigint,
    asNumber: boolean,
    method: 'incr' | 'decr',
  ): Promise<number | bigint> {
    return this.#incrs.incr(rkey, key, delta, asNumber, method)
  }

  async rename(from: string, to: string, key: string): Promise<void> {
    this.#written.changed(from)
    this.#written.replaced(to)
    try {
      await this.#context.connection.command(['RENAME', from, to], { key: from })
    } catch (error) {
      if (error instanceof ResponseError && /no such key/i.test(error.message)) {
        throw new KeyNotFoundError(`key '${bounded(key)}' not found`, { cause: error })
      }
      throw error
    }
  }

  async ttl(rkey: string, unit: 's' | 'ms', primary = false): Promise<number | null> {
    const command = unit === 's' ? 'TTL' : 'PTTL'
    const route = { key: rkey, readonly: !primary, primaryRead: primary, text: this.#context.text }
    const t = integerReply(await this.#context.connection.command([command, rkey], route))
    return t === -1 ? null : t === -2 ? 0 : t
  }

  async expire(rkey: string, ms: number): Promise<boolean> {
    if (ms <= 0) this.#written.replaced(rkey)
    else this.#written.touched(rkey)
    return this.#bool(['PEXPIRE', rkey, String(ms)])
  }

  async expireAt(rkey: string, unixMs: number): Promise<boolean> {
    if (unixMs <= Date.now()) this.#written.replaced(rkey)
    else this.#written.touched(rkey)
    return this.#bool(['PEXPIREAT', rkey, String(unixMs)])
  }

  async persist(rkey: string): Promise<boolean> {
    this.#written.touched(rkey)
    return this.#bool(['PERSIST', rkey])
  }

  scan(pattern: string, count: number): AsyncIterable<Array<string | Buffer>> {
    return this.#context.connection.scan(pattern, count)
  }

  /**
   * One `UNLINK` per `SCAN` batch, sent as the walk goes on, walked again from the start if its
   * server changed (`deleteWalking`).
   */
  deleteMatching(pattern: string, count: number): Promise<number> {
    return deleteWalking(this.#context.connection, this.#written, pattern, count)
  }

  flush(): Promise<void> {
    this.#written.replacedMatching('*')
    return this.#context.connection.flush()
  }

  async #bool(args: string[]): Promise<boolean> {
    const route = { key: args[1], readonly: false, text: this.#context.text }
    return isOne(await this.#context.connection.command(args, route))
  }
}
