import {
  checkCoalesce,
  checkOptions,
  checkVersion,
  checkVersionOption,
  incrArguments,
  setArguments,
  TIMEOUT_KEYS,
  timeoutArguments,
  VERSION_ONLY,
} from './_args.ts'
import {
  attachCommands,
  bindContext,
  CacheContext,
  contextOf,
  type Implementation,
} from './_context.ts'
import { checkLocalOptions } from './_local-options.ts'
import { type LocalStats, LocalTier, MISS } from './_local-tier.ts'
import { CachePipeline } from './_pipeline.ts'
import { RedisValueStore } from './_redis-value-store.ts'
import { describe, timeoutToMs } from './_timeout.ts'
import type { CacheLike } from './cache-like.ts'
import type {
  CacheOptions,
  IncrOptions,
  SetOptions,
  TimeoutOption,
  VersionOption,
} from './cache-options.ts'
import { getOrSetCommand } from './commands/get-or-set.ts'
import { type HashCommands, hashCommands } from './commands/hashes.ts'
import { type KeyHelperCommands, keyHelperCommands } from './commands/key-helpers.ts'
import { keyCommands } from './commands/keys.ts'
import { type ListCommands, listCommands } from './commands/lists.ts'
import { type SemaphoreCommands, semaphoreCommands } from './commands/semaphore.ts'
import { type SetCommands, setCommands } from './commands/sets.ts'
import { type SortedSetCommands, sortedSetCommands } from './commands/sorted-sets.ts'
import { type StreamGroupCommands, streamGroupCommands } from './commands/stream-groups.ts'
import { type StreamCommands, streamCommands } from './commands/streams.ts'
import { InvalidArgumentError } from './errors.ts'
import { globEscape } from './key-function.ts'
import type { Pipeline } from './pipeline.ts'
import type { Connection } from './types.ts'

/**
 * A Redis cache with the complete API of Django's Redis cache backends. Every method is async;
 * timeouts are in seconds. A `Cache` knows nothing of the Redis topology: it builds keys, encodes
 * values and applies Django's semantics, and its `Connection` runs the commands.
 *
 * `IgnoreErrors` says whether the cache may swallow errors (`ignoreExceptions`): `createCache()`
 * gives `Cache<false>` (or `Cache<true>` with `ignoreExceptions: true`). The bare name `Cache`
 * is `Cache<boolean>`, any cache, so a function typed `(cache: Cache)` accepts every one; the few
 * methods with no neutral fallback (`incr`, `lpush`…) then include `null` in their result.
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

  constructor(options: CacheOptions<IgnoreErrors>) {
    const context = new CacheContext(options)
    context.store = new RedisValueStore(context, checkCoalesce(options.coalesceReads))
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
    this.keyPrefix = context.keyPrefix
    this.version = context.version
    this.defaultTimeout = context.defaultTimeout
  }

  /** The connection this cache runs its commands on. */
  get connection(): Connection {
    return this.#context.connection
  }

  /** The Redis key for `key` (Django's `make_key`). */
  makeKey(key: string, version: number = this.version): string {
    return this.#context.makeKey(key, version)
  }

  /** The Redis glob pattern for a pattern over user keys; the prefix is glob-escaped. */
  makePattern(pattern: string, version: number = this.version): string {
    return this.#context.makePattern(pattern, version)
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

  /** Closes the connection (and the local tier's tracking connection). Later calls reject with `ClosedError`. */
  async close(): Promise<void> {
    await this.#local?.close()
    await this.#context.connection.close()
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

// The rest of the API, typed by these interfaces and attached to the prototype at the end of this
// file. A new family is one file under commands/ and one name on each of the two lists.
export interface Cache<out IgnoreErrors extends boolean = boolean>
  extends CacheLike<IgnoreErrors>,
    HashCommands<IgnoreErrors>,
    SortedSetCommands<IgnoreErrors>,
    ListCommands<IgnoreErrors>,
    SetCommands,
    StreamCommands,
    StreamGroupCommands,
    SemaphoreCommands,
    KeyHelperCommands {}

/** `get` through the value store (a local tier's miss, or no tier). */
async function getFromStore(
  context: CacheContext,
  key: string,
  defaultValue: unknown,
  options: VersionOption | undefined,
): Promise<unknown> {
  const fallback = defaultValue === undefined ? null : defaultValue
  try {
    return await context.store.get(context.key(key, options, 'get'), key, fallback)
  } catch (error) {
    return context.fail(error, fallback)
  }
}

/** The standard API over the value store: what `CacheLike` documents. */
const standardCommands = {
  get(key: string, defaultValue?: unknown, options?: VersionOption): Promise<unknown> {
    let context: CacheContext | undefined
    try {
      context = contextOf(this)
      const store = context.store
      // A local tier hit is answered here, with the one promise the caller awaits: no async
      // function, no await of the store. Anything else (options, an odd key, a key function
      // that throws, a miss) takes the path below, which applies the error policy.
      if (store instanceof LocalTier && options === undefined && typeof key === 'string') {
        const value = store.peek(context.hotKey(key))
        if (value !== MISS) return Promise.resolve(value)
      }
    } catch (error) {
      if (context === undefined) return Promise.reject(error)
      // The path below runs the key function again and reports its error.
    }
    return getFromStore(context, key, defaultValue, options)
  },

  async set(
    key: string,
    value: unknown,
    timeoutOrOptions?: number | null | SetOptions,
    options?: Omit<SetOptions, 'timeout'>,
  ): Promise<boolean | unknown> {
    const context = contextOf(this)
    let get = false
    try {
      const [timeout, rest, condition, wantsOld] = setArguments(timeoutOrOptions, options)
      get = wantsOld
      if (get) {
        const ms = timeoutToMs(timeout, context.defaultTimeout)
        return await context.store.setGet(context.key(key, rest), key, value, ms, condition)
      }
      return await context.storeValue(key, value, timeout, rest, condition)
    } catch (error) {
      return context.fail(error, get ? null : false)
    }
  },

  async add(
    key: string,
    value: unknown,
    timeoutOrOptions?: number | null | TimeoutOption,
    options?: VersionOption,
  ): Promise<boolean> {
    const context = contextOf(this)
    try {
      const [timeout, rest] = timeoutArguments('add', timeoutOrOptions, options, TIMEOUT_KEYS)
      return await context.storeValue(key, value, timeout, rest, 'nx')
    } catch (error) {
      return context.fail(error, false)
    }
  },

  async delete(key: string, options?: VersionOption): Promise<boolean> {
    const context = contextOf(this)
    try {
      return await context.store.delete(context.key(key, options, 'delete'))
    } catch (error) {
      return context.fail(error, false)
    }
  },

  async getMany(keys: Iterable<string>, options?: VersionOption): Promise<Map<string, unknown>> {
    const context = contextOf(this)
    try {
      const list = Array.isArray(keys) ? (keys as string[]) : [...keys]
      checkOptions(options, 'getMany', VERSION_ONLY)
      if (list.length === 0) return new Map()
      const version = checkVersionOption(options?.version) ?? context.version
      return await context.store.getMany(list, context.makeKeys(list, version))
    } catch (error) {
      return context.fail(error, new Map())
    }
  },

  async setMany(
    entries: Record<string, unknown> | Map<string, unknown>,
    timeoutOrOptions?: number | null | TimeoutOption,
    versionOptions?: VersionOption,
  ): Promise<string[]> {
    const context = contextOf(this)
    let keys: string[] = []
    try {
      const [timeout, options] = timeoutArguments(
        'setMany',
        timeoutOrOptions,
        versionOptions,
        TIMEOUT_KEYS,
      )
      let values: unknown[]
      if (entries instanceof Map) {
        keys = [...entries.keys()]
        values = [...entries.values()]
      } else {
        const record = entries ?? {}
        keys = Object.keys(record)
        values = new Array(keys.length)
        for (let i = 0; i < keys.length; i++) values[i] = record[keys[i] as string]
      }
      if (keys.length === 0) return []
      const ms = timeoutToMs(timeout, context.defaultTimeout)
      const version = checkVersionOption(options?.version) ?? context.version
      const rkeys = context.makeKeys(keys, version)
      const stored = await context.store.setMany(rkeys, values, ms)
      return stored.includes(false) ? keys.filter((_, i) => !stored[i]) : []
    } catch (error) {
      // No key is known to be stored.
      return context.fail(error, keys)
    }
  },

  async deleteMany(keys: Iterable<string>, options?: VersionOption): Promise<number> {
    const context = contextOf(this)
    try {
      checkOptions(options, 'deleteMany', VERSION_ONLY)
      const version = checkVersionOption(options?.version) ?? context.version
      const rkeys = context.makeKeys(Array.isArray(keys) ? (keys as string[]) : [...keys], version)
      if (rkeys.length === 0) return 0
      return await context.store.deleteMany(rkeys)
    } catch (error) {
      return context.fail(error, 0)
    }
  },

  async clear(): Promise<void> {
    const context = contextOf(this)
    try {
      if (context.keyPrefix === '') {
        await context.store.flush()
        return
      }
      await context.store.deleteMatching(`${globEscape(context.keyPrefix)}:*`, context.itersize)
    } catch (error) {
      return context.fail(error, undefined)
    }
  },

  async hasKey(key: string, options?: VersionOption): Promise<boolean> {
    const context = contextOf(this)
    try {
      return await context.store.has(context.key(key, options, 'hasKey'))
    } catch (error) {
      return context.fail(error, false)
    }
  },

  async incr(
    key: string,
    delta: number | bigint = 1,
    options?: IncrOptions,
  ): Promise<number | bigint | null> {
    const context = contextOf(this)
    try {
      const asNumber = incrArguments(delta, options)
      return await context.store.incr(context.key(key, options), key, delta, asNumber)
    } catch (error) {
      return context.failOrNull<number | bigint>(error)
    }
  },

  decr(this: Cache, key: string, delta: number | bigint = 1, options?: IncrOptions) {
    // Negate numbers only: `-'1'` would coerce a bad delta into a valid one before incr checks it.
    const negated = typeof delta === 'bigint' || typeof delta === 'number' ? -delta : delta
    return this.incr(key, negated, options)
  },

  async touch(
    key: string,
    timeoutOrOptions?: number | null | TimeoutOption,
    versionOptions?: VersionOption,
  ): Promise<boolean> {
    const context = contextOf(this)
    try {
      const [timeout, options] = timeoutArguments(
        'touch',
        timeoutOrOptions,
        versionOptions,
        TIMEOUT_KEYS,
      )
      const ms = timeoutToMs(timeout, context.defaultTimeout)
      return await context.store.touch(context.key(key, options), ms)
    } catch (error) {
      return context.fail(error, false)
    }
  },

  async incrVersion(key: string, delta = 1, options?: VersionOption): Promise<number | null> {
    const context = contextOf(this)
    try {
      if (!Number.isSafeInteger(delta)) {
        throw new InvalidArgumentError(
          `incrVersion() takes an integer delta, got ${describe(delta)}`,
        )
      }
      checkOptions(options, 'incrVersion', VERSION_ONLY)
      const version = checkVersionOption(options?.version) ?? context.version
      const next = checkVersion(version + delta)
      const from = context.makeKey(key, version)
      await context.store.rename(from, context.makeKey(key, next), key)
      return next
    } catch (error) {
      return context.failOrNull<number>(error)
    }
  },

  decrVersion(this: Cache, key: string, delta = 1, options?: VersionOption) {
    return this.incrVersion(key, typeof delta === 'number' ? -delta : delta, options)
  },
} satisfies Implementation<Omit<CacheLike, ClassMembers | 'getOrSet' | keyof typeof keyCommands>>

/** What the class itself defines. */
type ClassMembers = 'makeKey' | 'makePattern' | 'close' | typeof Symbol.asyncDispose

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
