// The options of a `Cache` and of its standard and extended methods. The options of a command
// family (sorted sets, lists…) live in the family's file under commands/.
//
// Every optional option also says `| undefined`: the runtime takes `undefined` as unset (the
// default), and under `exactOptionalPropertyTypes` a user forwarding a value that may be unset
// (`{ timeout: options.timeout }`) could not pass it otherwise.
import type { LockFactory } from './lock-types.ts'
import type { SemaphoreFactory } from './semaphore-types.ts'
import type {
  Compressor,
  Connection,
  KeyFunction,
  Logger,
  ReverseKeyFunction,
  Serializer,
} from './types.ts'

/**
 * Options of a `Cache`. Seconds stay seconds, as in Django's `CACHES` settings. `IgnoreErrors` is
 * the type of `ignoreExceptions`, inferred by `new Cache()` from it when given (`boolean`
 * without) and by `createCache()` (`false` without).
 */
export interface CacheOptions<IgnoreErrors extends boolean = boolean> {
  /** The connection every command goes through (`@cachex/connections` builds one). */
  connection: Connection
  /** Prepended to every key (`KEY_PREFIX`). @default '' */
  keyPrefix?: string | undefined
  /** The default key version (`VERSION`). @default 1 */
  version?: number | undefined
  /** Default timeout in seconds (`TIMEOUT`); `null` never expires. @default 300 */
  timeout?: number | null | undefined
  /** Builds Redis keys (`KEY_FUNCTION`). @default `${keyPrefix}:${version}:${key}` */
  keyFunction?: KeyFunction | undefined
  /** Turns Redis keys back into user keys for `keys()`/`iterKeys()`; needed with a custom `keyFunction`. */
  reverseKeyFunction?: ReverseKeyFunction | undefined
  /** The serializer, or several: the first writes, all are tried on read. @default JSON */
  serializer?: Serializer | readonly Serializer[] | undefined
  /** The compressor, or several: the first writes, all are tried on read. @default none */
  compressor?: Compressor | readonly Compressor[] | null | undefined
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
  maxValueSize?: number | null | undefined
  /**
   * Turn connection errors, timeouts and error replies into fallbacks (`IGNORE_EXCEPTIONS`): each
   * method resolves a value of its declared type (`get` its default, `set` `false`, counts `0`,
   * lists `[]`…; the table is in docs/configuration.md). Methods with no neutral value (`incr`,
   * `hincrby`, `lpush`…) resolve `null`, which their type then says: `Cache<true>`.
   * @default false
   */
  ignoreExceptions?: IgnoreErrors | undefined
  /** Log the errors that `ignoreExceptions` swallowed, once per kind (`code`) per minute. @default false */
  logIgnoredExceptions?: boolean | undefined
  /** Where ignored errors are logged. @default console */
  logger?: Logger | undefined
  /** Keys fetched per `SCAN` in `iterKeys`, `keys`, `deletePattern` and `clear`. @default 1000 */
  scanItersize?: number | undefined
  /**
   * Send the `get`s issued in one tick as one `MGET` (several of at most 128 keys for more), each
   * caller answered on its own: its value, its default, its error (a value that cannot be decoded
   * rejects only its caller; a connection error or timeout rejects every caller of the `MGET`).
   * The batch is sent when the microtask queue runs, with no timer: a lone `get` is sent at once
   * as a plain `GET`. On a cluster the `MGET` is split by slot; with replicas it goes to one.
   * `false` sends one `GET` per call. Reads of the local tier's misses are not coalesced.
   * The `hasKey`s of one tick go the same way as one `EXISTS` of their keys (answered per key
   * when it counts all or none of them, else asked again key by key), and the `hget`s,
   * `sismember`s and `zscore`s of one tick on one key as one `HMGET`, `SMISMEMBER`, `ZMSCORE`;
   * `false` sends one command per call for these too. A `getMany` that reads the same keys as
   * the `getMany` just before it in the tick (nothing else called in between) reads that call's
   * `MGET`, each caller decoding its own values; `false` sends one `MGET` per `getMany`.
   * @default true
   */
  coalesceReads?: boolean | undefined
  /**
   * Creates the lock behind `lock()`; the umbrella passes `@cachex/lock`'s. Its options also hold
   * `signal`, an `AbortSignal` the cache aborts as it closes (a waiting `acquire()` then ends).
   */
  lockFactory?: LockFactory | undefined
  /**
   * Creates the semaphore behind `semaphore()`; the umbrella passes `@cachex/lock`'s. Its options
   * also hold the cache's close `signal`, as `lockFactory`'s do.
   */
  semaphoreFactory?: SemaphoreFactory | undefined
  /**
   * An in-process tier of decoded values in front of Redis, kept coherent by the server (RESP3
   * `CLIENT TRACKING` on a dedicated connection): a write to a key by any client drops the local
   * copy; while a tracking connection is down the tier is emptied and bypassed. Every topology
   * (replicas, Sentinel, Cluster: one tracking connection per node reads may go to); a handed-in
   * client pool throws `InvalidArgumentError`. `{}` holds up to 10,000 values.
   * See docs/local-tier.md.
   * @default none (every read goes to Redis)
   */
  local?: LocalOptions | undefined
}

/** Selects a key version other than the cache's own, as Django's `version=` argument. */
export interface VersionOption {
  /** The key version to use for this call. @default the cache's `version` */
  version?: number | undefined
}

/**
 * Options of a call on two keys (`rename`, `renamenx`, `smove`, `lmove`, `blmove`): a version for
 * each, as django-cachex's `version_src` and `version_dst`.
 */
export interface MoveOptions extends VersionOption {
  /** The version of `source` (django-cachex's `version_src`). @default `version` */
  versionSrc?: number | undefined
  /** The version of `destination` (django-cachex's `version_dst`). @default `version` */
  versionDst?: number | undefined
}

/**
 * Options of `sdiffstore`, `sinterstore` and `sunionstore`: the destination's version and the
 * sources', as django-cachex's `version_dest` and `version_keys`.
 */
export interface StoreOptions extends VersionOption {
  /** The version of `destination` (django-cachex's `version_dest`). @default `version` */
  versionDest?: number | undefined
  /** The version of every source key (django-cachex's `version_keys`). @default `version` */
  versionKeys?: number | undefined
}

/** Options of `set()`. */
export interface SetOptions extends VersionOption {
  /** Seconds until the value expires: `undefined` → the cache's default, `null` → never, ≤ 0 → at once. */
  timeout?: number | null | undefined
  /** Only set when the key does not exist. */
  nx?: boolean | undefined
  /** Only set when the key exists. */
  xx?: boolean | undefined
  /**
   * Resolve the value the key held before (decoded), or `null` when it held none, instead of
   * whether the value was stored (Redis's `SET … GET`, django-cachex's `set(…, get=True)`). A
   * key of another type than a string value rejects (`WRONGTYPE`). An old value the cache cannot
   * read (over `maxValueSize`, or in another format) rejects with its `SerializationError` (or
   * `CompressionError`), which says the new value was stored all the same and carries the old
   * one's stored bytes in `removed`.
   */
  get?: boolean | undefined
}

/** Options of `setMany()` and `getOrSet()`. */
export interface TimeoutOption extends VersionOption {
  /** Seconds until the value expires: `undefined` → the cache's default, `null` → never, ≤ 0 → at once. */
  timeout?: number | null | undefined
}

/** Options of `getOrSet()`. */
export interface GetOrSetOptions extends TimeoutOption {
  /**
   * Seconds a call waits for the same key's computation started by another call in this process.
   * After that it calls its own factory (the shared computation may hang; the request goes on).
   * `null` waits as long as it takes; `0` never waits (every call computes).
   * @default 10
   */
  waitTimeout?: number | null | undefined
  /**
   * One computation across every process sharing the Redis database, not only within this one:
   * on a miss the first caller takes a short lock (`__cachex:lock:<redis key>`, a random token,
   * kept alive while the factory runs, released by compare-and-delete), and the others wait for
   * the value — woken by a message on the `__cachex:stampede` channel, with a slow poll as a
   * safety net — for at most `waitTimeout`, then compute their own. If the holder dies, its lock
   * expires after `lockTimeout` and one waiter takes over. Costs one `SET NX` on a miss, and a
   * subscriber connection per cache while it waits. See docs/stampede.md.
   * @default false
   */
  distributed?: boolean | undefined
  /**
   * XFetch's `beta` (Vattani et al., VLDB 2015): on a hit, a caller recomputes the value before it
   * expires with a probability that rises as expiry nears, weighted by how long the factory took
   * (stored in `__cachex:delta:<redis key>`, expiring with the value): `1` is the paper's default,
   * more recomputes earlier, `0` never. One caller per process (per fleet with `distributed`)
   * recomputes; the others get the current value. A hit then costs `GET` + `PTTL` + `GET` in one
   * round trip.
   */
  earlyRecompute?: number | undefined
  /**
   * Seconds a value is kept after its timeout, served stale while one caller recomputes it in the
   * background (stale-while-revalidate); when that recomputation throws, the error is logged with
   * the cache's `logger` and the stale value keeps being served (fail-safe). The value is stored
   * with a TTL of `timeout + grace`, so Django and `get()` read it until then. No effect with a
   * `null` (never) or non-positive timeout.
   */
  grace?: number | undefined
  /**
   * Seconds the `distributed` lock lives without its holder's heartbeat: how long waiters wait
   * before one takes over from a holder that died.
   * @default 5
   */
  lockTimeout?: number | undefined
}

/** Options of `iterKeys()` and `deletePattern()`; `version` selects the keys of another version. */
export interface ScanOptions extends VersionOption {
  /** Keys fetched per `SCAN`. @default the cache's `scanItersize` */
  itersize?: number | undefined
}

/**
 * What a method with no neutral fallback (`incr`, `hincrby`, `lpush`…) resolves: `T`, or also
 * `null` when the cache may ignore errors (`ignoreExceptions`).
 */
export type OrIgnored<IgnoreErrors extends boolean, T> = IgnoreErrors extends false ? T : T | null

/** Options of `incr()` and `decr()`. */
export interface IncrOptions extends VersionOption {
  /**
   * `'number'`: resolve a `number`, never a `bigint`. When the result would not be a safe integer
   * (beyond ±(2^53 − 1)), the call rejects with `NotANumberError` and the stored value is left as
   * it was. Without it, `incr` resolves a `bigint` for such results, and its type is
   * `number | bigint`.
   */
  as?: 'number' | undefined
}

/** Options of the local tier (`local` of `createCache`). */
export interface LocalOptions {
  /** Most values held. @default 10000 (when `maxBytes` is not given either) */
  maxEntries?: number | undefined
  /**
   * Most bytes held, by an estimate of each decoded value's size in memory (strings at 2 bytes a
   * character, plus object headers and property slots; see docs/local-tier.md).
   * @default no bound
   */
  maxBytes?: number | undefined
  /**
   * Seconds a value is held at most, whatever its Redis TTL (a value is never held past its Redis
   * TTL either). @default no bound beyond the Redis TTL
   */
  ttl?: number | undefined
}
