import { setOwn } from './_own.ts'
import { toArray, toData, toNumber, toPairs, toScore, toScoreOrNull, toText } from './_replies.ts'
import { SingleFlight, TIMED_OUT } from './_single-flight.ts'
import { checkSeconds, describe, timeoutToMs } from './_timeout.ts'
import { Codec } from './codec.ts'
import {
  CachexError,
  CompressionError,
  ConnectionError,
  InvalidArgumentError,
  isIgnorable,
  KeyNotFoundError,
  LockError,
  NotANumberError,
  ResponseError,
  SerializationError,
} from './errors.ts'
import { jsonSerializer } from './json.ts'
import { defaultKeyFunction, defaultReverseKeyFunction, globEscape } from './key-function.ts'
import type { CacheLock, LockFactory, LockOptions } from './lock-types.ts'
import { defineScript, runScript } from './script.ts'
import type {
  Compressor,
  Connection,
  KeyFunction,
  Logger,
  RedisArgument,
  ReverseKeyFunction,
  Serializer,
} from './types.ts'

/**
 * Options of a `Cache`. Seconds stay seconds, as in Django's `CACHES` settings. `IgnoreErrors` is
 * the type of `ignoreExceptions`, inferred by `new Cache()` and `createCache()`.
 */
export interface CacheOptions<IgnoreErrors extends boolean = boolean> {
  /** The connection every command goes through (`@cachex/connections` builds one). */
  connection: Connection
  /** Prepended to every key (`KEY_PREFIX`). @default '' */
  keyPrefix?: string
  /** The default key version (`VERSION`). @default 1 */
  version?: number
  /** Default timeout in seconds (`TIMEOUT`); `null` never expires. @default 300 */
  timeout?: number | null
  /** Builds Redis keys (`KEY_FUNCTION`). @default `${keyPrefix}:${version}:${key}` */
  keyFunction?: KeyFunction
  /** Turns Redis keys back into user keys for `keys()`/`iterKeys()`; needed with a custom `keyFunction`. */
  reverseKeyFunction?: ReverseKeyFunction
  /** The serializer, or several: the first writes, all are tried on read. @default JSON */
  serializer?: Serializer | readonly Serializer[]
  /** The compressor, or several: the first writes, all are tried on read. @default none */
  compressor?: Compressor | readonly Compressor[] | null
  /**
   * The largest value, in bytes after decompression (the serialized form), that the cache reads
   * or writes; `null` for no limit. Reading a value beyond it rejects with a `CompressionError`
   * (compressors stop as soon as their output passes the limit, so a decompression bomb costs at
   * most this much memory) or, uncompressed, a `SerializationError` before deserializing; writing
   * one rejects with a `SerializationError`, so the cache never writes what it would refuse to
   * read. A cache value beyond 64 MiB is almost always a mistake, and the limit bounds the memory
   * and event-loop time one poisoned key can cost (without it, a 1.6 KB brotli value expands to
   * 2.2 GB on `get`). For comparison, Redis stores values up to `proto-max-bulk-len` (512 MB) and
   * Django's backends have no limit.
   * @default 67_108_864 (64 MiB)
   */
  maxValueSize?: number | null
  /**
   * Turn connection errors, timeouts and error replies into fallbacks (`IGNORE_EXCEPTIONS`): each
   * method resolves a value of its declared type (`get` its default, `set` `false`, counts `0`,
   * lists `[]`…; the table is in docs/configuration.md). Methods with no neutral value (`incr`,
   * `hincrby`, `lpush`…) resolve `null`, which their type then says: `Cache<true>`.
   * @default false
   */
  ignoreExceptions?: IgnoreErrors
  /** Log the errors that `ignoreExceptions` swallowed, once per kind (`code`) per minute. @default false */
  logIgnoredExceptions?: boolean
  /** Where ignored errors are logged. @default console */
  logger?: Logger
  /** Keys fetched per `SCAN` in `iterKeys`, `keys`, `deletePattern` and `clear`. @default 1000 */
  scanItersize?: number
  /** Creates the lock behind `lock()`; the umbrella passes `@cachex/lock`'s. */
  lockFactory?: LockFactory
}

/** Selects a key version other than the cache's own, as Django's `version=` argument. */
export interface VersionOption {
  /** The key version to use for this call. @default the cache's `version` */
  version?: number
}

/** Options of `set()`. */
export interface SetOptions extends VersionOption {
  /** Seconds until the value expires: `undefined` → the cache's default, `null` → never, ≤ 0 → at once. */
  timeout?: number | null
  /** Only set when the key does not exist. */
  nx?: boolean
  /** Only set when the key exists. */
  xx?: boolean
}

/** Options of `setMany()` and `getOrSet()`. */
export interface TimeoutOption extends VersionOption {
  /** Seconds until the value expires: `undefined` → the cache's default, `null` → never, ≤ 0 → at once. */
  timeout?: number | null
}

/** Options of `getOrSet()`. */
export interface GetOrSetOptions extends TimeoutOption {
  /**
   * Seconds a call waits for the same key's computation started by another call in this process.
   * After that it calls its own factory (the shared computation may hang; the request goes on).
   * `null` waits as long as it takes; `0` never waits (every call computes).
   * @default 10
   */
  waitTimeout?: number | null
}

/** Options of `iterKeys()` and `deletePattern()`. */
export interface ScanOptions {
  /** Keys fetched per `SCAN`. @default the cache's `scanItersize` */
  itersize?: number
}

/** Options of `zadd()`. */
export interface ZAddOptions {
  /** Only add new members. */
  nx?: boolean
  /** Only update existing members. */
  xx?: boolean
  /** Only update when the new score is greater. */
  gt?: boolean
  /** Only update when the new score is less. */
  lt?: boolean
  /** Count changed members, not only added ones. */
  ch?: boolean
  /** Increment the score of the one given member and return the new score. */
  incr?: boolean
}

/** Options of `zrange()`. */
export interface ZRangeOptions {
  /** Highest score first. */
  desc?: boolean
  /** Return `[member, score]` pairs. */
  withScores?: boolean
}

/** Options of `zrangebyscore()`. */
export interface ZRangeByScoreOptions {
  /** Skip this many members (with `count`). */
  offset?: number
  /** Return at most this many members (with `offset`). */
  count?: number
  /** Return `[member, score]` pairs. */
  withScores?: boolean
}

/** Options of `lpos()`. */
export interface LPosOptions {
  /** Which match to return: 1 the first, -1 the last, 2 the second… */
  rank?: number
  /** Return up to this many positions (0 = all) as an array. */
  count?: number
  /** Compare at most this many elements. */
  maxlen?: number
}

/** A score bound: a number or a Redis range string such as `'-inf'`, `'+inf'` or `'(5'`. */
export type ScoreBound = number | string

/** Sorted-set members with scores: `{ member: score }`, a `Map` of member to score, or `[score, member]` pairs. */
export type ZAddMembers =
  | Record<string, number>
  | Map<unknown, number>
  | ReadonlyArray<readonly [number, unknown]>

/**
 * What a method with no neutral fallback (`incr`, `hincrby`, `lpush`…) resolves: `T`, or also
 * `null` when the cache may ignore errors (`ignoreExceptions`).
 */
export type OrIgnored<IgnoreErrors extends boolean, T> = IgnoreErrors extends false ? T : T | null

/** Which end of a list `lmove` takes from or pushes to. */
export type ListSide = 'LEFT' | 'RIGHT'

const READ = true
const DEFAULT_TIMEOUT = 300
const DEFAULT_ITERSIZE = 1000
const MISSING: unique symbol = Symbol('missing')
const LOG_EVERY_MS = 60_000
// Longer than a typical computation (a few queries of at most socketTimeout, 5 s, each), shorter
// than the 30–60 s after which proxies and load balancers give up on a request.
const DEFAULT_WAIT_TIMEOUT = 10

// INCRBY only when the key exists; return the stored digits so integers beyond 2^53 keep every digit.
const INCR_SCRIPT = defineScript(`if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCRBY', KEYS[1], ARGV[1])
  return redis.call('GET', KEYS[1])
end
return false`)

/**
 * A Redis cache with the complete API of Django's Redis cache backends. Every method is async;
 * timeouts are in seconds. A `Cache` knows nothing of the Redis topology: it builds keys, encodes
 * values and applies Django's semantics, and its `Connection` runs the commands.
 *
 * `IgnoreErrors` says whether the cache may swallow errors (`ignoreExceptions`): `createCache()`
 * gives `Cache<false>` (or `Cache<true>` with `ignoreExceptions: true`). The bare name `Cache`
 * is `Cache<boolean>`, any cache, so a function typed `(cache: Cache)` accepts every one; the few
 * methods with no neutral fallback (`incr`, `lpush`…) then include `null` in their result.
 */
export class Cache<out IgnoreErrors extends boolean = boolean> {
  /** The key prefix (`KEY_PREFIX`). */
  readonly keyPrefix: string
  /** The default key version (`VERSION`). */
  readonly version: number
  /** The default timeout in seconds; `null` never expires. */
  readonly defaultTimeout: number | null

  readonly #connection: Connection
  readonly #codec: Codec
  readonly #keyFunction: KeyFunction
  readonly #reverseKeyFunction: ReverseKeyFunction
  readonly #ignoreExceptions: boolean
  readonly #logIgnored: boolean
  readonly #logger: Logger
  readonly #itersize: number
  readonly #lockFactory: LockFactory | undefined
  /** Whether replies come as UTF-8 text (the codec reads text: JSON without compression). */
  readonly #text: boolean
  /** When each kind of ignored error was last logged. */
  readonly #loggedAt = new Map<string, number>()
  /** getOrSet computations in flight, by Redis key. */
  readonly #flights = new SingleFlight()

  constructor(options: CacheOptions<IgnoreErrors>) {
    if (options?.connection === undefined) {
      throw new InvalidArgumentError('a Cache needs a connection')
    }
    this.#connection = options.connection
    this.keyPrefix = options.keyPrefix ?? ''
    this.version = checkVersion(options.version ?? 1)
    this.defaultTimeout =
      options.timeout === undefined ? DEFAULT_TIMEOUT : nullableSeconds(options.timeout, 'timeout')
    this.#keyFunction = options.keyFunction ?? defaultKeyFunction
    this.#reverseKeyFunction = options.reverseKeyFunction ?? defaultReverseKeyFunction
    const serializers = toList(options.serializer)
    const compressors = toList(options.compressor ?? undefined)
    this.#codec = new Codec(
      serializers.length > 0 ? serializers : [jsonSerializer()],
      compressors,
      { maxValueSize: options.maxValueSize },
    )
    this.#text = this.#codec.readsText
    this.#ignoreExceptions = options.ignoreExceptions ?? false
    this.#logIgnored = options.logIgnoredExceptions ?? false
    this.#logger = options.logger ?? console
    this.#itersize = checkItersize(options.scanItersize ?? DEFAULT_ITERSIZE)
    this.#lockFactory = options.lockFactory
  }

  /** The connection this cache runs its commands on. */
  get connection(): Connection {
    return this.#connection
  }

  /** The Redis key for `key` (Django's `make_key`). */
  makeKey(key: string, version: number = this.version): string {
    if (typeof key !== 'string') {
      throw new InvalidArgumentError(`a cache key must be a string, got ${describe(key)}`)
    }
    return this.#keyFunction(key, this.keyPrefix, version)
  }

  /** The Redis glob pattern for a pattern over user keys; the prefix is glob-escaped. */
  makePattern(pattern: string, version: number = this.version): string {
    if (typeof pattern !== 'string') {
      throw new InvalidArgumentError(`a key pattern must be a string, got ${describe(pattern)}`)
    }
    return this.#keyFunction(pattern, globEscape(this.keyPrefix), version)
  }

  // ---------------------------------------------------------------- standard API

  /** The value stored at `key`, or `defaultValue` (`null` unless given) when there is none. */
  async get<T = unknown>(
    key: string,
    defaultValue?: T,
    options?: VersionOption,
  ): Promise<T | null> {
    const fallback = defaultValue === undefined ? null : defaultValue
    try {
      const rkey = this.#key(key, options)
      const reply = await this.#connection.command(['GET', rkey], {
        key: rkey,
        readonly: READ,
        text: this.#text,
      })
      return reply === null ? fallback : (this.#decode(reply, key) as T)
    } catch (error) {
      return this.#fail(error, fallback)
    }
  }

  /**
   * Stores `value` at `key`. With `nx` only when the key is new, with `xx` only when it exists.
   * Resolves `true` when the value was stored. A timeout ≤ 0 deletes the key instead (with `nx`,
   * it resolves whether the key was absent), as django-redis does.
   */
  async set(key: string, value: unknown, options: SetOptions = {}): Promise<boolean> {
    try {
      return await this.#set(key, value, options)
    } catch (error) {
      return this.#fail(error, false)
    }
  }

  /** `set` without the error policy. */
  async #set(key: string, value: unknown, options: SetOptions): Promise<boolean> {
    const { nx = false, xx = false } = options
    if (nx && xx) throw new InvalidArgumentError('set() takes nx or xx, not both')
    const ms = timeoutToMs(options.timeout, this.defaultTimeout)
    const rkey = this.#key(key, options)
    const data = this.#codec.encode(value)
    if (ms !== null && ms <= 0) {
      if (nx) return (await this.#exists(rkey)) === false
      return (await this.#connection.command(['UNLINK', rkey], { key: rkey })) === 1
    }
    const args: RedisArgument[] = ['SET', rkey, data]
    if (ms !== null) args.push('PX', String(ms))
    if (nx) args.push('NX')
    else if (xx) args.push('XX')
    return (await this.#connection.command(args, { key: rkey })) !== null
  }

  /** Stores `value` only when `key` does not exist; resolves whether it was stored. */
  add(
    key: string,
    value: unknown,
    timeout?: number | null,
    options?: VersionOption,
  ): Promise<boolean> {
    return this.set(key, value, { timeout, nx: true, version: options?.version })
  }

  /** Deletes `key`; resolves whether it existed. */
  async delete(key: string, options?: VersionOption): Promise<boolean> {
    try {
      const rkey = this.#key(key, options)
      return (await this.#connection.command(['UNLINK', rkey], { key: rkey })) === 1
    } catch (error) {
      return this.#fail(error, false)
    }
  }

  /** The values of the keys that exist, in one `MGET`. */
  async getMany<T = unknown>(
    keys: Iterable<string>,
    options?: VersionOption,
  ): Promise<Map<string, T>> {
    const found = new Map<string, T>()
    try {
      const list = Array.isArray(keys) ? (keys as string[]) : [...keys]
      if (list.length === 0) return found
      const version = options?.version ?? this.version
      const args: RedisArgument[] = new Array(list.length + 1)
      args[0] = 'MGET'
      for (let i = 0; i < list.length; i++) args[i + 1] = this.makeKey(list[i] as string, version)
      const replies = toArray(
        await this.#connection.command(args, { key: args[1], readonly: READ, text: this.#text }),
      )
      for (let i = 0; i < list.length; i++) {
        const reply = replies[i]
        if (reply !== null && reply !== undefined) {
          const key = list[i] as string
          found.set(key, this.#decode(reply, key) as T)
        }
      }
      return found
    } catch (error) {
      return this.#fail(error, new Map<string, T>())
    }
  }

  /**
   * Stores many values in one round trip: one `MSET` without a timeout, one pipeline of `SET … PX`
   * with one. Every value is encoded first, so a value that cannot be encoded stores nothing.
   * Resolves the keys that failed.
   */
  async setMany(
    entries: Record<string, unknown> | Map<string, unknown>,
    options: TimeoutOption = {},
  ): Promise<string[]> {
    let keys: string[] = []
    try {
      const pairs = entries instanceof Map ? [...entries] : Object.entries(entries ?? {})
      if (pairs.length === 0) return []
      const ms = timeoutToMs(options.timeout, this.defaultTimeout)
      keys = pairs.map(([key]) => key)
      const rkeys = keys.map((key) => this.#key(key, options))
      const values = pairs.map(([, value]) => this.#codec.encode(value))
      if (ms !== null && ms <= 0) {
        await this.#connection.command(['UNLINK', ...rkeys], { key: rkeys[0] })
        return []
      }
      if (ms === null) {
        const args: RedisArgument[] = ['MSET']
        for (let i = 0; i < rkeys.length; i++)
          args.push(rkeys[i] as string, values[i] as RedisArgument)
        await this.#connection.command(args, { key: rkeys[0] })
        return []
      }
      const px = String(ms)
      const replies = await this.#connection.batch(
        rkeys.map((rkey, i) => ['SET', rkey, values[i] as RedisArgument, 'PX', px]),
        { key: rkeys[0] },
      )
      return keys.filter((_, i) => replies[i] instanceof Error)
    } catch (error) {
      // No key is known to be stored.
      return this.#fail(error, keys)
    }
  }

  /** Deletes many keys in one command; resolves how many existed. */
  async deleteMany(keys: Iterable<string>, options?: VersionOption): Promise<number> {
    try {
      const rkeys = [...keys].map((key) => this.#key(key, options))
      if (rkeys.length === 0) return 0
      return toNumber(await this.#connection.command(['UNLINK', ...rkeys], { key: rkeys[0] }))
    } catch (error) {
      return this.#fail(error, 0)
    }
  }

  /**
   * Removes this cache's keys: every version under `keyPrefix` when there is one, else the whole
   * database (`FLUSHDB` on every primary), as django-redis does.
   */
  async clear(): Promise<void> {
    try {
      if (this.keyPrefix === '') {
        await this.#connection.flush()
        return
      }
      await this.#deleteMatching(`${globEscape(this.keyPrefix)}:*`, this.#itersize)
    } catch (error) {
      return this.#fail(error, undefined)
    }
  }

  /** Whether `key` exists. */
  async hasKey(key: string, options?: VersionOption): Promise<boolean> {
    try {
      return await this.#exists(this.#key(key, options))
    } catch (error) {
      return this.#fail(error, false)
    }
  }

  /**
   * Adds `delta` to the integer at `key` atomically and resolves the new value (a `bigint` beyond
   * 2^53). Rejects with `KeyNotFoundError` when the key is missing. A value Redis cannot `INCRBY`
   * (a float, or beyond 64 bits) is read, added to and written back with its TTL kept, as
   * django-redis does; a value that is not a number rejects with `NotANumberError`.
   */
  async incr(
    key: string,
    delta: number | bigint = 1,
    options?: VersionOption,
  ): Promise<OrIgnored<IgnoreErrors, number | bigint>> {
    try {
      if (!(typeof delta === 'bigint' || Number.isSafeInteger(delta))) {
        throw new InvalidArgumentError(`incr() takes an integer delta, got ${describe(delta)}`)
      }
      const rkey = this.#key(key, options)
      let reply: unknown
      try {
        reply = await runScript(this.#connection, INCR_SCRIPT, [rkey], [String(delta)])
      } catch (error) {
        if (!(error instanceof ResponseError)) throw error
        return await this.#incrSlow(key, rkey, delta)
      }
      if (reply === null || reply === undefined)
        throw new KeyNotFoundError(`key '${key}' not found`)
      return this.#decode(reply, key) as number | bigint
    } catch (error) {
      return this.#failOrNull<number | bigint>(error)
    }
  }

  /** Subtracts `delta` from the integer at `key`; see `incr`. */
  decr(
    key: string,
    delta: number | bigint = 1,
    options?: VersionOption,
  ): Promise<OrIgnored<IgnoreErrors, number | bigint>> {
    // Negate numbers only: `-'1'` would coerce a bad delta into a valid one before incr checks it.
    const negated = typeof delta === 'bigint' || typeof delta === 'number' ? -delta : delta
    return this.incr(key, negated, options)
  }

  /**
   * Sets a new timeout on `key` (`undefined` → the default, `null` → never expire); resolves
   * whether the key exists.
   */
  async touch(key: string, timeout?: number | null, options?: VersionOption): Promise<boolean> {
    try {
      const ms = timeoutToMs(timeout, this.defaultTimeout)
      const rkey = this.#key(key, options)
      if (ms === null) {
        const [, exists] = await this.#connection.batch(
          [
            ['PERSIST', rkey],
            ['EXISTS', rkey],
          ],
          { key: rkey },
        )
        if (exists instanceof Error) throw exists
        return exists === 1
      }
      return (await this.#connection.command(['PEXPIRE', rkey, String(ms)], { key: rkey })) === 1
    } catch (error) {
      return this.#fail(error, false)
    }
  }

  /**
   * The value at `key`; when there is none, computes it (calling `valueOrFactory` if it is a
   * function, awaiting it if it is a promise), stores it with `add`, and resolves it — or the value
   * another writer stored first. Concurrent calls for the same key in this process share one
   * call of the factory; a call that joined another's computation waits at most `waitTimeout`
   * seconds for it, then computes the value itself.
   */
  async getOrSet<T>(
    key: string,
    valueOrFactory: T | (() => T | Promise<T>),
    options: GetOrSetOptions = {},
  ): Promise<T> {
    const waitMs = waitTimeoutToMs(options.waitTimeout)
    const found = await this.get<T | typeof MISSING>(key, MISSING, options)
    if (found !== MISSING) return found as T
    // Calls for the same key in this process share one computation (no stampede from one process).
    const rkey = this.#key(key, options)
    const joined = this.#flights.join(rkey, waitMs)
    if (joined !== undefined) {
      // Returned, not awaited: a waiter then holds a reaction and a closure instead of a suspended
      // call (about 380 bytes instead of 570 each, measured with 200,000 waiters).
      return joined.then((outcome) =>
        outcome === TIMED_OUT
          ? // The shared computation outlived our bound (a hung factory?): compute our own value.
            this.#computeAndAdd(key, valueOrFactory, options)
          : (outcome as T),
      )
    }
    const computation = this.#computeAndAdd(key, valueOrFactory, options)
    this.#flights.start(rkey, computation)
    return computation
  }

  async #computeAndAdd<T>(
    key: string,
    valueOrFactory: T | (() => T | Promise<T>),
    options: TimeoutOption,
  ): Promise<T> {
    const value =
      typeof valueOrFactory === 'function'
        ? await (valueOrFactory as () => T | Promise<T>)()
        : await valueOrFactory
    let added: boolean
    try {
      added = await this.#set(key, value, { ...options, nx: true })
    } catch (error) {
      // Under ignoreExceptions the computed value is the answer; no second round trip to fail.
      return this.#fail(error, value)
    }
    if (added) return value
    // Someone else stored a value between our get and add: theirs wins, as in Django.
    return (await this.get<T>(key, value, options)) as T
  }

  /**
   * Moves the value at `key` (and its TTL) to version `version + delta` with one atomic `RENAME`
   * and resolves the new version. Rejects with `KeyNotFoundError` when the key is missing.
   */
  async incrVersion(
    key: string,
    delta = 1,
    options?: VersionOption,
  ): Promise<OrIgnored<IgnoreErrors, number>> {
    try {
      if (!Number.isSafeInteger(delta)) {
        throw new InvalidArgumentError(
          `incrVersion() takes an integer delta, got ${describe(delta)}`,
        )
      }
      const version = options?.version ?? this.version
      const next = checkVersion(version + delta)
      const from = this.makeKey(key, version)
      const to = this.makeKey(key, next)
      try {
        await this.#connection.command(['RENAME', from, to], { key: from })
      } catch (error) {
        if (error instanceof ResponseError && /no such key/i.test(error.message)) {
          throw new KeyNotFoundError(`key '${key}' not found`, { cause: error })
        }
        throw error
      }
      return next
    } catch (error) {
      return this.#failOrNull<number>(error)
    }
  }

  /** Moves the value at `key` to version `version - delta`; see `incrVersion`. */
  decrVersion(
    key: string,
    delta = 1,
    options?: VersionOption,
  ): Promise<OrIgnored<IgnoreErrors, number>> {
    return this.incrVersion(key, typeof delta === 'number' ? -delta : delta, options)
  }

  /** Closes the connection. Later calls reject with `ClosedError`. */
  async close(): Promise<void> {
    await this.#connection.close()
  }

  // ---------------------------------------------------------------- extended API

  /** Seconds until `key` expires: `null` when it never does, `0` when it does not exist. */
  async ttl(key: string): Promise<number | null> {
    return this.#ttl('TTL', key)
  }

  /** Milliseconds until `key` expires: `null` when it never does, `0` when it does not exist. */
  async pttl(key: string): Promise<number | null> {
    return this.#ttl('PTTL', key)
  }

  /** Makes `key` expire in `seconds` (fractions allowed); resolves whether the key exists. */
  async expire(key: string, seconds: number): Promise<boolean> {
    return this.#bool(key, (rkey) => [
      'PEXPIRE',
      rkey,
      String(Math.trunc(checkSeconds(seconds, 'seconds') * 1000)),
    ])
  }

  /** Makes `key` expire in `milliseconds`; resolves whether the key exists. */
  async pexpire(key: string, milliseconds: number): Promise<boolean> {
    return this.#bool(key, (rkey) => ['PEXPIRE', rkey, String(Math.trunc(checkMs(milliseconds)))])
  }

  /** Makes `key` expire at `when` (a `Date` or Unix seconds); resolves whether the key exists. */
  async expireAt(key: string, when: Date | number): Promise<boolean> {
    return this.#bool(key, (rkey) => [
      'PEXPIREAT',
      rkey,
      String(
        when instanceof Date
          ? checkMs(when.getTime())
          : Math.trunc(checkSeconds(when, 'when') * 1000),
      ),
    ])
  }

  /** Makes `key` expire at `when` (a `Date` or Unix milliseconds); resolves whether the key exists. */
  async pexpireAt(key: string, when: Date | number): Promise<boolean> {
    return this.#bool(key, (rkey) => [
      'PEXPIREAT',
      rkey,
      String(Math.trunc(checkMs(when instanceof Date ? when.getTime() : when))),
    ])
  }

  /** Removes the timeout of `key`; resolves whether a timeout was removed. */
  async persist(key: string): Promise<boolean> {
    return this.#bool(key, (rkey) => ['PERSIST', rkey])
  }

  /**
   * A distributed lock on `key` (the key function applies), with redis-py `Lock` semantics.
   * Needs a lock factory: `createCache()` from `@cachex/redis` provides `@cachex/lock`'s.
   */
  lock(key: string, options: LockOptions = {}): CacheLock {
    if (this.#lockFactory === undefined) {
      throw new LockError(
        'cache.lock() needs a lock factory: create the cache with @cachex/redis, or pass lockFactory from @cachex/lock',
      )
    }
    return this.#lockFactory(this.#connection, this.makeKey(key), options)
  }

  /** Every user key matching the glob `pattern`, walked with `SCAN` (never `KEYS`). */
  async keys(pattern = '*'): Promise<string[]> {
    try {
      const keys: string[] = []
      for await (const key of this.#iterKeys(pattern, this.#itersize)) keys.push(key)
      return keys
    } catch (error) {
      return this.#fail(error, [])
    }
  }

  /** Yields the user keys matching the glob `pattern`, one `SCAN` batch at a time. */
  iterKeys(pattern = '*', options: ScanOptions = {}): AsyncIterable<string> {
    const itersize = checkItersize(options.itersize ?? this.#itersize)
    return this.#guardedIterKeys(pattern, itersize)
  }

  /** `#iterKeys` under the error policy: with `ignoreExceptions`, a failure ends the iteration. */
  async *#guardedIterKeys(pattern: string, itersize: number): AsyncGenerator<string> {
    try {
      yield* this.#iterKeys(pattern, itersize)
    } catch (error) {
      this.#fail(error, undefined)
    }
  }

  /** Deletes every user key matching the glob `pattern`; resolves how many were deleted. */
  async deletePattern(pattern: string, options: ScanOptions = {}): Promise<number> {
    try {
      return await this.#deleteMatching(
        this.makePattern(pattern),
        checkItersize(options.itersize ?? this.#itersize),
      )
    } catch (error) {
      return this.#fail(error, 0)
    }
  }

  // ---------------------------------------------------------------- hashes

  /** Sets `field` of the hash at `key`; resolves 1 when the field is new, 0 when it was updated. */
  async hset(key: string, field: string, value: unknown): Promise<number> {
    return this.#run((rkey) => ['HSET', rkey, field, this.#codec.encode(value)], key, toNumber, 0)
  }

  /** Deletes fields of the hash; resolves how many existed. */
  async hdel(key: string, ...fields: string[]): Promise<number> {
    if (fields.length === 0) return 0
    return this.#run((rkey) => ['HDEL', rkey, ...fields], key, toNumber, 0)
  }

  /** Whether the hash has `field`. */
  async hexists(key: string, field: string): Promise<boolean> {
    return this.#run((rkey) => ['HEXISTS', rkey, field], key, isOne, false, READ)
  }

  /** The value of `field`, or `null`. */
  async hget<T = unknown>(key: string, field: string): Promise<T | null> {
    return this.#run(
      (rkey) => ['HGET', rkey, field],
      key,
      (r) => this.#decodeOrNull<T>(r, key, field),
      null,
      READ,
    )
  }

  /** Every field and value of the hash. */
  async hgetall<T = unknown>(key: string): Promise<Record<string, T>> {
    return this.#run(
      (rkey) => ['HGETALL', rkey],
      key,
      (reply) => {
        const result: Record<string, T> = {}
        // Field names come from Redis: `__proto__` must stay a field, not become the prototype.
        for (const [field, value] of toPairs(reply)) {
          const name = toText(field)
          setOwn(result, name, this.#decode(value, key, name))
        }
        return result
      },
      {},
      READ,
    )
  }

  /** Adds an integer to `field`; resolves the new value. */
  async hincrby(key: string, field: string, amount = 1): Promise<OrIgnored<IgnoreErrors, number>> {
    return this.#runOrNull(
      (rkey) => ['HINCRBY', rkey, field, String(checkInteger(amount))],
      key,
      toNumber,
    )
  }

  /** Adds a float to `field`; resolves the new value. */
  async hincrbyfloat(
    key: string,
    field: string,
    amount = 1,
  ): Promise<OrIgnored<IgnoreErrors, number>> {
    return this.#runOrNull(
      (rkey) => ['HINCRBYFLOAT', rkey, field, String(checkNumber(amount))],
      key,
      toScore,
    )
  }

  /** How many fields the hash has. */
  async hlen(key: string): Promise<number> {
    return this.#run((rkey) => ['HLEN', rkey], key, toNumber, 0, READ)
  }

  /** The values of `fields`, `null` where a field is missing. */
  async hmget<T = unknown>(key: string, ...fields: string[]): Promise<Array<T | null>> {
    if (fields.length === 0) return []
    return this.#run(
      (rkey) => ['HMGET', rkey, ...fields],
      key,
      (reply) => toArray(reply).map((r, i) => this.#decodeOrNull<T>(r, key, fields[i])),
      fields.map(() => null),
      READ,
    )
  }

  /** Sets several fields at once; resolves `true`. */
  async hmset(
    key: string,
    mapping: Record<string, unknown> | Map<string, unknown>,
  ): Promise<boolean> {
    const pairs = mapping instanceof Map ? [...mapping] : Object.entries(mapping ?? {})
    if (pairs.length === 0) return true
    return this.#run(
      (rkey) => {
        const args: RedisArgument[] = ['HSET', rkey]
        for (const [field, value] of pairs) args.push(String(field), this.#codec.encode(value))
        return args
      },
      key,
      () => true,
      false,
    )
  }

  /** Sets `field` only when it does not exist; resolves whether it was set. */
  async hsetnx(key: string, field: string, value: unknown): Promise<boolean> {
    return this.#run(
      (rkey) => ['HSETNX', rkey, field, this.#codec.encode(value)],
      key,
      isOne,
      false,
    )
  }

  /** Every value of the hash. */
  async hvals<T = unknown>(key: string): Promise<T[]> {
    return this.#run(
      (rkey) => ['HVALS', rkey],
      key,
      (reply) => this.#decodeAll<T>(reply, key),
      [],
      READ,
    )
  }

  /** Every field name of the hash. */
  async hkeys(key: string): Promise<string[]> {
    return this.#run(
      (rkey) => ['HKEYS', rkey],
      key,
      (reply) => toArray(reply).map(toText),
      [],
      READ,
    )
  }

  // ---------------------------------------------------------------- sorted sets

  /**
   * Adds members with scores. Resolves how many were added (changed, with `ch`), or with `incr`
   * the member's new score (`null` when `nx`/`xx` prevented it).
   */
  async zadd(key: string, members: ZAddMembers, options: ZAddOptions = {}): Promise<number | null> {
    const { nx, xx, gt, lt, ch, incr } = options
    if (nx && xx) throw this.#argument('zadd() takes nx or xx, not both')
    if (gt && lt) throw this.#argument('zadd() takes gt or lt, not both')
    if (nx && (gt || lt)) throw this.#argument('zadd() cannot combine nx with gt or lt')
    return this.#run(
      (rkey) => {
        const args: RedisArgument[] = ['ZADD', rkey]
        if (nx) args.push('NX')
        if (xx) args.push('XX')
        if (gt) args.push('GT')
        if (lt) args.push('LT')
        if (ch) args.push('CH')
        if (incr) args.push('INCR')
        const start = args.length
        for (const [score, member] of scoredMembers(members)) {
          args.push(scoreArgument(score), this.#codec.encode(member))
        }
        if (args.length === start) throw this.#argument('zadd() needs at least one member')
        if (incr && args.length !== start + 2)
          throw this.#argument('zadd() with incr takes one member')
        return args
      },
      key,
      incr ? toScoreOrNull : toNumber,
      incr ? null : 0,
    )
  }

  /** How many members the sorted set has. */
  async zcard(key: string): Promise<number> {
    return this.#run((rkey) => ['ZCARD', rkey], key, toNumber, 0, READ)
  }

  /** How many members have a score between `min` and `max`. */
  async zcount(key: string, min: ScoreBound, max: ScoreBound): Promise<number> {
    return this.#run((rkey) => ['ZCOUNT', rkey, bound(min), bound(max)], key, toNumber, 0, READ)
  }

  /** Adds `amount` to the score of `member`; resolves the new score. */
  async zincrby(
    key: string,
    amount: number,
    member: unknown,
  ): Promise<OrIgnored<IgnoreErrors, number>> {
    return this.#runOrNull(
      (rkey) => ['ZINCRBY', rkey, scoreArgument(amount), this.#codec.encode(member)],
      key,
      toScore,
    )
  }

  /** Members by rank from `start` to `end` (inclusive; negative counts from the end). */
  zrange<T = unknown>(
    key: string,
    start: number,
    end: number,
    options?: ZRangeOptions & { withScores?: false },
  ): Promise<T[]>
  zrange<T = unknown>(
    key: string,
    start: number,
    end: number,
    options: ZRangeOptions & { withScores: true },
  ): Promise<Array<[T, number]>>
  async zrange<T = unknown>(
    key: string,
    start: number,
    end: number,
    options: ZRangeOptions = {},
  ): Promise<T[] | Array<[T, number]>> {
    return this.#run(
      (rkey) => {
        const args: RedisArgument[] = [
          'ZRANGE',
          rkey,
          String(checkInteger(start)),
          String(checkInteger(end)),
        ]
        if (options.desc) args.push('REV')
        if (options.withScores) args.push('WITHSCORES')
        return args
      },
      key,
      (reply) =>
        options.withScores ? this.#withScores<T>(reply, key) : this.#decodeAll<T>(reply, key),
      [],
      READ,
    )
  }

  /** Members with a score between `min` and `max`, lowest first. */
  zrangebyscore<T = unknown>(
    key: string,
    min: ScoreBound,
    max: ScoreBound,
    options?: ZRangeByScoreOptions & { withScores?: false },
  ): Promise<T[]>
  zrangebyscore<T = unknown>(
    key: string,
    min: ScoreBound,
    max: ScoreBound,
    options: ZRangeByScoreOptions & { withScores: true },
  ): Promise<Array<[T, number]>>
  async zrangebyscore<T = unknown>(
    key: string,
    min: ScoreBound,
    max: ScoreBound,
    options: ZRangeByScoreOptions = {},
  ): Promise<T[] | Array<[T, number]>> {
    const { offset, count, withScores } = options
    if ((offset === undefined) !== (count === undefined)) {
      throw this.#argument('zrangebyscore() takes offset and count together')
    }
    return this.#run(
      (rkey) => {
        const args: RedisArgument[] = ['ZRANGEBYSCORE', rkey, bound(min), bound(max)]
        if (withScores) args.push('WITHSCORES')
        if (offset !== undefined) {
          args.push('LIMIT', String(checkInteger(offset)), String(checkInteger(count as number)))
        }
        return args
      },
      key,
      (reply) => (withScores ? this.#withScores<T>(reply, key) : this.#decodeAll<T>(reply, key)),
      [],
      READ,
    )
  }

  /** The rank of `member`, lowest score first, or `null`. */
  async zrank(key: string, member: unknown): Promise<number | null> {
    return this.#run(
      (rkey) => ['ZRANK', rkey, this.#codec.encode(member)],
      key,
      numberOrNull,
      null,
      READ,
    )
  }

  /** The rank of `member`, highest score first, or `null`. */
  async zrevrank(key: string, member: unknown): Promise<number | null> {
    return this.#run(
      (rkey) => ['ZREVRANK', rkey, this.#codec.encode(member)],
      key,
      numberOrNull,
      null,
      READ,
    )
  }

  /** Removes members; resolves how many existed. */
  async zrem(key: string, ...members: unknown[]): Promise<number> {
    if (members.length === 0) return 0
    return this.#run(
      (rkey) => ['ZREM', rkey, ...members.map((m) => this.#codec.encode(m))],
      key,
      toNumber,
      0,
    )
  }

  /** Removes members by rank from `start` to `end`; resolves how many. */
  async zremrangebyrank(key: string, start: number, end: number): Promise<number> {
    return this.#run(
      (rkey) => ['ZREMRANGEBYRANK', rkey, String(checkInteger(start)), String(checkInteger(end))],
      key,
      toNumber,
      0,
    )
  }

  /** The score of `member`, or `null`. */
  async zscore(key: string, member: unknown): Promise<number | null> {
    return this.#run(
      (rkey) => ['ZSCORE', rkey, this.#codec.encode(member)],
      key,
      toScoreOrNull,
      null,
      READ,
    )
  }

  /** The scores of `members`, `null` where one is missing. */
  async zmscore(key: string, ...members: unknown[]): Promise<Array<number | null>> {
    if (members.length === 0) return []
    return this.#run(
      (rkey) => ['ZMSCORE', rkey, ...members.map((m) => this.#codec.encode(m))],
      key,
      (reply) => toArray(reply).map(toScoreOrNull),
      members.map(() => null),
      READ,
    )
  }

  // ---------------------------------------------------------------- lists

  /** The length of the list. */
  async llen(key: string): Promise<number> {
    return this.#run((rkey) => ['LLEN', rkey], key, toNumber, 0, READ)
  }

  /** Prepends values (the last given ends up first); resolves the new length. */
  async lpush(key: string, ...values: unknown[]): Promise<OrIgnored<IgnoreErrors, number>> {
    return this.#push('LPUSH', key, values)
  }

  /** Appends values; resolves the new length. */
  async rpush(key: string, ...values: unknown[]): Promise<OrIgnored<IgnoreErrors, number>> {
    return this.#push('RPUSH', key, values)
  }

  /** Removes and returns the first value (or the first `count` values), or `null`. */
  lpop<T = unknown>(key: string): Promise<T | null>
  lpop<T = unknown>(key: string, count: number): Promise<T[] | null>
  async lpop<T = unknown>(key: string, count?: number): Promise<T | T[] | null> {
    return this.#pop<T>('LPOP', key, count)
  }

  /** Removes and returns the last value (or the last `count` values), or `null`. */
  rpop<T = unknown>(key: string): Promise<T | null>
  rpop<T = unknown>(key: string, count: number): Promise<T[] | null>
  async rpop<T = unknown>(key: string, count?: number): Promise<T | T[] | null> {
    return this.#pop<T>('RPOP', key, count)
  }

  /** The value at `index` (negative counts from the end), or `null`. */
  async lindex<T = unknown>(key: string, index: number): Promise<T | null> {
    return this.#run(
      (rkey) => ['LINDEX', rkey, String(checkInteger(index))],
      key,
      (r) => this.#decodeOrNull<T>(r, key),
      null,
      READ,
    )
  }

  /** Values from `start` to `end` (inclusive; negative counts from the end). */
  async lrange<T = unknown>(key: string, start: number, end: number): Promise<T[]> {
    return this.#run(
      (rkey) => ['LRANGE', rkey, String(checkInteger(start)), String(checkInteger(end))],
      key,
      (reply) => this.#decodeAll<T>(reply, key),
      [],
      READ,
    )
  }

  /** Replaces the value at `index`; rejects with `ResponseError` when out of range. */
  async lset(key: string, index: number, value: unknown): Promise<boolean> {
    return this.#run(
      (rkey) => ['LSET', rkey, String(checkInteger(index)), this.#codec.encode(value)],
      key,
      () => true,
      false,
    )
  }

  /** Keeps only the values from `start` to `end`. */
  async ltrim(key: string, start: number, end: number): Promise<boolean> {
    return this.#run(
      (rkey) => ['LTRIM', rkey, String(checkInteger(start)), String(checkInteger(end))],
      key,
      () => true,
      false,
    )
  }

  /** The index of `element`, or `null`; with `count`, an array of indexes. */
  lpos(
    key: string,
    element: unknown,
    options?: LPosOptions & { count?: undefined },
  ): Promise<number | null>
  lpos(key: string, element: unknown, options: LPosOptions & { count: number }): Promise<number[]>
  async lpos(
    key: string,
    element: unknown,
    options: LPosOptions = {},
  ): Promise<number | null | number[]> {
    return this.#run(
      (rkey) => {
        const args: RedisArgument[] = ['LPOS', rkey, this.#codec.encode(element)]
        if (options.rank !== undefined) args.push('RANK', String(checkInteger(options.rank)))
        if (options.count !== undefined) args.push('COUNT', String(checkInteger(options.count)))
        if (options.maxlen !== undefined) args.push('MAXLEN', String(checkInteger(options.maxlen)))
        return args
      },
      key,
      (reply) => (options.count !== undefined ? toArray(reply).map(toNumber) : numberOrNull(reply)),
      options.count !== undefined ? [] : null,
      READ,
    )
  }

  /**
   * Pops a value from one end of `source` and pushes it onto one end of `destination`, atomically;
   * resolves the value, or `null` when `source` is empty.
   */
  async lmove<T = unknown>(
    source: string,
    destination: string,
    sourceSide: ListSide = 'LEFT',
    destinationSide: ListSide = 'RIGHT',
  ): Promise<T | null> {
    return this.#run(
      (rkey) => ['LMOVE', rkey, this.makeKey(destination), side(sourceSide), side(destinationSide)],
      source,
      (r) => this.#decodeOrNull<T>(r, source),
      null,
    )
  }

  // ---------------------------------------------------------------- internals

  #key(key: string, options: VersionOption | undefined): string {
    return this.makeKey(key, options?.version === undefined ? this.version : options.version)
  }

  #argument(message: string): InvalidArgumentError {
    return new InvalidArgumentError(message)
  }

  /**
   * Builds one command for `key`, runs it, and converts the reply; errors go through the policy,
   * which resolves `fallback` for an error `ignoreExceptions` ignores.
   */
  async #run<T>(
    build: (rkey: string) => RedisArgument[],
    key: string,
    convert: (reply: unknown) => T,
    fallback: NoInfer<T>,
    readonly = false,
  ): Promise<T> {
    try {
      const rkey = this.makeKey(key)
      const reply = await this.#connection.command(build(rkey), {
        key: rkey,
        readonly,
        text: this.#text,
      })
      return convert(reply)
    } catch (error) {
      return this.#fail(error, fallback)
    }
  }

  /** `#run` for a method with no neutral fallback: an ignored error resolves `null`. */
  #runOrNull<T>(
    build: (rkey: string) => RedisArgument[],
    key: string,
    convert: (reply: unknown) => T,
  ): Promise<OrIgnored<IgnoreErrors, T>> {
    return this.#run<T | null>(build, key, convert, null) as Promise<OrIgnored<IgnoreErrors, T>>
  }

  async #bool(key: string, build: (rkey: string) => RedisArgument[]): Promise<boolean> {
    return this.#run(build, key, isOne, false)
  }

  async #ttl(command: 'TTL' | 'PTTL', key: string): Promise<number | null> {
    return this.#run(
      (rkey) => [command, rkey],
      key,
      (reply) => {
        const t = toNumber(reply)
        return t === -1 ? null : t === -2 ? 0 : t
      },
      0,
      READ,
    )
  }

  async #exists(rkey: string): Promise<boolean> {
    return (await this.#connection.command(['EXISTS', rkey], { key: rkey, readonly: READ })) === 1
  }

  async #push(
    command: 'LPUSH' | 'RPUSH',
    key: string,
    values: unknown[],
  ): Promise<OrIgnored<IgnoreErrors, number>> {
    if (values.length === 0)
      throw this.#argument(`${command.toLowerCase()}() needs at least one value`)
    return this.#runOrNull(
      (rkey) => [command, rkey, ...values.map((v) => this.#codec.encode(v))],
      key,
      toNumber,
    )
  }

  async #pop<T>(command: 'LPOP' | 'RPOP', key: string, count?: number): Promise<T | T[] | null> {
    return this.#run(
      (rkey) =>
        count === undefined ? [command, rkey] : [command, rkey, String(checkInteger(count))],
      key,
      (reply) =>
        count === undefined
          ? this.#decodeOrNull<T>(reply, key)
          : reply === null
            ? null
            : this.#decodeAll<T>(reply, key),
      null,
    )
  }

  /**
   * Decodes a value read at the user's `key` (and hash `field`). The codec knows no key: a value
   * it cannot read is reported with the key here, the one place every read goes through.
   */
  #decode(reply: unknown, key: string, field?: string): unknown {
    try {
      return this.#codec.decode(toData(reply))
    } catch (error) {
      throw withKeyContext(error, key, field)
    }
  }

  #decodeOrNull<T>(reply: unknown, key: string, field?: string): T | null {
    return reply === null || reply === undefined ? null : (this.#decode(reply, key, field) as T)
  }

  #decodeAll<T>(reply: unknown, key: string): T[] {
    return toArray(reply).map((r) => this.#decode(r, key) as T)
  }

  #withScores<T>(reply: unknown, key: string): Array<[T, number]> {
    return toPairs(reply).map(([member, score]) => [this.#decode(member, key) as T, toScore(score)])
  }

  async *#iterKeys(pattern: string, itersize: number): AsyncGenerator<string> {
    const redisPattern = this.makePattern(pattern)
    for await (const batch of this.#connection.scan(redisPattern, itersize)) {
      for (const rkey of batch) yield this.#reverseKeyFunction(rkey, this.keyPrefix, this.version)
    }
  }

  /** Deletes every Redis key matching `redisPattern`, one `UNLINK` per `SCAN` batch. */
  async #deleteMatching(redisPattern: string, itersize: number): Promise<number> {
    const pending: Array<Promise<unknown>> = []
    for await (const batch of this.#connection.scan(redisPattern, itersize)) {
      if (batch.length > 0) {
        const unlink = this.#connection.command(['UNLINK', ...batch], { key: batch[0] })
        // If a later SCAN fails, nobody awaits these: mark them handled (Promise.all still sees errors).
        unlink.catch(() => {})
        pending.push(unlink)
      }
    }
    let deleted = 0
    for (const count of await Promise.all(pending)) deleted += toNumber(count)
    return deleted
  }

  /** django-redis's fallback when `INCRBY` refuses the value: read, add, write back with the TTL kept. */
  async #incrSlow(key: string, rkey: string, delta: number | bigint): Promise<number | bigint> {
    const reply = await this.#connection.command(['GET', rkey], { key: rkey })
    if (reply === null) throw new KeyNotFoundError(`key '${key}' not found`)
    const current = this.#decode(reply, key)
    const next = addNumbers(current, delta, key)
    await this.#connection.command(['SET', rkey, this.#codec.encode(next), 'KEEPTTL'], {
      key: rkey,
    })
    return next as number | bigint
  }

  /**
   * Logs an ignored error, once per error kind (`code`) per minute: an outage fails every call,
   * and one line per call would flood the log.
   */
  #logOnce(error: CachexError): void {
    const now = Date.now()
    const last = this.#loggedAt.get(error.code)
    if (last !== undefined && now - last < LOG_EVERY_MS) return
    this.#loggedAt.set(error.code, now)
    this.#logger.error(
      `cachex: ignored ${error.name} (${error.code}): ${error.message} — further ${error.code} errors are not logged for ${LOG_EVERY_MS / 1000} s`,
    )
  }

  /**
   * The policy for a method with no neutral fallback: an ignored error resolves `null`. Only a
   * cache created with `ignoreExceptions` ignores errors, and its `IgnoreErrors` is `true` (or
   * `boolean`), whose `OrIgnored` includes `null`: the one place the type is asserted.
   */
  #failOrNull<T>(error: unknown): OrIgnored<IgnoreErrors, T> {
    return this.#fail(error, null) as OrIgnored<IgnoreErrors, T>
  }

  /** The error policy: ignorable errors become `fallback` under `ignoreExceptions`; others surface typed. */
  #fail<F>(error: unknown, fallback: F): F {
    const typed = toCachexError(error)
    if (this.#ignoreExceptions && isIgnorable(typed)) {
      if (this.#logIgnored) this.#logOnce(typed)
      return fallback
    }
    throw typed
  }
}

/** Any error as a `CachexError`: a foreign one (from a custom connection) becomes a `ConnectionError`. */
function toCachexError(error: unknown): CachexError {
  if (error instanceof CachexError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new ConnectionError(message, { cause: error })
}

/**
 * A decoding error with the user's key (not the Redis key) at the front of its message: the same
 * class, the same `cause`. Other errors pass through.
 */
function withKeyContext(error: unknown, key: string, field: string | undefined): unknown {
  const where = field === undefined ? `key '${key}'` : `key '${key}' field '${field}'`
  if (error instanceof SerializationError) {
    return new SerializationError(`cannot read ${where}: ${error.message}`, { cause: error.cause })
  }
  if (error instanceof CompressionError) {
    return new CompressionError(`cannot read ${where}: ${error.message}`, { cause: error.cause })
  }
  return error
}

function toList<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined || value === null) return []
  return Array.isArray(value) ? (value as readonly T[]) : [value as T]
}

function isOne(reply: unknown): boolean {
  return reply === 1
}

function numberOrNull(reply: unknown): number | null {
  return reply === null || reply === undefined ? null : toNumber(reply)
}

function checkVersion(version: unknown): number {
  if (!Number.isSafeInteger(version)) {
    throw new InvalidArgumentError(`version must be an integer, got ${describe(version)}`)
  }
  return version as number
}

function checkItersize(itersize: unknown): number {
  if (!Number.isSafeInteger(itersize) || (itersize as number) < 1) {
    throw new InvalidArgumentError(`itersize must be a positive integer, got ${describe(itersize)}`)
  }
  return itersize as number
}

function checkInteger(value: unknown): number {
  if (!Number.isSafeInteger(value)) {
    throw new InvalidArgumentError(`expected an integer, got ${describe(value)}`)
  }
  return value as number
}

function checkNumber(value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new InvalidArgumentError(`expected a number, got ${describe(value)}`)
  }
  return value
}

function checkMs(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidArgumentError(
      `expected milliseconds as a finite number, got ${describe(value)}`,
    )
  }
  return value
}

function waitTimeoutToMs(waitTimeout: number | null | undefined): number | null {
  if (waitTimeout === null) return null
  const seconds = checkSeconds(waitTimeout ?? DEFAULT_WAIT_TIMEOUT, 'waitTimeout')
  if (seconds < 0) throw new InvalidArgumentError('waitTimeout must not be negative')
  return seconds * 1000
}

function nullableSeconds(value: number | null, what: string): number | null {
  return value === null ? null : checkSeconds(value, what)
}

function scoreArgument(score: unknown): string {
  const n = checkNumber(score)
  return n === Number.POSITIVE_INFINITY
    ? '+inf'
    : n === Number.NEGATIVE_INFINITY
      ? '-inf'
      : String(n)
}

function bound(value: ScoreBound): string {
  if (typeof value === 'string') return value
  return scoreArgument(value)
}

function side(value: ListSide): ListSide {
  if (value !== 'LEFT' && value !== 'RIGHT') {
    throw new InvalidArgumentError(`a list side is 'LEFT' or 'RIGHT', got ${describe(value)}`)
  }
  return value
}

function* scoredMembers(members: ZAddMembers): Iterable<readonly [number, unknown]> {
  if (Array.isArray(members)) {
    yield* members as ReadonlyArray<readonly [number, unknown]>
  } else if (members instanceof Map) {
    for (const [member, score] of members) yield [score, member]
  } else {
    for (const [member, score] of Object.entries(members ?? {})) yield [score, member]
  }
}

function addNumbers(current: unknown, delta: number | bigint, key: string): number | bigint {
  if (typeof current === 'bigint') return current + BigInt(delta)
  if (typeof current === 'number') {
    if (Number.isInteger(current) && typeof delta === 'bigint') {
      const sum = BigInt(current) + delta
      return sum >= BigInt(Number.MIN_SAFE_INTEGER) && sum <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(sum)
        : sum
    }
    const sum = current + Number(delta)
    if (Number.isInteger(current) && !Number.isSafeInteger(sum))
      return BigInt(current) + BigInt(delta)
    return sum
  }
  throw new NotANumberError(`the value at key '${key}' is not a number`)
}
