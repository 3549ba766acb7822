// What the Keyv store (`./store.ts`) reads from the cache and writes to it: the reads behind
// `get()` and `getMany()` without their error handling, the entry a read hands Keyv, and the
// value a write stores, in either serialization.
import { type CacheLike, InvalidArgumentError } from '@cachex/core'
import type { StoredData } from 'keyv'
import type { StoreOpts } from './_keyv-options.ts'
import { isEntry, isKeyvRecord, KEYS_AT_ONCE, notKeyvRecord, storedEntry } from './_keyv-values.ts'

/** `cache.get()`'s default for a missing key: told apart from any stored value. */
const MISSING: unique symbol = Symbol('missing')

/**
 * What `cache.getMany()` found of some keys, and, when entries report `expires`, when each key's
 * value expires (see `expiryOf`).
 */
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
  const gate = gateOf(cache)
  const wait = enter(gate, 1)
  if (wait !== undefined) await wait
  // Both commands leave in the same write, so this is still one round trip.
  const [value, pttl] = await Promise.allSettled([
    called(() => cache.get<unknown>(key, MISSING)),
    called(() => cache.pttl(key)),
  ]).finally(() => leave(gate, 1))
  if (value.status === 'rejected') throw value.reason
  if (pttl.status === 'rejected') throw pttl.reason
  const expires = expiryOf(pttl.value, Date.now())
  return value.value === MISSING
    ? undefined
    : (entryOf(opts, key, value.value, expires) as StoredData<Value>)
}

/**
 * Keys a cache has being read from this bridge with their `PTTL`s at most; the reads past it wait
 * for a place. Each `PTTL` is a command of its own (the cache gathers `GET`s into one `MGET`, not
 * `PTTL`s), weighed against the cache's `maxInFlightBytes`: a `getMany()` of 20,000 keys, or
 * 20,000 `get()`s at once, sent 20,000 of them, refused past about 16,000 (each such key a miss),
 * and kept the whole cache's calls refused while they drained. A read takes its places before it
 * sends anything, so its value and its `PTTL` always leave together: a `PTTL` sent rounds after
 * its value was read could report a newer value's expiry.
 */
const KEYS_IN_FLIGHT = KEYS_AT_ONCE

/** The places of one cache's reads: how many are taken, and the reads waiting (from `head` on). */
interface ReadGate {
  inFlight: number
  waiting: Array<{ places: number; go: () => void }>
  head: number
}

const gates = new WeakMap<CacheLike, ReadGate>()

function gateOf(cache: CacheLike): ReadGate {
  let gate = gates.get(cache)
  if (gate === undefined) {
    gate = { inFlight: 0, waiting: [], head: 0 }
    gates.set(cache, gate)
  }
  return gate
}

/**
 * Takes `places` (at most `KEYS_IN_FLIGHT`): `undefined` when they were free, so that the read
 * sends in this tick, beside the other reads of the tick; otherwise a promise of them, in turn.
 */
function enter(gate: ReadGate, places: number): Promise<void> | undefined {
  if (gate.head === gate.waiting.length && gate.inFlight + places <= KEYS_IN_FLIGHT) {
    gate.inFlight += places
    return undefined
  }
  return new Promise<void>((go) => gate.waiting.push({ places, go }))
}

/** Gives `places` back, and hands them on to the reads waiting, in turn, that now fit. */
function leave(gate: ReadGate, places: number): void {
  gate.inFlight -= places
  let next = gate.waiting[gate.head]
  while (next !== undefined && gate.inFlight + next.places <= KEYS_IN_FLIGHT) {
    gate.inFlight += next.places
    gate.head++
    next.go()
    next = gate.waiting[gate.head]
  }
  if (gate.head === gate.waiting.length) {
    gate.waiting = []
    gate.head = 0
  } else if (gate.head > 1024 && gate.head * 2 > gate.waiting.length) {
    gate.waiting = gate.waiting.slice(gate.head)
    gate.head = 0
  }
}

/**
 * What the store's `getMany()` reads, without its error handling: rejects with the cache's error.
 * With `expires`, `KEYS_IN_FLIGHT` keys at a time: each batch's `MGET` and `PTTL`s leave
 * together, and a batch that fails ends the read once its `PTTL`s are answered (none left queued
 * behind it).
 */
export async function readFound(cache: CacheLike, opts: StoreOpts, keys: string[]): Promise<Found> {
  if (opts.serialization !== 'cachex' || !opts.expires) {
    return [await cache.getMany<unknown>(keys), undefined]
  }
  if (keys.length <= KEYS_IN_FLIGHT) return readBatch(cache, keys)
  // By key, each value with its own batch's expiry: a key given twice, in two batches, is
  // answered as the later batch found it, at both places.
  const found = new Map<string, unknown>()
  const expiryOfKey = new Map<string, number | null>()
  for (let at = 0; at < keys.length; at += KEYS_IN_FLIGHT) {
    const batch = keys.slice(at, at + KEYS_IN_FLIGHT)
    const [values, expiries] = await readBatch(cache, batch)
    for (let i = 0; i < batch.length; i++) {
      const key = batch[i] as string
      if (values.has(key)) {
        found.set(key, values.get(key))
        expiryOfKey.set(key, expiries[i] ?? null)
      } else {
        found.delete(key)
      }
    }
  }
  return [found, keys.map((key) => expiryOfKey.get(key) ?? null)]
}

/**
 * One batch of `readFound`: its values and when each expires, both answered before it settles.
 * Its places taken first, its `MGET` and `PTTL`s are sent in one tick.
 */
async function readBatch(
  cache: CacheLike,
  keys: string[],
): Promise<[Map<string, unknown>, Array<number | null>]> {
  const gate = gateOf(cache)
  const wait = enter(gate, keys.length)
  if (wait !== undefined) await wait
  const [values, pttls] = await Promise.allSettled([
    called(() => cache.getMany<unknown>(keys)),
    Promise.allSettled(keys.map((key) => called(() => cache.pttl(key)))),
  ]).finally(() => leave(gate, keys.length))
  if (values.status === 'rejected') throw values.reason
  if (pttls.status === 'rejected') throw pttls.reason
  const now = Date.now()
  return [
    values.value,
    pttls.value.map((pttl) => {
      if (pttl.status === 'rejected') throw pttl.reason
      return expiryOf(pttl.value, now)
    }),
  ]
}

/**
 * What `call()` returns, or a promise rejected with what it threw: a cache of the caller's (any
 * `CacheLike`, a wrapper) may throw at once, and a read must still give its places back.
 */
function called<T>(call: () => Promise<T>): Promise<T> {
  try {
    return call()
  } catch (error) {
    return Promise.reject(error)
  }
}

/**
 * When a value read at `now` expires, from its `PTTL`: `null` for none; a time at or before `now`
 * for a key in its last millisecond, or gone right after the `GET` (expired, deleted).
 */
function expiryOf(pttl: number | null, now: number): number | null {
  return pttl === null ? null : now + Math.max(pttl, 0)
}

/**
 * What a read of `key` hands Keyv: the stored value itself, or a `{ value, expires }` entry
 * (`expires`: when it expires, see `expiryOf`); `undefined` (a miss) for a value gone by now.
 * In `'keyv'` mode, a value Keyv cannot read (one it did not write) is a `SerializationError`,
 * as bytes the cache cannot decode are: Keyv would throw on it, or its iterator would.
 */
export function entryOf(
  opts: StoreOpts,
  key: string,
  value: unknown,
  expires: number | null,
): unknown {
  if (opts.serialization === 'keyv') {
    if (isKeyvRecord(value)) return value
    throw notKeyvRecord(key, value)
  }
  if (expires === null) return { value }
  // A value expiring now, or gone since it was read (a getMany's earlier batch), is a miss. Not
  // an entry that has expired (Keyv would delete the key, which may hold a value written since),
  // nor one without `expires` (it would pass for a value that never expires).
  if (expires <= Date.now()) return undefined
  return { value, expires }
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
