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
  const [value, pttl] = await Promise.all([cache.get<unknown>(key, MISSING), pttlOf(cache, key)])
  return value === MISSING ? undefined : (entryOf(opts, key, value, pttl) as StoredData<Value>)
}

/**
 * `PTTL`s a cache has in flight from this bridge at most; the rest wait for a place. Each is a
 * command of its own (the cache gathers `GET`s into one `MGET`, not `PTTL`s), weighed against the
 * cache's `maxInFlightBytes`: a `getMany()` of 20,000 keys, or 20,000 `get()`s at once, sent
 * 20,000 of them, refused past about 16,000 (each such key a miss), and kept the whole cache's
 * calls refused while they drained. Under the bound, a read's `PTTL` leaves with its `GET`.
 */
const PTTLS_IN_FLIGHT = 1000

/** The `PTTL`s of one cache in flight, and the reads waiting for a place (from `head` on). */
interface PttlGate {
  inFlight: number
  waiting: Array<() => void>
  head: number
}

const gates = new WeakMap<CacheLike, PttlGate>()

/** `cache.pttl(key)`, within `PTTLS_IN_FLIGHT`: sent at once when there is room. */
async function pttlOf(cache: CacheLike, key: string): Promise<number | null> {
  let gate = gates.get(cache)
  if (gate === undefined) {
    gate = { inFlight: 0, waiting: [], head: 0 }
    gates.set(cache, gate)
  }
  if (gate.inFlight < PTTLS_IN_FLIGHT) gate.inFlight++
  // Woken with the place of a PTTL that ended (it is handed over, not counted again).
  else await new Promise<void>((resolve) => (gate as PttlGate).waiting.push(resolve))
  try {
    return await cache.pttl(key)
  } finally {
    const next = gate.head < gate.waiting.length ? gate.waiting[gate.head++] : undefined
    if (gate.head === gate.waiting.length) {
      gate.waiting = []
      gate.head = 0
    } else if (gate.head > 1024 && gate.head * 2 > gate.waiting.length) {
      gate.waiting = gate.waiting.slice(gate.head)
      gate.head = 0
    }
    if (next === undefined) gate.inFlight--
    else next()
  }
}

/**
 * What the store's `getMany()` reads, without its error handling: rejects with the cache's error.
 * With `expires`, `PTTLS_IN_FLIGHT` keys at a time: each batch's `MGET` and `PTTL`s leave
 * together (a `PTTL` sent rounds after its value was read could report a newer value's expiry),
 * and a batch that fails ends the read once its `PTTL`s are answered (none left queued behind it).
 */
export async function readFound(cache: CacheLike, opts: StoreOpts, keys: string[]): Promise<Found> {
  if (opts.serialization !== 'cachex' || !opts.expires) {
    return [await cache.getMany<unknown>(keys), undefined]
  }
  if (keys.length <= PTTLS_IN_FLIGHT) return readBatch(cache, keys)
  // By key, each value with its own batch's PTTL: a key given twice, in two batches, is answered
  // as the later batch found it, at both places.
  const found = new Map<string, unknown>()
  const pttlOfKey = new Map<string, number | null>()
  for (let at = 0; at < keys.length; at += PTTLS_IN_FLIGHT) {
    const batch = keys.slice(at, at + PTTLS_IN_FLIGHT)
    const [values, pttls] = await readBatch(cache, batch)
    for (let i = 0; i < batch.length; i++) {
      const key = batch[i] as string
      if (values.has(key)) {
        found.set(key, values.get(key))
        pttlOfKey.set(key, pttls[i] ?? null)
      } else {
        found.delete(key)
      }
    }
  }
  return [found, keys.map((key) => pttlOfKey.get(key) ?? null)]
}

/** One batch of `readFound`: its values and `PTTL`s, both answered before it settles. */
async function readBatch(
  cache: CacheLike,
  keys: string[],
): Promise<[Map<string, unknown>, Array<number | null>]> {
  const [values, pttls] = await Promise.allSettled([
    cache.getMany<unknown>(keys),
    Promise.all(keys.map((key) => pttlOf(cache, key))),
  ])
  if (values.status === 'rejected') throw values.reason
  if (pttls.status === 'rejected') throw pttls.reason
  return [values.value, pttls.value]
}

/**
 * What a read of `key` hands Keyv: the stored value itself, or a `{ value, expires }` entry;
 * `undefined` (a miss) for a value whose `PTTL` says it is gone.
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
  if (pttl === null) return { value }
  // 0 is a key in its last millisecond, or one gone right after the GET (expired, deleted): a
  // miss either way. Not an entry expiring now (Keyv would delete the key, which may hold a value
  // written since), nor one without `expires` (it would pass for a value that never expires).
  if (pttl <= 0) return undefined
  return { value, expires: Date.now() + pttl }
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
