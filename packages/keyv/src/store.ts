// The Keyv storage adapter: Keyv's store contract on a cachex `Cache`, with Keyv's error events.
// What it reads from the cache and writes to it, entry by entry, is `./_keyv-entries.ts`.
import { EventEmitter } from 'node:events'
import { type CacheLike, globEscape, InvalidArgumentError } from '@cachex/core'
import { isCallBudgetError, own } from '@cachex/core/internal'
import type { KeyvStoreAdapter, StoredData } from 'keyv'
import { callsMadeBefore, trackCall } from './_keyv-calls.ts'
import { entryOf, type Found, readEntry, readFound, toStored } from './_keyv-entries.ts'
import { Namespaces } from './_keyv-namespaces.ts'
import { type KeyvCachexOptions, resolveOptions, type StoreOpts } from './_keyv-options.ts'
import {
  checkKeys,
  checkNamespace,
  isDecodingError,
  isKeyedEntry,
  isUndefinedEntry,
  KEYS_AT_ONCE,
  readEach,
  toTimeout,
} from './_keyv-values.ts'
import { groupEntries, writeGroups } from './_keyv-writes.ts'

export type { KeyvCachexOptions, KeyvCachexOpts, KeyvSerialization } from './_keyv-options.ts'

/** Keys read per `MGET` while `iterator()` walks the keyspace. */
const ITERATOR_BATCH = 100

/**
 * A Keyv storage adapter (Keyv 5 `KeyvStoreAdapter`) backed by a cachex `Cache`, so that Keyv,
 * cache-manager v7 and NestJS's `CacheModule` run on cachex: its key function (`prefix:version:`),
 * serializers, compressors, topologies, timeouts and error policy apply.
 *
 * Keys are the keys Keyv hands over (`namespace:key` by default) and go through the cache's key
 * function. TTLs are Keyv's milliseconds: `undefined` or `0` never expire, a negative TTL expires
 * at once. An entry whose value is `undefined` deletes its key.
 */
// Keyv 5 types a store's `setMany` as resolving nothing, yet `keyv.setMany()` resolves what the
// store's does: this one resolves a boolean per entry, so it implements the rest of the contract.
export class KeyvCachex extends EventEmitter implements Omit<KeyvStoreAdapter, 'setMany'> {
  /** The cache every command goes through (with or without `ignoreExceptions`). */
  readonly cache: CacheLike
  /** This store's settings, as Keyv expects to find them. */
  readonly opts: StoreOpts
  /** The namespaces Keyv gave it (`namespace`), and the keys they cover. */
  readonly #namespaces = new Namespaces()
  /**
   * Whether reads reject with their error (after emitting it) instead of answering a miss; see
   * `KeyvCachexOptions.throwOnErrors`. May be changed at any time.
   */
  throwOnErrors: boolean

  constructor(cache: CacheLike, options: KeyvCachexOptions = {}) {
    super()
    if (cache === null || typeof cache !== 'object' || typeof cache.get !== 'function') {
      throw new InvalidArgumentError('createKeyvStore() takes a cachex Cache')
    }
    this.opts = resolveOptions(options)
    this.cache = cache
    this.throwOnErrors = own(options, 'throwOnErrors') === true
  }

  /**
   * The Keyv namespace; Keyv sets it, from its `namespace` option and when `keyv.namespace` is
   * set. `clear()` and `iterator()` stay inside it; without one, `clear()` is `cache.clear()`.
   * Once it was set to a second namespace (or to none and a namespace), they refuse to run.
   */
  get namespace(): string | undefined {
    return this.#namespaces.current
  }

  /**
   * Throws `InvalidArgumentError` for a namespace that contains `:` (and so `new Keyv()` with
   * one): Keyv's `namespace:key` could not tell namespace `'a:b'` key `'k'` from namespace `'a'`
   * key `'b:k'`, whose `clear()` would delete it. The store's namespace is then left as it was
   * (Keyv's setter has changed its own before it sets this one).
   */
  set namespace(namespace: string | undefined) {
    this.#namespaces.set(namespace)
  }

  /**
   * The stored entry: Keyv's own string in `'keyv'` mode, `{ value, expires }` in `'cachex'`.
   * A failed read is an `'error'` event and a miss, or rejects with `throwOnErrors`.
   */
  get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return trackCall(this.cache, async () => {
      try {
        this.#namespaces.scoped(key)
        return await readEntry<Value>(this.cache, this.opts, key)
      } catch (error) {
        return this.#readFailed(error, undefined)
      }
    })
  }

  /**
   * The entries of `keys`, in order, `undefined` where a key is missing: one `MGET`. A value that
   * cannot be decoded, or that Keyv cannot read, is an `'error'` event and its key's miss (the
   * keys are then read one by one, in one more round trip); any other failed read is an `'error'`
   * event and all misses. Or it rejects with `throwOnErrors`.
   */
  getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    return trackCall(this.cache, async () => {
      checkKeys(keys, 'getMany')
      let found: Found
      try {
        for (const key of keys) this.#namespaces.scoped(key)
        found = await readFound(this.cache, this.opts, keys)
      } catch (error) {
        const misses = keys.map(() => undefined)
        if (!isDecodingError(error) || this.throwOnErrors) return this.#readFailed(error, misses)
        // MGET decodes the whole batch or nothing: one value that cannot be decoded would make
        // every key a miss. Read them key by key then, only that one a miss.
        let each: [Array<StoredData<Value> | undefined>, unknown[]]
        try {
          each = await readEach(keys, (key) => readEntry<Value>(this.cache, this.opts, key))
        } catch (eachError) {
          return this.#readFailed(eachError, misses)
        }
        // Outside the try: an error reported here (and thrown, should throwOnErrors have been set
        // meanwhile) is not reported again.
        for (const keyError of each[1]) this.#readFailed(keyError, undefined)
        return each[0]
      }
      return this.#entries<Value>(keys, found)
    })
  }

  /**
   * Stores an entry; `ttl` is in milliseconds (`undefined` or `0`: no expiry). Resolves whether it
   * was written: `false` only when `ignoreExceptions` swallowed a failure. A TTL ≤ 0 deletes the
   * key, which is a successful write of an expired entry; so does a value of `undefined`, which
   * no serializer stores (as @keyv/redis, Keyv then reads `undefined`). Such a write resolves
   * `true` even when `ignoreExceptions` swallowed its failure: the cache's `delete` answers that
   * as it answers a key that was not there.
   */
  async set(key: string, value: unknown, ttl?: number | null): Promise<boolean> {
    this.#namespaces.scoped(key)
    const timeout = toTimeout(ttl)
    if (isUndefinedEntry(value)) {
      await this.cache.delete(key)
      return true
    }
    const stored = await this.cache.set(key, toStored(this.opts, value), { timeout })
    return stored || timeout === 0
  }

  /**
   * Stores many entries: one `MSET` or one pipeline of `SET … PX` per distinct TTL, and one
   * `UNLINK` of the keys whose value is `undefined`, in parallel (64 groups at a time; a group
   * refused for want of room, `BackpressureError`, again alone once the others are done). Resolves,
   * per entry, whether it was stored. Every TTL is checked before anything is written; a group
   * that fails (a value its serializer refuses, a connection error) is `false` for its entries
   * and an `'error'` event, while the other groups stay written — or, with `throwOnErrors`, the
   * call rejects with that error once every group has settled.
   */
  setMany(
    entries: Array<{ key: string; value: unknown; ttl?: number | null }>,
  ): Promise<boolean[]> {
    return trackCall(this.cache, async () => {
      if (!Array.isArray(entries) || !entries.every(isKeyedEntry)) {
        throw new InvalidArgumentError(
          'setMany() takes an array of { key, value, ttl? } entries, each key a string',
        )
      }
      const groups = groupEntries(
        entries,
        (key) => this.#namespaces.scoped(key),
        (value) => toStored(this.opts, value),
      )
      const { failed, errors } = await writeGroups(this.cache, groups)
      // Keyv emits what its store's setMany throws: thrown, the error is not emitted here too.
      if (this.throwOnErrors && errors.length > 0) throw errors[0]
      for (const error of errors) this.#emitError(error)
      return entries.map(({ key }) => !failed.has(key))
    })
  }

  /** Deletes `key`; resolves whether it existed. */
  async delete(key: string): Promise<boolean> {
    this.#namespaces.scoped(key)
    return this.cache.delete(key)
  }

  /** Deletes `keys` in one command; resolves whether any of them existed. */
  async deleteMany(keys: string[]): Promise<boolean> {
    if (Array.isArray(keys)) for (const key of keys) this.#namespaces.scoped(key)
    return (await this.cache.deleteMany(keys)) > 0
  }

  /**
   * Whether `key` exists. A failed read is an `'error'` event and `false`, or rejects with
   * `throwOnErrors`.
   */
  async has(key: string): Promise<boolean> {
    try {
      this.#namespaces.scoped(key)
      return await this.cache.hasKey(key)
    } catch (error) {
      return this.#readFailed(error, false)
    }
  }

  /**
   * Whether each of `keys` exists; the commands of 1,000 keys share one round trip. A failed read
   * is one `'error'` event and all `false`, or rejects with `throwOnErrors`.
   */
  hasMany(keys: string[]): Promise<boolean[]> {
    return trackCall(this.cache, async () => {
      checkKeys(keys, 'hasMany')
      try {
        for (const key of keys) this.#namespaces.scoped(key)
        const found: boolean[] = []
        for (let at = 0; at < keys.length; at += KEYS_AT_ONCE) {
          const part = keys.slice(at, at + KEYS_AT_ONCE)
          for (const has of await Promise.all(part.map((key) => this.cache.hasKey(key)))) {
            found.push(has)
          }
        }
        return found
      } catch (error) {
        return this.#readFailed(
          error,
          keys.map(() => false),
        )
      }
    })
  }

  /**
   * Removes the namespace's keys (`deletePattern('<namespace>:*')`), or, without a namespace,
   * what `cache.clear()` removes: every key under the cache's `keyPrefix`, or the whole database
   * when it has none. Rejects with `InvalidArgumentError`, deleting nothing, once the store was
   * given more than one namespace (see `Namespaces.single`); Keyv's `clear()` then emits that error, and
   * rejects with it under `throwOnErrors`.
   */
  clear(): Promise<void> {
    // Tracked: a clear() walks SCAN page by page, each sent later than the call was made.
    return trackCall(this.cache, async () => {
      this.#namespaces.single('clear()')
      if (this.namespace) await this.cache.deletePattern(`${globEscape(this.namespace)}:*`)
      else await this.cache.clear()
    })
  }

  /**
   * Yields `[key, entry]` for every key of `namespace` (every key of the cache without one),
   * walking `SCAN` and reading the values in batches. Keyv's `iterator()` calls it. A value that
   * cannot be decoded is skipped with an `'error'` event (or rejects with `throwOnErrors`); a
   * connection error rejects, since ending early would pass for a complete walk. Rejects with
   * `InvalidArgumentError`, before any command, once the store was given more than one namespace
   * (see `Namespaces.single`): Keyv hands it the store's, the one set last.
   */
  async *iterator<Value>(
    namespace: string | undefined = this.namespace,
  ): AsyncGenerator<Array<string | Awaited<Value> | undefined>, void> {
    this.#namespaces.single('iterator()')
    checkNamespace(namespace, 'iterator()')
    const pattern = namespace ? `${globEscape(namespace)}:*` : '*'
    let batch: string[] = []
    for await (const key of this.cache.iterKeys(pattern)) {
      batch.push(key)
      if (batch.length < ITERATOR_BATCH) continue
      yield* this.#read<Value>(batch)
      batch = []
    }
    if (batch.length > 0) yield* this.#read<Value>(batch)
  }

  /**
   * Closes the cache when `closeOnDisconnect` is set, once the store's calls made before are
   * answered; otherwise the cache stays open.
   */
  async disconnect(): Promise<void> {
    if (!this.opts.closeOnDisconnect) return
    await callsMadeBefore(this.cache)
    await this.cache.close()
  }

  /** Yields the entries of `keys` that are still there. */
  async *#read<Value>(keys: string[]): AsyncGenerator<Array<string | Awaited<Value> | undefined>> {
    let found: Found | undefined
    try {
      found = await readFound(this.cache, this.opts, keys)
    } catch (error) {
      // Values that together decompress past the call's budget: one at a time, each bounded by
      // maxValueSize, none held once yielded.
      if (isCallBudgetError(error)) return yield* this.#readEachAlone<Value>(keys)
      if (!isDecodingError(error)) throw error
    }
    // Outside the try: a value Keyv cannot read was reported by #entries, once.
    let entries: Array<StoredData<Value | undefined>>
    if (found !== undefined) {
      entries = this.#entries<Value>(keys, found)
    } else {
      // MGET decodes the whole batch or nothing: one value that cannot be decoded would hide the
      // rest. Read the batch key by key then, leaving out (and reporting) the keys that fail.
      const [each, unreadable] = await readEach(keys, (key) =>
        readEntry<Value>(this.cache, this.opts, key),
      )
      for (const keyError of unreadable) this.#readFailed(keyError, undefined)
      entries = each
    }
    for (let i = 0; i < keys.length; i++) {
      // A key that expired between SCAN and MGET is simply skipped.
      const entry = entries[i]
      if (entry !== undefined) yield [keys[i] as string, entry as Awaited<Value>]
    }
  }

  /** Yields the entries of `keys` that are still there, read one after another. */
  async *#readEachAlone<Value>(
    keys: string[],
  ): AsyncGenerator<Array<string | Awaited<Value> | undefined>> {
    for (const key of keys) {
      const [[entry], unreadable] = await readEach([key], (k) =>
        readEntry<Value>(this.cache, this.opts, k),
      )
      for (const keyError of unreadable) this.#readFailed(keyError, undefined)
      if (entry !== undefined) yield [key, entry as Awaited<Value>]
    }
  }

  /**
   * The entries of `keys` in what `readFound()` found, `undefined` where a key is missing. A value
   * Keyv cannot read is an `'error'` event and its key's miss, or rejects with `throwOnErrors`.
   */
  #entries<Value>(keys: string[], [found, expiries]: Found): Array<StoredData<Value | undefined>> {
    return keys.map((key, i) => {
      if (!found.has(key)) return undefined
      try {
        return entryOf(this.opts, key, found.get(key), expiries?.[i] ?? null) as StoredData<Value>
      } catch (error) {
        return this.#readFailed(error, undefined)
      }
    })
  }

  /**
   * What a read answers when it failed with `error`: it emits the error (Keyv forwards its store's
   * `'error'` events to its own, and reports none of a read's itself), then rejects with it under
   * `throwOnErrors`, or answers `fallback`, the read's miss, as @keyv/redis does.
   */
  #readFailed<T>(error: unknown, fallback: T): T {
    this.#emitError(error)
    if (this.throwOnErrors) throw error
    return fallback
  }

  /**
   * Emits `error` as an `'error'` event when someone listens (Keyv always does). An EventEmitter
   * throws an `'error'` nobody listens to, which would turn the miss a read answers into a throw.
   */
  #emitError(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error)
  }
}

/**
 * A Keyv storage adapter backed by `cache`: `new Keyv({ store: createKeyvStore(cache) })`. With
 * the default `serialization: 'keyv'`, Keyv's serialized strings are stored as cachex values; for
 * values in cachex's (Django's) format use `createKeyv()`, or
 * `createKeyvStore(cache, { serialization: 'cachex' })` in a Keyv with
 * `serialize: undefined, deserialize: undefined`.
 */
export function createKeyvStore(cache: CacheLike, options?: KeyvCachexOptions): KeyvCachex {
  return new KeyvCachex(cache, options)
}
