// What every command family of a `Cache` is written against: the cache's keys, codec, connection,
// value store and error policy, in one object. A family file (commands/*.ts) takes it with
// `contextOf(this)` and never sees the class; `attachCommands` puts the family on `Cache`.
import { setMaxListeners } from 'node:events'
import {
  checkBoolean,
  checkCoalesce,
  checkConnection,
  checkItersize,
  checkLogger,
  checkOptions,
  checkVersion,
  checkVersionOption,
  VERSION_ONLY,
} from './_args.ts'
import { type MemberRead, memberReads, type SendMemberRead } from './_coalesce-members.ts'
import { CacheEvents } from './_events.ts'
import { Gathering, orderedConnection } from './_gathering.ts'
import { encodeAt, withKeyContext } from './_key-errors.ts'
import { KeyMaker } from './_keys.ts'
import { isWrongType, wrongTypeError } from './_messages.ts'
import { toArray, toData, toPairs, toScore, toText } from './_replies.ts'
import { SingleFlight } from './_single-flight.ts'
import { checkSeconds, timeoutToMs } from './_timeout.ts'
import type { SetCondition, ValueStore } from './_value-store.ts'
import type { CacheOptions, VersionOption } from './cache-options.ts'
import { Codec, type DecodeBudget } from './codec.ts'
import {
  CachexError,
  ClosedError,
  ConnectionError,
  InvalidArgumentError,
  isIgnorable,
  type ResponseError,
} from './errors.ts'
import { jsonSerializer } from './json.ts'
import { checkedKeyFunction, defaultReverseKeyFunction } from './key-function.ts'
import type { LockFactory } from './lock-types.ts'
import type { SemaphoreFactory } from './semaphore-types.ts'
import type { Connection, Logger, RedisArgument, ReverseKeyFunction } from './types.ts'

const DEFAULT_TIMEOUT = 300
const DEFAULT_ITERSIZE = 1000
const LOG_EVERY_MS = 60_000

/**
 * Whether a command only reads (`'read'`: a topology with replicas may send it to one) or writes
 * (`'write'`: always the primary).
 */
export type Access = 'read' | 'write'

/** One Redis command of a family method, for `CacheContext.run`. */
export interface CommandSpec<T> {
  /**
   * The method's name. When given, the call's options are checked to be `{ version }` only; a
   * method with more options checks them itself and leaves this out.
   */
  method?: string
  /** Whether the command only reads. */
  access: Access
  /** The command's arguments, for the Redis key of the user's key. */
  build(rkey: string): RedisArgument[]
  /**
   * Other Redis keys the command writes (a move's destination), read after `build`: named to
   * the value store with the first (the local tier drops them; a pattern delete under way
   * deletes them first).
   */
  readonly alsoWrites?: readonly string[] | undefined
  /** The method's result from the raw reply. */
  convert(reply: unknown): T
  /**
   * Sends `build`'s arguments through a coalescer (`hget`, `sismember`, `zscore`: see
   * `CacheContext.coalesced`) instead of at once; resolves the raw reply. A pipeline records
   * them as it does without.
   */
  send?: (args: RedisArgument[]) => Promise<unknown>
  /**
   * `true`: the reply as bytes even where the cache reads text, so that names in it (hash and
   * stream field names) can be told valid UTF-8 or not: as text, each invalid byte is U+FFFD
   * already. With `send` as well, `send` decides how the call reads its reply, and `bytes` holds
   * in a pipeline (which then reads all its replies as bytes).
   */
  bytes?: boolean
  /**
   * `true`: integer replies as their decimal digits (`CommandRoute.digits`), for a result that
   * may lie beyond ±(2^53 - 1), where node-redis would round it (`hincrby`). `convert` then gets
   * a string of digits, or a number from a connection that ignores the flag. In a pipeline, the
   * other commands' integer replies are read back as numbers (and every reply as bytes).
   */
  digits?: boolean
  /**
   * Milliseconds a blocking command waits on the server (`XREAD BLOCK`, `BLPOP`…): passed on as
   * `CommandRoute.blockMs`, which adds it to the call's bound and runs the command where it holds
   * up no other call.
   */
  blockMs?: number
  /**
   * The method's name in a `WRONGTYPE` error, where it is not the command's
   * (`xgroupCreate()` for `XGROUP CREATE`). @default the command's name, in lower case
   */
  label?: string
}

/** A `CommandSpec` and what an error `ignoreExceptions` ignores resolves. */
export interface CommandWithFallback<T> extends CommandSpec<T> {
  /** The neutral value of the method's type (`0`, `[]`, `null`…). */
  fallback: NoInfer<T>
  /**
   * Whether an error is the method's answer rather than a failure (`XINFO STREAM` of a missing
   * key): the call then resolves `fallback`, with no error event, count or log.
   */
  answers?: (error: unknown) => boolean
}

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

  readonly #ignoreExceptions: boolean
  readonly #logIgnored: boolean
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
  /** When each kind of ignored error was last logged. */
  readonly #loggedAt = new Map<string, number>()

  /** Checks `options` in the order `new Cache()` always has. */
  constructor(options: CacheOptions) {
    if (options?.connection === undefined) {
      throw new InvalidArgumentError('a Cache needs a connection')
    }
    checkConnection(options.connection)
    this.unordered = options.connection
    this.connection = orderedConnection(options.connection, this.gathering.flush)
    this.version = checkVersion(options.version ?? 1)
    this.defaultTimeout =
      options.timeout === undefined
        ? DEFAULT_TIMEOUT
        : options.timeout === null
          ? null
          : checkSeconds(options.timeout, 'timeout')
    this.keyMaker = new KeyMaker(options.keyPrefix ?? '', this.version, options.keyFunction)
    this.keyPrefix = this.keyMaker.prefix
    this.defaultKeys = this.keyMaker.defaultKeys
    this.reverseKeyFunction =
      options.reverseKeyFunction === undefined
        ? defaultReverseKeyFunction
        : checkedKeyFunction<ReverseKeyFunction>(options.reverseKeyFunction, 'reverseKeyFunction')
    const serializers = toList(options.serializer)
    const compressors = toList(options.compressor ?? undefined)
    this.codec = new Codec(serializers.length > 0 ? serializers : [jsonSerializer()], compressors, {
      maxValueSize: options.maxValueSize,
    })
    this.text = this.codec.readsText
    this.#ignoreExceptions = checkBoolean(options.ignoreExceptions, 'ignoreExceptions', false)
    this.#logIgnored = checkBoolean(options.logIgnoredExceptions, 'logIgnoredExceptions', false)
    checkLogger(options.logger)
    this.logger = options.logger ?? console
    this.events = new CacheEvents(this.logger)
    this.itersize = checkItersize(options.scanItersize ?? DEFAULT_ITERSIZE, 'scanItersize')
    // Each waiting acquire() listens to the signal while it sleeps: any number may wait at once.
    setMaxListeners(0, this.#closed.signal)
    this.lockFactory = withSignal(options.lockFactory, this.#closed.signal)
    this.semaphoreFactory = withSignal(options.semaphoreFactory, this.#closed.signal)
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
    return this.keyMaker.makeKey(key, checkVersionOption(options.version) ?? this.version)
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
   * The error policy: ignorable errors become `fallback` under `ignoreExceptions`; others surface
   * typed. `operation`: the method's name, for the `error` event.
   */
  fail<F>(error: unknown, fallback: F, operation: string): F {
    const typed = toCachexError(error)
    const ignored = this.#ignoreExceptions && isIgnorable(typed)
    if (this.events.errors) this.events.emit('error', { operation, error: typed, ignored })
    if (ignored) {
      if (this.#logIgnored) this.#logOnce(typed)
      return fallback
    }
    throw typed
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

  /**
   * Logs an ignored error, once per error kind (`code`) per minute: an outage fails every call,
   * and one line per call would flood the log.
   */
  #logOnce(error: CachexError): void {
    const now = Date.now()
    const last = this.#loggedAt.get(error.code)
    if (last !== undefined && now - last < LOG_EVERY_MS) return
    this.#loggedAt.set(error.code, now)
    this.logger.error(
      `cachex: ignored ${error.name} (${error.code}): ${error.message} — further ${error.code} errors are not logged for ${LOG_EVERY_MS / 1000} s`,
    )
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
  Object.defineProperty(cache, CONTEXT, { value: context })
}

/** The context of a `Cache`, from a family method's `this`. */
export function contextOf(cache: object): CacheContext {
  return (cache as Carrier)[CONTEXT]
}

/**
 * Puts the methods of a command family on a class's prototype, as class methods are (writable,
 * configurable, not enumerable). The family's interface, merged into the class's, types them.
 */
export function attachCommands(target: { prototype: object }, commands: object): void {
  for (const name of Reflect.ownKeys(commands)) {
    const descriptor = Object.getOwnPropertyDescriptor(commands, name) as PropertyDescriptor
    Object.defineProperty(target.prototype, name, {
      value: descriptor.value,
      writable: true,
      configurable: true,
      enumerable: false,
    })
  }
}

/** Any error as a `CachexError`: a foreign one (from a custom connection) becomes a `ConnectionError`. */
function toCachexError(error: unknown): CachexError {
  if (error instanceof CachexError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new ConnectionError(message, { cause: error })
}

function toList<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined || value === null) return []
  return Array.isArray(value) ? (value as readonly T[]) : [value as T]
}

/**
 * The methods of `Family` as a command family's implementation must provide them: every one, by
 * name (each is typed by the family's interface, which the cache merges in).
 */
export type Implementation<Family> = {
  [K in keyof Family as Family[K] extends (...args: never[]) => unknown ? K : never]: (
    // biome-ignore lint/suspicious/noExplicitAny: the family's interface types the arguments
    ...args: any[]
  ) => unknown
}

/**
 * `factory` (a `LockFactory` or `SemaphoreFactory`), handing what it makes `signal` as the
 * `signal` option next to the caller's, which `@cachex/lock` reads; `undefined` stays `undefined`.
 */
function withSignal<O extends object, R>(
  factory: ((connection: Connection, name: string, options: O) => R) | undefined,
  signal: AbortSignal,
): ((connection: Connection, name: string, options: O) => R) | undefined {
  if (factory === undefined) return undefined
  return (connection, name, options) => {
    const signalled: O & { signal: AbortSignal } = { ...options, signal }
    return factory(connection, name, signalled)
  }
}
