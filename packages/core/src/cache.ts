import { checkVersionOption } from './_args.ts'
import { limitArguments } from './_arity.ts'
import type { CacheApi } from './_cache-api.ts'
import { attachCommands, bindContext, CacheContext } from './_context.ts'
import { checkLocalOptions } from './_local-options.ts'
import { type LocalStats, LocalTier } from './_local-tier.ts'
import { ownOptions } from './_own.ts'
import { CachePipeline } from './_pipeline.ts'
import { RedisValueStore } from './_redis-value-store.ts'
import { timeMethods } from './_timing.ts'
import type { CacheOptions } from './cache-options.ts'
import { closeNotifier } from './commands/_stampede-notifier.ts'
import { getOrSetCommand } from './commands/get-or-set.ts'
import { hashCommands } from './commands/hashes.ts'
import { keyHelperCommands } from './commands/key-helpers.ts'
import { keyCommands } from './commands/keys.ts'
import { listCommands } from './commands/lists.ts'
import { semaphoreCommands } from './commands/semaphore.ts'
import { setCommands } from './commands/sets.ts'
import { sortedSetCommands } from './commands/sorted-sets.ts'
import { standardCommands } from './commands/standard.ts'
import { streamGroupCommands } from './commands/stream-groups.ts'
import { streamCommands } from './commands/streams.ts'
import type { CacheEventListener, CacheEventName } from './events.ts'
import type { Pipeline } from './pipeline.ts'
import type { Connection } from './types.ts'

/**
 * A Redis cache with the complete API of Django's Redis cache backends. Every method is async;
 * timeouts are in seconds. A `Cache` knows nothing of the Redis topology: it builds keys, encodes
 * values and applies Django's semantics, and its `Connection` runs the commands.
 *
 * `IgnoreErrors` says whether the cache may swallow errors (`ignoreExceptions`): `createCache()`
 * gives `Cache<false>` (or `Cache<true>` with `ignoreExceptions: true`); `new Cache()` infers it
 * from `ignoreExceptions` when given (`false` → `Cache<false>`), and is `Cache<boolean>` without
 * it. The bare name `Cache` is `Cache<boolean>`, any cache, so a function typed `(cache: Cache)`
 * accepts every one; the few methods with no neutral fallback (`incr`, `lpush`…) then include
 * `null` in their result.
 *
 * The class is a facade: its standard and extended API (`CacheLike`) reads and writes string
 * values through a value store; each data-structure family (hashes, sorted sets, lists, sets) is a file
 * of its own under `commands/`, attached below.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface below types the methods attached at the end of this file
export class Cache<out IgnoreErrors extends boolean = boolean> {
  /** The key prefix (`KEY_PREFIX`). */
  readonly keyPrefix: string
  /** The default key version (`VERSION`). */
  readonly version: number
  /** The default timeout in seconds; `null` never expires. */
  readonly defaultTimeout: number | null

  readonly #context: CacheContext
  /** The local tier (`local` option), if any. */
  readonly #local: LocalTier | undefined
  /** The first `close()`, which every later one waits for. */
  #closing: Promise<void> | undefined

  /**
   * A cache over `options.connection`. The options are read from their own properties only: one
   * inherited from `Object.prototype` (where another library may have put it) counts for nothing.
   */
  constructor(given: CacheOptions<IgnoreErrors>) {
    const options = ownOptions(given)
    const context = new CacheContext(options)
    context.store = new RedisValueStore(context)
    if (options.local !== undefined) {
      // With the default key function every key starts with `prefix:`; else track every key.
      const prefixes =
        options.keyFunction === undefined && context.keyPrefix !== ''
          ? [`${context.keyPrefix}:`]
          : []
      const tier = new LocalTier(context, context.store, checkLocalOptions(options.local), prefixes)
      context.store = tier
      this.#local = tier
    }
    this.#context = context
    bindContext(this, context)
    // `close` is handed as a callback (`process.once('SIGTERM', cache.close)`,
    // `.then(cache.close)`), which calls it without its `this`: bound to this cache, it closes it
    // rather than throw. An own property, not enumerable, as the class method is (the prototype
    // keeps that one, which a subclass may override: it is the one bound).
    Object.defineProperty(this, 'close', {
      __proto__: null,
      value: this.close.bind(this),
      writable: true,
      configurable: true,
      enumerable: false,
    } as PropertyDescriptor)
    let untime: (() => void) | undefined
    context.events.onTiming = (on) => {
      if (!on) {
        // Kept when taking the wrappers off throws (the cache was frozen while timed): they
        // stay on, and a listener added again needs nothing put on.
        untime?.()
        untime = undefined
      } else {
        untime ??= timeMethods(this, context, TIMED_METHODS, SELF_TIMED)
      }
    }
    this.keyPrefix = context.keyPrefix
    this.version = context.version
    this.defaultTimeout = context.defaultTimeout
  }

  /**
   * The connection this cache runs its commands on: a view of the one handed in (or made) whose
   * `command`, `batch`, `transaction`, `scan`, `client`, `flush` and `close` first send the calls
   * the cache is gathering in this tick, so that a command sent on it does not overtake them. Its
   * other members are the connection's own.
   */
  get connection(): Connection {
    return this.#context.connection
  }

  /**
   * The Redis key for `key` (Django's `make_key`), at `version`: the cache's own when it is
   * `undefined` or `null` (as `make_key(key, None)`); anything but an integer is refused with
   * `InvalidArgumentError`, as the methods' `{ version }` is.
   */
  makeKey(key: string, version?: number | null): string {
    return this.#context.makeKey(key, checkVersionOption(version ?? undefined) ?? this.version)
  }

  /**
   * The Redis glob pattern for a pattern over user keys at `version` (the cache's own when it is
   * `undefined` or `null`); the prefix is glob-escaped.
   */
  makePattern(pattern: string, version?: number | null): string {
    return this.#context.makePattern(
      pattern,
      checkVersionOption(version ?? undefined) ?? this.version,
    )
  }

  /**
   * The counters of the local tier (`local` option): hits, misses, evictions, invalidations,
   * entries and their estimated bytes, and whether tracking is up; `null` without a local tier.
   */
  localStats(): LocalStats | null {
    return this.#local?.stats() ?? null
  }

  /**
   * A pipeline: the cache's methods, chained, each queueing its commands; `exec()` sends them in
   * one round trip (one per node on a cluster) and resolves one result per call, in order (a
   * failed call's error in its slot). Not atomic: see `transaction()`. Writes drop the local
   * tier's copies of their keys; reads go to Redis.
   */
  pipeline(): Pipeline<IgnoreErrors> {
    return new CachePipeline(this, this.#context, false) as unknown as Pipeline<IgnoreErrors>
  }

  /**
   * `pipeline()` sent as one `MULTI … EXEC`: no other client's command runs in between. A command
   * that fails at `EXEC` (`WRONGTYPE`) gets its error and the others still run (Redis has no
   * rollback); a command Redis refuses while queueing aborts the whole transaction (`exec()`
   * rejects, nothing ran). On a cluster every key must be in one hash slot (a hash tag), else
   * `exec()` rejects with `CrossSlotError` before sending anything.
   */
  transaction(): Pipeline<IgnoreErrors> {
    return new CachePipeline(this, this.#context, true) as unknown as Pipeline<IgnoreErrors>
  }

  /**
   * Calls `listener` on every `event` of this cache, synchronously, and returns the function that
   * stops it. Events: `hit` / `miss` (per key read by `get`, `getMany`, `getOrSet`; `local` on a
   * hit the local tier served), `set` (per value stored, with its size in bytes), `delete`,
   * `error` (with `ignored` under `ignoreExceptions`), `invalidate` (the local tier dropped
   * entries) and `operation` (every public method call, with its duration). A cache nobody
   * listens to pays nothing for them; a listener that throws is logged once, and the call goes
   * on. See docs/telemetry.md.
   *
   * ```ts
   * const stop = cache.on('miss', ({ key }) => console.log('miss', key))
   * stop()
   * ```
   */
  on<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): () => void {
    return this.#context.events.on(event, listener)
  }

  /** Stops `listener` (one registration of it) from receiving `event`; does nothing if it does not. */
  off<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): void {
    this.#context.events.off(event, listener)
  }

  /**
   * Closes the connection (and the local tier's tracking connection). Calls made before it are
   * answered; calls made after it — in the same tick too — reject with `ClosedError`, and so
   * does a `SCAN` walk (`keys`, `deletePattern`, `clear` with a key prefix…) at its next command.
   * A second `close()` resolves when the first has closed everything. Bound to its cache: it may
   * be handed as a callback (`process.once('SIGTERM', cache.close)`), and takes any arguments.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  /** `close()`, run once. */
  async #close(): Promise<void> {
    // The stampede notifier's subscriber: a handed-in client (closeConnection: false) stays open,
    // so the subscriber copied from it would not end with it.
    closeNotifier(this.#context)
    // Callers waiting on another call's getOrSet computation stop waiting.
    this.#context.flights.close()
    // Locks and semaphores waiting between tries of acquire() stop waiting.
    this.#context.closeWaits()
    // Closed in this tick (its tracking connection closes meanwhile): it serves nothing more.
    const local = this.#local?.close()
    // What coalesced calls in flight may still need is sent now: the connection answers what is
    // in flight as it closes, and refuses what comes after. Both in this tick, before any await:
    // a call made right after close() is gathered after these and finds the connection closed.
    this.#context.gathering.closing()
    const connection = this.#context.connection.close()
    await Promise.all([local, connection])
  }

  /**
   * Closes the cache at the end of an `await using` block: `await using cache = createCache()`.
   * Declared before `await using lock = await cache.acquireLock(…)`, it is disposed of after the
   * lock, so the lock is released while the cache is still open.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

// The rest of the API, typed by `CacheApi` and attached to the prototype below. A new family is
// one file under commands/, one name in `_cache-api.ts` and one line here.
export interface Cache<out IgnoreErrors extends boolean = boolean> extends CacheApi<IgnoreErrors> {}

attachCommands(Cache, standardCommands)
attachCommands(Cache, getOrSetCommand)
attachCommands(Cache, keyCommands)
attachCommands(Cache, hashCommands)
attachCommands(Cache, sortedSetCommands)
attachCommands(Cache, listCommands)
attachCommands(Cache, setCommands)
attachCommands(Cache, streamCommands)
attachCommands(Cache, streamGroupCommands)
attachCommands(Cache, semaphoreCommands)
attachCommands(Cache, keyHelperCommands)
// Then a call with an argument past a method's last is refused, not run without it.
limitArguments(Cache.prototype)

/** The methods an `operation` listener times: every method of the prototype (see `_timing.ts`). */
const TIMED_METHODS: readonly string[] = Object.getOwnPropertyNames(Cache.prototype)
/** The methods that emit their own `operation` event (no wrapper: one promise fewer a call). */
const SELF_TIMED: ReadonlySet<unknown> = new Set<unknown>([standardCommands.get])
