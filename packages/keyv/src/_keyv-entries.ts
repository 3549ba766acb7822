// What the Keyv store (`./store.ts`) reads from the cache and writes to it: the reads behind
// `get()` and `getMany()` without their error handling, the entry a read hands Keyv, and the
// value a write stores, in either serialization.
import { type CacheLike, InvalidArgumentError } from '@cachex/core'
import type { StoredData } from 'keyv'
import type { StoreOpts } from './_keyv-options.ts'
import { isEntry, isKeyvRecord, notKeyvRecord, storedEntry } from './_keyv-values.ts'

/** `cache.get()`'s default for a missing key: told apart from any stored value. */
const MISSING: unique symbol = Symbol('missing')

/** What `cache.getMany()` found of some keys, and their PTTLs when entries report `expires`. */
export type Found = [Map<string, unknown>, Array<number | null> | undefined]

/** The store's `get()` without its error handling: rejects with the cache's error. */
export async function readEntry<Value>(
  cache: CacheLike,
  opts: StoreOpts,
  key: string,
): Promise<StoredData<Value> | undefined> {
  if (opts.serialization === 'keyv' || !opts.expires) {
    const value = await cache.get<unknown>(key, MISSING)
    return value === MISSING ? undefined : (entryOf(opts, key, value, null) as StoredData<Value>)
  }
  // Both commands leave in the same write, so this is still one round trip.
  const [value, pttl] = await Promise.all([cache.get<unknown>(key, MISSING), cache.pttl(key)])
  return value === MISSING ? undefined : (entryOf(opts, key, value, pttl) as StoredData<Value>)
}

/** What the store's `getMany()` reads, without its error handling: rejects with the cache's error. */
export async function readFound(cache: CacheLike, opts: StoreOpts, keys: string[]): Promise<Found> {
  const withExpires = opts.serialization === 'cachex' && opts.expires
  return Promise.all([
    cache.getMany<unknown>(keys),
    withExpires ? Promise.all(keys.map((key) => cache.pttl(key))) : undefined,
  ])
}

/**
 * What a read of `key` hands Keyv: the stored value itself, or a `{ value, expires }` entry.
 * In `'keyv'` mode, a value Keyv cannot read (one it did not write) is a `SerializationError`,
 * as bytes the cache cannot decode are: Keyv would throw on it, or its iterator would.
 */
export function entryOf(
  opts: StoreOpts,
  key: string,
  value: unknown,
  pttl: number | null,
): unknown {
  if (opts.serialization === 'keyv') {
    if (isKeyvRecord(value)) return value
    throw notKeyvRecord(key, value)
  }
  // pttl is null without expiry and 0 when the key vanished after the GET: no `expires` then.
  return pttl === null || pttl <= 0 ? { value } : { value, expires: Date.now() + pttl }
}

/**
 * What a write stores: Keyv's value (an entry without an `expires` of `undefined`: see
 * `storedEntry`), or the bare value of Keyv's entry.
 */
export function toStored(opts: StoreOpts, value: unknown): unknown {
  if (opts.serialization === 'keyv') return storedEntry(value)
  if (isEntry(value)) return value.value
  throw new InvalidArgumentError(
    typeof value === 'string'
      ? "@cachex/keyv: Keyv serialized this value itself, but the store was created with serialization: 'cachex'. Create Keyv with serialize: undefined and deserialize: undefined (createKeyv() does), or create the store with serialization: 'keyv'"
      : "@cachex/keyv: with serialization: 'cachex' the store takes Keyv entries ({ value, expires }); use it through Keyv",
  )
}
