// The options of the Keyv store, and the settings it resolves them to (its `opts`).
import { InvalidArgumentError } from '@cachex/core'
import { own } from '@cachex/core/internal'

/**
 * Who turns a value into bytes.
 * - `'keyv'`: Keyv's own format. The store keeps whatever Keyv hands it — by default Keyv's
 *   serialized string `{"value":…,"expires":…}` — as one cachex value. Works with any Keyv
 *   configuration, including `new Keyv({ store })` and NestJS's `CacheModule` wrapping a bare store.
 *   A value Keyv did not write (one `cache.set()`, `incr()` or Django stored) is one it cannot
 *   read: reads report it as they report bytes the cache cannot decode (`SerializationError`).
 * - `'cachex'`: cachex's format. Keyv must hand the store its entries unserialized (create it with
 *   `serialize: undefined, deserialize: undefined`, as `createKeyv()` does); the store writes the
 *   value alone through the cache's serializer and compressor, so Redis holds exactly what
 *   `cache.set()` — and Django — would write, and `cache.get()` reads it back.
 */
export type KeyvSerialization = 'keyv' | 'cachex'

/** Options of `createKeyvStore()` / `new KeyvCachex()`. */
export interface KeyvCachexOptions {
  /** Who serializes values; see `KeyvSerialization`. @default 'keyv' */
  serialization?: KeyvSerialization
  /**
   * With `serialization: 'cachex'`, tell Keyv when each value expires (`expires`), which
   * cache-manager's `ttl()` and `wrap(…, { refreshThreshold })` read. Costs one `PTTL` per key,
   * sent with the `GET` in the same round trip. (Keyv's own format carries `expires` itself.)
   * @default true
   */
  expires?: boolean
  /**
   * `disconnect()` (Keyv's, cache-manager's, NestJS's on shutdown) also closes the cache. Off by
   * default: the cache is yours and may serve other code; close it yourself.
   * @default false
   */
  closeOnDisconnect?: boolean
  /**
   * Reads (`get`, `getMany`, `has`, `hasMany`, and so Keyv's `getRaw` and `getManyRaw`) reject
   * with the cache's error, as Keyv's own `throwOnErrors` asks; without it they answer a miss
   * (`undefined`, `false`) after emitting the error as an `'error'` event, which Keyv forwards to
   * its own. Keyv does not tell its store its `throwOnErrors`: `createKeyv()` keeps this in step
   * with it; with `new Keyv({ store, throwOnErrors: true })`, pass it to the store too.
   * @default false
   */
  throwOnErrors?: boolean
}

/** What the store reports as its `opts`: its options resolved, and what Keyv looks for. */
export interface StoreOpts extends Required<Omit<KeyvCachexOptions, 'throwOnErrors'>> {
  /** Keyv enables its iterator for stores whose dialect it knows; this store walks `SCAN`. */
  dialect: 'redis'
  /** Keyv reads `opts.url` of some stores; this one has no URL of its own. */
  url: string
}

/**
 * The type of `KeyvCachex.opts`.
 * @deprecated Not an options type: pass `KeyvCachexOptions`; for the resolved settings, use
 * `KeyvCachex['opts']`.
 */
export type KeyvCachexOpts = StoreOpts

/** The settings of a store created with `options`; throws `InvalidArgumentError` for bad ones. */
export function resolveOptions(options: KeyvCachexOptions): StoreOpts {
  const serialization = own(options, 'serialization') ?? 'keyv'
  if (serialization !== 'keyv' && serialization !== 'cachex') {
    throw new InvalidArgumentError(
      `serialization must be 'keyv' or 'cachex', got ${String(serialization)}`,
    )
  }
  return {
    dialect: 'redis',
    url: '',
    serialization,
    expires: own(options, 'expires') ?? true,
    closeOnDisconnect: own(options, 'closeOnDisconnect') ?? false,
  }
}
