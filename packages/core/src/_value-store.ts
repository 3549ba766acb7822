/**
 * Where a `Cache` keeps its string values: every standard operation on a key's value (get, set,
 * add, delete, the `many` forms, touch, incr, ttl, expire, persist, clear…) goes through this one
 * interface, and nothing else of the cache touches those values. `RedisValueStore` implements it
 * over the cache's `Connection`; a tier (an in-process cache in front of Redis, stampede control)
 * implements it by wrapping another `ValueStore`, without touching the command families (hashes,
 * sorted sets, lists), which run their own commands.
 *
 * The cache has already checked every argument and applied the key function: a store receives
 * Redis keys (`rkey`), with the user's `key` where an error message or a decoded value needs it,
 * and durations in milliseconds. Values cross it decoded: a store encodes what it writes and
 * decodes what it reads. A store throws (rejects) on failure; the cache applies its error policy
 * (`ignoreExceptions`) above it.
 */
export interface ValueStore {
  /**
   * The value at `rkey` decoded, or `fallback` when the key does not exist. `primary`: read on
   * the primary even where reads go to replicas.
   */
  get(rkey: string, key: string, fallback: unknown, primary?: boolean): Promise<unknown>
  /**
   * The values of the keys that exist, decoded, by user key: `rkeys[i]` is the Redis key of
   * `keys[i]`; at least one key. `primary`: as for `get`.
   */
  getMany(
    keys: readonly string[],
    rkeys: readonly string[],
    primary?: boolean,
  ): Promise<Map<string, unknown>>
  /**
   * Stores `value` at `rkey`, expiring in `ms` milliseconds (`null`: never). `'nx'` stores only a
   * new key, `'xx'` only an existing one. Resolves whether it stored. With `ms` ≤ 0 the key is
   * deleted instead (resolving whether it existed), or with `'nx'` left alone (resolving whether
   * it was absent), as django-redis does. The value is encoded first in every case, so a value
   * that cannot be encoded rejects.
   */
  set(rkey: string, value: unknown, ms: number | null, condition?: SetCondition): Promise<boolean>
  /**
   * `set`, resolving the value `rkey` held before, decoded (errors name the user's `key`), or
   * `missing` (default `null`) when it held none (`SET … GET`). With `ms` ≤ 0 the key is deleted
   * (`GETDEL`), or with `'nx'` left alone.
   */
  setGet(
    rkey: string,
    key: string,
    value: unknown,
    ms: number | null,
    condition?: SetCondition,
    missing?: unknown,
  ): Promise<unknown>
  /**
   * Runs `write`, a command of another family that may replace the values at `rkeys` (a rename,
   * `SUNIONSTORE` into a key that held a string): a store that keeps values in the process drops
   * them before and after, as it does around its own writes. `unreplaced`: keys `write` also
   * changes without replacing their value (a rename's source, a pipeline's `incr`); `replaced`:
   * keys whose value it surely replaces (a pipeline's `SET`); both dropped too.
   */
  writing<T>(
    rkeys: readonly string[],
    write: () => Promise<T>,
    unreplaced?: readonly string[],
    replaced?: readonly string[],
  ): Promise<T>
  /**
   * Stores many values, all expiring in `ms` milliseconds (`null`: never; ≤ 0: deletes the keys).
   * Every value is encoded before anything is sent. Resolves, per entry, whether it was stored.
   */
  setMany(
    rkeys: readonly string[],
    values: readonly unknown[],
    ms: number | null,
  ): Promise<boolean[]>
  /** Deletes `rkey`; resolves whether it existed. */
  delete(rkey: string): Promise<boolean>
  /** Deletes the keys (at least one); resolves how many existed. */
  deleteMany(rkeys: readonly string[]): Promise<number>
  /** Whether `rkey` exists; asked of the primary with `primary` (as `get`). */
  has(rkey: string, primary?: boolean): Promise<boolean>
  /** Sets the expiry of `rkey` to `ms` milliseconds from now (`null`: never); resolves whether it exists. */
  touch(rkey: string, ms: number | null): Promise<boolean>
  /**
   * Adds `delta` to the integer at `rkey` atomically and resolves the new value (a `bigint` beyond
   * 2^53, unless `asNumber`, which rejects with `NotANumberError` instead and leaves the value as
   * it was). Rejects with `KeyNotFoundError` naming `key` when the key is missing. `method`: the
   * method called (`decr` passes its delta negated), which its errors name.
   */
  incr(
    rkey: string,
    key: string,
    delta: number | bigint,
    asNumber: boolean,
    method: 'incr' | 'decr',
  ): Promise<number | bigint>
  /**
   * Moves the value at `from` (and its expiry) to `to`; rejects with `KeyNotFoundError` naming
   * `key` when `from` does not exist.
   */
  rename(from: string, to: string, key: string): Promise<void>
  /**
   * Time until `rkey` expires, in seconds (`'s'`) or milliseconds (`'ms'`): `null` when it never
   * does, `0` when the key does not exist. Asked of the primary with `primary` (as `get`).
   */
  ttl(rkey: string, unit: 's' | 'ms', primary?: boolean): Promise<number | null>
  /** Makes `rkey` expire in `ms` milliseconds; resolves whether it exists. */
  expire(rkey: string, ms: number): Promise<boolean>
  /** Makes `rkey` expire at `unixMs` (Unix time in milliseconds); resolves whether it exists. */
  expireAt(rkey: string, unixMs: number): Promise<boolean>
  /** Removes the expiry of `rkey`; resolves whether there was one. */
  persist(rkey: string): Promise<boolean>
  /**
   * Yields the Redis keys matching the glob `pattern`, one `SCAN` batch (about `count` keys) at a
   * time: strings, and the exact bytes of a key that is not UTF-8 (see `Connection.scan`).
   */
  scan(pattern: string, count: number): AsyncIterable<Array<string | Buffer>>
  /** Deletes every key matching the glob `pattern`, batch by batch; resolves how many. */
  deleteMatching(pattern: string, count: number): Promise<number>
  /** Removes every key of the database (`FLUSHDB` on every primary). */
  flush(): Promise<void>
}

/** The condition of a `ValueStore.set`: only a new key (`'nx'`), only an existing key (`'xx'`). */
export type SetCondition = 'nx' | 'xx'
