// What every command family of a `Cache` is written against: the cache's keys, codec, connection,
// value store and error policy, in one object. A family file (commands/*.ts) takes it with
// `contextOf(this)` and never sees the class; `attachCommands` puts the family on `Cache`.
// Beside it: the command a method runs (_command-spec.ts), the error policy (_error-policy.ts),
// the options read into settings (_context-options.ts), and the families' plumbing
// (_command-families.ts).
import { setMaxListeners } from 'node:events'
import {
  checkBoolean,
  checkCoalesce,
  checkConnection,
  checkLogger,
  checkOptions,
  checkVersion,
  checkVersionOption,
  VERSION_ONLY,
} from './_args.ts'
import { type MemberRead, memberReads, type SendMemberRead } from './_coalesce-members.ts'
import type { CommandSpec, CommandWithFallback } from './_command-spec.ts'
import { codecOf, defaultTimeoutOf, itersizeOf, withSignal } from './_context-options.ts'
import { ErrorPolicy } from './_error-policy.ts'
import { CacheEvents } from './_events.ts'
import { Gathering, orderedConnection } from './_gathering.ts'
import { encodeAt, withKeyContext } from './_key-errors.ts'
import { KeyMaker } from './_keys.ts'
import { isWrongType, withKeyAccessHint, wrongTypeError } from './_messages.ts'
import { own } from './_own.ts'
import { toArray, toData, toPairs, toScore, toText } from './_replies.ts'
import { SingleFlight } from './_single-flight.ts'
import { timeoutToMs } from './_timeout.ts'
import type { SetCondition, ValueStore } from './_value-store.ts'
import type { CacheOptions, VersionOption } from './cache-options.ts'
import type { Codec, DecodeBudget } from './codec.ts'
import { ClosedError, InvalidArgumentError, type ResponseError } from './errors.ts'
import { checkedKeyFunction, defaultReverseKeyFunction } from './key-function.ts'
import type { LockFactory } from './lock-types.ts'
import type { SemaphoreFactory } from './semaphore-types.ts'
import type { Connection, Logger, RedisArgument, ReverseKeyFunction } from './types.ts'

// Where the command families import them from.
export { attachCommands, type Implementation } from './_command-families.ts'
export type { Access, CommandSpec, CommandWithFallback } from './_command-spec.ts'

/**
 * The state a `Cache` is made of, and the helpers its methods share: keys, the error policy
 * (`run`, `fail`, `failOrNull`), decoding with the user's key in errors. One per cache.
 */
export class CacheContext {
  /** The key prefix (`KEY_PREFIX`). */
  readonly keyPrefix: string
  /** The default key version (`VERSION`). */
  readonly version: number
  /** Builds the cache's Redis keys and key patterns (`makeKey` and its kin hand on to it). */
  readonly keyMaker: KeyMaker
  /** The default timeout in seconds; `null` never expires. */
  readonly defaultTimeout: number | null
  /**
   * The cache's connection, each of its commands sent after the calls gathered in this tick
   * (`orderedConnection`): what every command of the cache goes through, and what
   * `cache.connection`, the lock and the semaphore hand out.
   */
  readonly connection: Connection
  /**
   * The connection as handed in, its commands sent at once: for the coalescers' own sends. They
   * are ordered among themselves by `gathering` (only the coalescer gathering now holds calls),
   * and a command a batch sends later (a nil checked, a key read alone) must not first send the
   * calls gathered after that batch.
   */
  readonly unordered: Connection
  /** The coalescers of this cache (the store's and the member reads'), and their order. */
  readonly gathering = new Gathering()
  /** Whether reads are coalesced (`coalesceReads`): `get`, `hasKey`, `hget`, `sismember`, `zscore`. */
  readonly coalesce: boolean
  /**
   * For `CommandSpec.send`: the `HGET`s, `SISMEMBER`s and `ZSCORE`s of one tick on one key as
   * one `HMGET`, `SMISMEMBER`, `ZMSCORE`; `undefined` without `coalesce`.
   */
  readonly coalesced: Readonly<Record<MemberRead, SendMemberRead>> | undefined
  readonly codec: Codec
  /** Whether replies come as UTF-8 text (the codec reads text: JSON without compression). */
  readonly text: boolean
  readonly reverseKeyFunction: ReverseKeyFunction
  /** Whether keys are Django's `<prefix>:<version>:<key>` (no `keyFunction` of the user's). */
  readonly defaultKeys: boolean
  /** Keys per `SCAN` unless a call says otherwise. */
  readonly itersize: number
  /** The cache's `lockFactory`, handing each lock the cache's close signal (see `closeWaits`). */
  readonly lockFactory: LockFactory | undefined
  /** The cache's `semaphoreFactory`, handing each semaphore the cache's close signal. */
  readonly semaphoreFactory: SemaphoreFactory | undefined
  /**
   * Aborted by `closeWaits()` when the cache closes. Passed to the locks and semaphores the cache
   * makes as their `signal` option, so that one waiting between tries of `acquire()` rejects with
   * `ClosedError` at once, rather than at its next try (up to `sleep` seconds later) with its
   * timer holding the process open meanwhile.
   */
  readonly #closed = new AbortController()
  /** getOrSet computations in flight, by Redis key. */
  readonly flights = new SingleFlight()
  /**
   * Where string values are read and written. `Cache` sets it once, right after building the
   * context: the store is built over the context.
   */
  store!: ValueStore

  /** What the cache does with an error (`fail`). */
  readonly #policy: ErrorPolicy
  /** Where errors the cache does not throw (ignored ones, failed background refreshes) are logged. */
  readonly logger: Logger
  /** The listeners of `cache.on()`. */
  readonly events: CacheEvents
  /**
   * While a `set` with `set` listeners hands its value to the store (synchronously): the sizes of
   * the values encoded, in bytes, in order (see `encode`). `undefined` otherwise.
   */
  encoded: number[] | undefined
  /**
   * While a pipeline queues a call (synchronously, see `_pipeline.ts`): where `run` hands its
   * command instead of sending it. `undefined` otherwise.
   */
  recorder:
    | (<T>(
        key: string,
        options: VersionOption | undefined,
        command: CommandWithFallback<T>,
      ) => Promise<T>)
    | undefined
  /**
   * While a pipeline's replies are converted (synchronously, see `_pipeline.ts`): the one
   * decompression budget of all its calls, which `decode` and `budget` then use. `undefined`
   * otherwise.
   */
  sharedBudget: DecodeBudget | undefined

  /**
   * Checks `options` in the order `new Cache()` always has. `new Cache()` hands them copied
   * (`ownOptions`): what they inherit is not read.
   */
  constructor(options: CacheOptions) {
    if (options?.connection === undefined) {
      throw new InvalidArgumentError('a Cache needs a connection')
    }
    checkConnection(options.connection)
    this.unordered = options.connection
    this.connection = orderedConnection(options.connection, this.gathering.flush)
    this.version = checkVersion(options.version ?? 1)
    this.defaultTimeout = defaultTimeoutOf(options.timeout)
    this.keyMaker = new KeyMaker(options.keyPrefix ?? '', this.version, options.keyFunction)
    this.keyPrefix = this.keyMaker.prefix
    this.defaultKeys = this.keyMaker.defaultKeys
    this.reverseKeyFunction =
      options.reverseKeyFunction === undefined
        ? defaultReverseKeyFunction
        : checkedKeyFunction<ReverseKeyFunction>(options.reverseKeyFunction, 'reverseKeyFunction')
    this.codec = codecOf(options)
    this.text = this.codec.readsText
    const ignoreExceptions = checkBoolean(options.ignoreExceptions, 'ignoreExceptions', false)
    const logIgnored = checkBoolean(options.logIgnoredExceptions, 'logIgnoredExceptions', false)
    checkLogger(options.logger)
    this.logger = options.logger ?? console
    this.events = new CacheEvents(this.logger)
    this.#policy = new ErrorPolicy(ignoreExceptions, logIgnored, this.logger, this.events)
    this.itersize = itersizeOf(options.scanItersize)
    // Each waiting acquire() listens to the signal while it sleeps: any number may wait at once.
    setMaxListeners(0, this.#closed.signal)
    this.lockFactory = withSignal(options.lockFactory, this.#closed.signal, 'lockFactory')
    this.semaphoreFactory = withSignal(
      options.semaphoreFactory,
      this.#closed.signal,
      'semaphoreFactory',
    )
    this.coalesce = checkCoalesce(options.coalesceReads)
    this.coalesced = this.coalesce
      ? memberReads(this.gathering, this.unordered, this.text)
      : undefined
  }

  /**
   * The cache closed: the locks and semaphores it made stop waiting between tries of `acquire()`
   * (it rejects with `ClosedError`), and later ones refuse to start.
   */
  closeWaits(): void {
    this.#closed.abort(new ClosedError('the cache is closed'))
  }

  /** The Redis key for `key` (Django's `make_key`): `KeyMaker.makeKey`. */
  makeKey(key: string, version: number): string {
    return this.keyMaker.makeKey(key, version)
  }

  /** The Redis keys of `keys` at `version`: `KeyMaker.makeKeys`. */
  makeKeys(keys: readonly string[], version: number): string[] {
    return this.keyMaker.makeKeys(keys, version)
  }

  /** `makeKey(key, this.version)`, remembered for the local tier's hit path: `KeyMaker.hotKey`. */
  hotKey(key: string): string {
    return this.keyMaker.hotKey(key)
  }

  /** The Redis glob pattern for a pattern over user keys: `KeyMaker.makePattern`. */
  makePattern(pattern: string, version: number): string {
    return this.keyMaker.makePattern(pattern, version)
  }

  /**
   * The Redis key of `key` at the version `options` select. With `method`, the options are
   * checked first (the method takes `{ version }` only).
   */
  key(key: string, options: VersionOption | undefined, method?: string): string {
    if (options === undefined) return this.keyMaker.makeKey(key, this.version)
    if (method !== undefined) checkOptions(options, method, VERSION_ONLY)
    return this.keyMaker.makeKey(key, checkVersionOption(own(options, 'version')) ?? this.version)
  }

  /**
   * Builds one command for `key`, runs it, and converts the reply; errors go through the policy,
   * which resolves `command.fallback` for an error `ignoreExceptions` ignores. `options` selects
   * the key version.
   */
  async run<T>(
    key: string,
    options: VersionOption | undefined,
    command: CommandWithFallback<T>,
  ): Promise<T> {
    if (this.recorder !== undefined) return this.recorder(key, options, command)
    let rkey: string | undefined
    let args: RedisArgument[] | undefined
    try {
      rkey = this.key(key, options, command.method)
      args = command.build(rkey)
      if (command.send !== undefined) return command.convert(await command.send(args))
      const sent = args
      const route = {
        key: rkey,
        readonly: command.access === 'read',
        text: this.text && command.bytes !== true,
        blockMs: command.blockMs,
        digits: command.digits,
      }
      const reply =
        command.access === 'read'
          ? await this.connection.command(sent, route)
          : // A write may replace a string value a local tier holds (`SUNIONSTORE` into it).
            await this.store.writing(
              command.alsoWrites === undefined ? [rkey] : [rkey, ...command.alsoWrites],
              () => this.connection.command(sent, route),
            )
      return command.convert(reply)
    } catch (error) {
      if (command.answers?.(error) === true) return command.fallback
      const name = command.label ?? String(args?.[0] ?? '').toLowerCase()
      const operation = command.method ?? name
      if (isWrongType(error) && rkey !== undefined) {
        return this.fail(await this.wrongType(error, name, key, rkey), command.fallback, operation)
      }
      return this.fail(error, command.fallback, operation)
    }
  }

  /** `run` for a method with no neutral fallback: an ignored error resolves `null`. */
  runOrNull<T>(
    key: string,
    options: VersionOption | undefined,
    command: CommandSpec<T>,
  ): Promise<T | null> {
    return this.run<T | null>(key, options, { ...command, fallback: null })
  }

  /**
   * Stores a value under `set`'s rules (for `set`, `add` and `getOrSet`): the timeout in
   * milliseconds, the Redis key, then the store, which encodes the value.
   */
  storeValue(
    key: string,
    value: unknown,
    timeout: number | null | undefined,
    options: VersionOption | undefined,
    condition: SetCondition | undefined,
  ): Promise<boolean> {
    const ms = timeoutToMs(timeout, this.defaultTimeout)
    return this.store.set(this.key(key, options), value, ms, condition)
  }

  /** A `WRONGTYPE` reply at `rkey` as `wrongTypeError` words it, asking `TYPE` of `rkey`. */
  async wrongType(
    error: ResponseError,
    method: string,
    key: string,
    rkey: string,
  ): Promise<ResponseError> {
    return wrongTypeError(error, method, key, async () =>
      toText(await this.connection.command(['TYPE', rkey], { key: rkey, readonly: true })),
    )
  }

  /**
   * The decompression budget of one call that decodes many values (`codec.budget()`: they may
   * decompress to 4 × `maxValueSize` in all), to hand to each of its `decode`s; in a pipeline,
   * the pipeline's. `undefined` when nothing is to be bounded. A call that decodes one value
   * needs none (and a hot `get` allocates none).
   */
  budget(): DecodeBudget | undefined {
    return this.sharedBudget ?? this.codec.budget()
  }

  /**
   * Decodes a value read at the user's `key` (and hash `field`). The codec knows no key: a value
   * it cannot read is reported with the key here, the one place every read goes through.
   * `budget`: that of the call, when it decodes many values (`budget()`).
   */
  decode(reply: unknown, key: string, field?: string, budget?: DecodeBudget): unknown {
    try {
      return this.codec.decode(toData(reply), budget ?? this.sharedBudget)
    } catch (error) {
      throw withKeyContext(error, key, field)
    }
  }

  /** `decode`, or `null` for a nil reply. */
  decodeOrNull<T>(reply: unknown, key: string, field?: string, budget?: DecodeBudget): T | null {
    return reply === null || reply === undefined
      ? null
      : (this.decode(reply, key, field, budget) as T)
  }

  /** Every value of an array reply, decoded under one budget. */
  decodeAll<T>(reply: unknown, key: string): T[] {
    const budget = this.budget()
    return toArray(reply).map((r) => this.decode(r, key, undefined, budget) as T)
  }

  /** A `WITHSCORES` reply as `[member, score]` pairs, the members decoded under one budget. */
  withScores<T>(reply: unknown, key: string): Array<[T, number]> {
    const budget = this.budget()
    return toPairs(reply).map(([member, score]) => [
      this.decode(member, key, undefined, budget) as T,
      toScore(score),
    ])
  }

  /**
   * The error policy (`ErrorPolicy.fail`): ignorable errors become `fallback` under
   * `ignoreExceptions`; others surface typed. `operation`: the method's name, for the `error` event.
   */
  fail<F>(error: unknown, fallback: F, operation: string): F {
    const hinted = withKeyAccessHint(error, this.keyPrefix, this.defaultKeys)
    return this.#policy.fail(hinted, fallback, operation)
  }

  /**
   * The policy for a method with no neutral fallback: an ignored error resolves `null`. Only a
   * cache created with `ignoreExceptions` ignores errors, and its `IgnoreErrors` is `true` (or
   * `boolean`), whose `OrIgnored` includes `null`.
   */
  failOrNull<T>(error: unknown, operation: string): T | null {
    return this.fail(error, null, operation)
  }

  /**
   * `codec.encode`, noting the size when a `set` listener wants it (`encoded`). The value
   * store encodes through this. A value it cannot encode is reported with the user's `key` (and
   * hash `field`), as `decode` does (`storeError`); without `key` (a store, which has Redis keys
   * only), as the codec threw it, and the caller, which has the user's key, names it.
   */
  encode(value: unknown, key?: string, field?: string): RedisArgument {
    const data =
      key === undefined ? this.codec.encode(value) : encodeAt(this.codec, value, key, field)
    if (this.encoded !== undefined) {
      this.encoded.push(typeof data === 'string' ? Buffer.byteLength(data) : data.length)
    }
    return data
  }
}

/**
 * Where a `Cache` keeps its context: a registered symbol, the same in every copy of this package
 * a process loads (a bundler's and Node's, ESM's and CommonJS's), so that a tool of one copy (the
 * admin UI's `cacheInternals`) reads a cache made by another. The number is that of what such a
 * tool reads of a context: raised when it changes, so that copies that disagree do not mix.
 */
const CONTEXT: unique symbol = Symbol.for('@cachex/core:context:1')

interface Carrier {
  [CONTEXT]: CacheContext
}

/** Gives `cache` its context, out of sight (not enumerable, not in the public type). */
export function bindContext(cache: object, context: CacheContext): void {
  Object.defineProperty(cache, CONTEXT, { __proto__: null, value: context } as PropertyDescriptor)
}

/** The context of a `Cache`, from a family method's `this`. */
export function contextOf(cache: object): CacheContext {
  return (cache as Carrier)[CONTEXT]
}
