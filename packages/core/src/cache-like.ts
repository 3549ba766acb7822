import type {
  GetOrSetOptions,
  IncrOptions,
  OrIgnored,
  ScanOptions,
  SetOptions,
  TimeoutOption,
  VersionOption,
} from './cache-options.ts'
import type { AcquireLockOptions, CacheLock, HeldLock, LockOptions } from './lock-types.ts'

/**
 * The keys of `getMany` and `deleteMany`: an array, a `Set`, a generator, `map.keys()`… any
 * iterable of strings but a string itself, which is an iterable of its characters and which the
 * methods refuse at run time (`InvalidArgumentError`). A string is told apart by its `charAt`.
 * An iterable other than an array is read up to a million keys, then refused (an endless one).
 */
export type ManyKeys = Iterable<string> & { readonly charAt?: never }

/**
 * The standard and extended API of a cache: what code that uses a cache (the Keyv store, your
 * services, a wrapper or a test double) should depend on instead of the `Cache` class. `Cache`
 * implements it, together with its command families (hashes, sorted sets, lists).
 *
 * `IgnoreErrors` says whether the cache may swallow errors (`ignoreExceptions`); the few methods
 * with no neutral fallback (`incr`, `incrVersion`) then include `null` in their result. The bare
 * name `CacheLike` is `CacheLike<boolean>`, any cache.
 */
export interface CacheLike<out IgnoreErrors extends boolean = boolean> {
  /** The key prefix (`KEY_PREFIX`). */
  readonly keyPrefix: string
  /** The default key version (`VERSION`). */
  readonly version: number
  /** The default timeout in seconds; `null` never expires. */
  readonly defaultTimeout: number | null

  /** The Redis key for `key` (Django's `make_key`). */
  makeKey(key: string, version?: number): string
  /** The Redis glob pattern for a pattern over user keys; the prefix is glob-escaped. */
  makePattern(pattern: string, version?: number): string

  // ---------------------------------------------------------------- standard API

  /**
   * The value stored at `key`, or `defaultValue` (`null` unless given) when there is none. `T` is
   * the type you expect to find (nothing checks it); with a default other than `null`, the result
   * is typed `T`: `get('theme', 'light')` resolves a `string`. The default is for a missing key
   * only, as in Django: a stored `null` (JSON `null`, Python's `None` that Django cached) resolves
   * `null` all the same, which that type does not say; where one may be stored, check for it
   * (`(await cache.get('theme', 'light')) ?? 'light'`).
   */
  get<T = unknown>(key: string, defaultValue?: null, options?: VersionOption): Promise<T | null>
  get<T extends {}>(key: string, defaultValue: T, options?: VersionOption): Promise<T>
  get<T = unknown>(
    key: string,
    defaultValue: T | null | undefined,
    options?: VersionOption,
  ): Promise<T | null>

  /**
   * Stores `value` at `key`. With `nx` only when the key is new, with `xx` only when it exists.
   * Resolves `true` when the value was stored. A timeout ≤ 0 deletes the key instead (with `nx`,
   * it resolves whether the key was absent), as django-redis does.
   *
   * The timeout comes as Django passes it, in seconds (`set(k, v, 60)`, `null` never expires,
   * `undefined` the cache's default), optionally followed by the other options
   * (`set(k, v, 60, { nx: true })`), or inside one options object (`set(k, v, { timeout: 60 })`).
   * Anything else rejects with `InvalidArgumentError`.
   */
  set(
    key: string,
    value: unknown,
    options?: SetOptions & { get?: false | undefined },
  ): Promise<boolean>
  set(
    key: string,
    value: unknown,
    timeout: number | null | undefined,
    options?: Omit<SetOptions, 'timeout'> & { get?: false | undefined },
  ): Promise<boolean>
  /**
   * With `get: true`: stores `value` as `set` does and resolves the value the key held before,
   * decoded, or `null` (none, or a write `nx`/`xx` prevented — the old value is returned all the
   * same). Under `ignoreExceptions` an ignored error resolves `null`.
   */
  set<T = unknown>(
    key: string,
    value: unknown,
    options: SetOptions & { get: true },
  ): Promise<T | null>
  set<T = unknown>(
    key: string,
    value: unknown,
    timeout: number | null | undefined,
    options: Omit<SetOptions, 'timeout'> & { get: true },
  ): Promise<T | null>
  /** With `get` a `boolean` known only at run time: either result. */
  set<T = unknown>(key: string, value: unknown, options?: SetOptions): Promise<boolean | T | null>
  set<T = unknown>(
    key: string,
    value: unknown,
    timeout: number | null | undefined,
    options?: Omit<SetOptions, 'timeout'>,
  ): Promise<boolean | T | null>

  /**
   * Stores `value` only when `key` does not exist; resolves whether it was stored. The timeout
   * comes in seconds (`add(k, v, 60)`, then `{ version }` if needed) or in an options object
   * (`add(k, v, { timeout: 60, version: 2 })`), as for `set`.
   */
  add(key: string, value: unknown, options?: TimeoutOption): Promise<boolean>
  add(
    key: string,
    value: unknown,
    timeout: number | null | undefined,
    options?: VersionOption,
  ): Promise<boolean>

  /** Deletes `key`; resolves whether it existed. */
  delete(key: string, options?: VersionOption): Promise<boolean>

  /**
   * The values of the keys that exist, in one `MGET`. `keys` is an array, a `Set` or another
   * iterable of keys; a single key (a string) is refused, by the type too.
   */
  getMany<T = unknown>(keys: ManyKeys, options?: VersionOption): Promise<Map<string, T>>

  /**
   * Stores many values in one round trip: one `MSET` without a timeout, one script with one (a
   * `SET … PX` each up to 15 keys; from 16, one `MSET` and a `PEXPIRE` each) once the connection
   * is known to run scripts; before that (a fresh cache's first batch), for a user without
   * `@scripting`, and on a cluster for keys of several slots, one pipeline of `SET … PX`. Every value is encoded first, so a value
   * that cannot be encoded stores nothing. Resolves the keys that failed: on a cluster, those
   * whose node refused or could not be reached; a single command that fails rejects. The timeout comes in seconds (`setMany(entries, 60)`) or in an
   * options object (`setMany(entries, { timeout: 60, version: 2 })`), as for `set`.
   */
  setMany(
    entries: Record<string, unknown> | Map<string, unknown>,
    options?: TimeoutOption,
  ): Promise<string[]>
  setMany(
    entries: Record<string, unknown> | Map<string, unknown>,
    timeout: number | null | undefined,
    options?: VersionOption,
  ): Promise<string[]>

  /**
   * Deletes many keys in one command; resolves how many existed. `keys` is an iterable of keys,
   * as for `getMany`: a single key (a string) is refused.
   */
  deleteMany(keys: ManyKeys, options?: VersionOption): Promise<number>

  /**
   * Removes this cache's keys: every version under `keyPrefix` when there is one, else the whole
   * database (`FLUSHDB` on every primary), as django-redis does.
   */
  clear(): Promise<void>

  /** Whether `key` exists. */
  hasKey(key: string, options?: VersionOption): Promise<boolean>

  /**
   * Adds `delta` to the integer at `key` atomically and resolves the new value (a `bigint` beyond
   * 2^53, unless `{ as: 'number' }`). Rejects with `KeyNotFoundError` when the key is missing, as
   * Django's `incr` does: store a number first (`add(key, 0)` creates it only when missing). A
   * value Redis cannot `INCRBY` (a float, or beyond 64 bits) is read, added to and written back
   * with its TTL kept, as django-redis does, only while it still holds what was read (no
   * increment is lost to a concurrent one); a value that is not a number rejects with
   * `NotANumberError`, a key holding a list or another Redis type with a `ResponseError` naming it.
   */
  incr(
    key: string,
    delta?: number | bigint,
    options?: IncrOptions & { as?: undefined },
  ): Promise<OrIgnored<IgnoreErrors, number | bigint>>
  incr(
    key: string,
    delta: number | bigint | undefined,
    options: IncrOptions & { as: 'number' },
  ): Promise<OrIgnored<IgnoreErrors, number>>
  incr(
    key: string,
    delta?: number | bigint,
    options?: IncrOptions,
  ): Promise<OrIgnored<IgnoreErrors, number | bigint>>

  /** Subtracts `delta` from the integer at `key`; see `incr`. */
  decr(
    key: string,
    delta?: number | bigint,
    options?: IncrOptions & { as?: undefined },
  ): Promise<OrIgnored<IgnoreErrors, number | bigint>>
  decr(
    key: string,
    delta: number | bigint | undefined,
    options: IncrOptions & { as: 'number' },
  ): Promise<OrIgnored<IgnoreErrors, number>>
  decr(
    key: string,
    delta?: number | bigint,
    options?: IncrOptions,
  ): Promise<OrIgnored<IgnoreErrors, number | bigint>>

  /**
   * Sets a new timeout on `key` (`undefined` → the default, `null` → never expire); resolves
   * whether the key exists. The timeout comes in seconds (`touch(k, 60)`, then `{ version }` if
   * needed) or in an options object (`touch(k, { timeout: 60 })`), as for `set`.
   */
  touch(key: string, options?: TimeoutOption): Promise<boolean>
  touch(key: string, timeout: number | null | undefined, options?: VersionOption): Promise<boolean>

  /**
   * The value at `key`; when there is none, computes it (calling `valueOrFactory` if it is a
   * function, awaiting it if it is a promise), stores it with `add`, and resolves it — or the value
   * another writer stored first. A promise handed in is the call's: a hit answers without it, and
   * its rejection is handled (never an `unhandledRejection`). Concurrent calls for the same key in
   * this process share one call of the factory; a call that joined another's computation waits at
   * most `waitTimeout` seconds for it, then computes the value itself; `close()` ends its wait
   * with a `ClosedError`, its factory not run. A plain value (no function, no promise) without the
   * stampede options is read and stored in one command (`SET … NX GET`), in call order.
   */
  getOrSet<T>(
    key: string,
    valueOrFactory: T | (() => T | Promise<T>),
    options?: GetOrSetOptions,
  ): Promise<T>
  getOrSet<T>(
    key: string,
    valueOrFactory: T | (() => T | Promise<T>),
    timeout: number | null | undefined,
    options?: Omit<GetOrSetOptions, 'timeout'>,
  ): Promise<T>

  /**
   * Moves the value at `key` (and its TTL) to version `version + delta` with one atomic `RENAME`
   * and resolves the new version. Rejects with `KeyNotFoundError` when the key is missing.
   */
  incrVersion(
    key: string,
    delta?: number,
    options?: VersionOption,
  ): Promise<OrIgnored<IgnoreErrors, number>>

  /** Moves the value at `key` to version `version - delta`; see `incrVersion`. */
  decrVersion(
    key: string,
    delta?: number,
    options?: VersionOption,
  ): Promise<OrIgnored<IgnoreErrors, number>>

  /**
   * Closes the connection. Calls made before it are answered (a `getOrSet` whose factory finishes
   * after it resolves its computed value, not stored); calls made after it — in the same tick
   * too — reject with `ClosedError`, and so does a `SCAN` walk (`keys`, `deletePattern`, `clear`
   * with a key prefix…) at its next command. A second `close()` resolves with the first.
   */
  close(): Promise<void>

  /**
   * Closes the cache at the end of an `await using` block: `await using cache = createCache()`.
   * Declared before `await using lock = await cache.acquireLock(…)`, it is disposed of after the
   * lock, so the lock is released while the cache is still open.
   */
  [Symbol.asyncDispose](): Promise<void>

  // ---------------------------------------------------------------- extended API

  /** Seconds until `key` expires: `null` when it never does, `0` when it does not exist. */
  ttl(key: string, options?: VersionOption): Promise<number | null>
  /** Milliseconds until `key` expires: `null` when it never does, `0` when it does not exist. */
  pttl(key: string, options?: VersionOption): Promise<number | null>
  /** Makes `key` expire in `seconds` (fractions allowed); resolves whether the key exists. */
  expire(key: string, seconds: number, options?: VersionOption): Promise<boolean>
  /** Makes `key` expire in `milliseconds`; resolves whether the key exists. */
  pexpire(key: string, milliseconds: number, options?: VersionOption): Promise<boolean>
  /** Makes `key` expire at `when` (a `Date` or Unix seconds); resolves whether the key exists. */
  expireAt(key: string, when: Date | number, options?: VersionOption): Promise<boolean>
  /** Makes `key` expire at `when` (a `Date` or Unix milliseconds); resolves whether the key exists. */
  pexpireAt(key: string, when: Date | number, options?: VersionOption): Promise<boolean>
  /** Removes the timeout of `key`; resolves whether a timeout was removed. */
  persist(key: string, options?: VersionOption): Promise<boolean>

  /**
   * A distributed lock on `key` (the key function applies), with redis-py `Lock` semantics; it is
   * not taken yet: call `acquire()` (resolves whether it got the lock), then `release()`, or
   * `withLock(fn)`. For a lock held for the length of a block, use
   * `await using lock = await cache.acquireLock(key, …)`. Needs a lock factory: `createCache()`
   * from `@cachex/redis` provides `@cachex/lock`'s.
   */
  lock(key: string, options?: LockOptions & VersionOption): CacheLock

  /**
   * Takes the lock on `key` — waiting as `blocking` and `blockingTimeout` say, as redis-py's
   * `with lock:` does — and resolves a `HeldLock`, which releases it at the end of an
   * `await using` block:
   *
   * ```ts nocheck
   * await using lock = await cache.acquireLock('lock:nightly', { timeout: 60, blockingTimeout: 5 })
   * ```
   *
   * Rejects with `LockError` naming the lock when it could not be had (held by another owner, and
   * not blocking or the wait ran out). `token` stores that token instead of a random one.
   */
  acquireLock(key: string, options?: AcquireLockOptions): Promise<HeldLock>

  /**
   * Every user key matching the glob `pattern`, walked with `SCAN` (never `KEYS`). An empty
   * pattern rejects with `InvalidArgumentError` (it would match no key: `'*'` matches every one).
   * A key whose name is not UTF-8 (written by another client) is left out: no string names it.
   * Each key comes once, as from `KEYS` (`SCAN` may name a key twice).
   */
  keys(pattern?: string, options?: ScanOptions): Promise<string[]>

  /**
   * Yields the user keys matching the glob `pattern`, one `SCAN` batch at a time. An empty
   * pattern throws `InvalidArgumentError`, as for `keys`. Keys whose names are not UTF-8 are left
   * out, as for `keys`. As `SCAN` (and django-redis's `iter_keys`), it may yield a key twice when
   * the keyspace changes during the walk.
   */
  iterKeys(pattern?: string, options?: ScanOptions): AsyncIterable<string>

  /**
   * Deletes every user key matching the glob `pattern`; resolves how many were deleted. An empty
   * pattern rejects with `InvalidArgumentError`, as for `keys`. Keys are deleted by the exact
   * bytes `SCAN` returned, names that are not UTF-8 included.
   */
  deletePattern(pattern: string, options?: ScanOptions): Promise<number>
}
