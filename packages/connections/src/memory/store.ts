// The keyspace of the in-memory backend: one `Map` of binary-string keys (no prototype to
// pollute), each entry typed and with its expiry. Expired keys are dropped when touched (lazy
// expiry) and by a sweep timer; a `maxBytes` bound evicts the least recently used keys
// (`allkeys-lru`). Stores are private to one connection (`memory://`) or shared by name within
// the process (`memory://name`), through the registry at the bottom.
import { fail, WRONGTYPE } from './_reply.ts'

/** The Redis type of a key, as `TYPE` names it. */
export type Kind = 'string' | 'hash' | 'list' | 'set' | 'zset' | 'stream'

/** One key: its type, value, expiry (ms since the epoch; 0 for none) and approximate size. */
export interface Entry {
  kind: Kind
  value: unknown
  expiresAt: number
  bytes: number
}

/** Bytes counted for a key besides its data (Redis's own overhead is of this order). */
export const KEY_OVERHEAD = 64
/** Bytes counted per element of a hash, list, set, sorted set or stream besides its data. */
export const ELEMENT_OVERHEAD = 24

/** Keys the sweep looks at per run. */
const SWEEP_BATCH = 2000
/** Open cursors (`SCAN`, `HSCAN`…) kept per store; the oldest is forgotten past it. */
const MAX_CURSORS = 1024

/** A keyspace. */
export class Store {
  /** Every key, least recently used first (a read or a write moves a key to the end). */
  readonly keys = new Map<string, Entry>()
  /** Approximate bytes held: keys, values, elements and their overheads. */
  used = 0
  /** The bound on `used`; `null` for none. */
  readonly maxBytes: number | null
  /** Blocked calls (`BLPOP`…) waiting for a write to a key. */
  readonly #waiters = new Map<string, Set<() => void>>()
  /** Open cursors: a snapshot of what they walk and how far they went. */
  readonly #cursors = new Map<number, { items: unknown[]; at: number }>()
  #nextCursor = 1
  #sweep: ReturnType<typeof setInterval> | undefined
  #sweepIterator: Iterator<[string, Entry]> | undefined
  /** Connections using this store; the sweep stops with the last. */
  refs = 0

  constructor(maxBytes: number | null, sweepMs: number) {
    this.maxBytes = maxBytes
    if (sweepMs > 0) {
      this.#sweep = setInterval(() => this.sweep(), sweepMs)
      this.#sweep.unref?.()
    }
  }

  /** Stops the sweep timer. */
  stop(): void {
    clearInterval(this.#sweep)
    this.#sweep = undefined
  }

  /** The live entry of `key` (dropping it when expired), moved to the end of the LRU order. */
  get(key: string, now: number): Entry | undefined {
    const entry = this.keys.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt !== 0 && entry.expiresAt <= now) {
      this.delete(key)
      return undefined
    }
    this.keys.delete(key)
    this.keys.set(key, entry)
    return entry
  }

  /** The live entry of `key` when it is of `kind`; `WRONGTYPE` when it is of another. */
  typed(key: string, kind: Kind, now: number): Entry | undefined {
    const entry = this.get(key, now)
    if (entry !== undefined && entry.kind !== kind) throw fail(WRONGTYPE)
    return entry
  }

  /** The entry of `key` of `kind`, created empty (`make()`) when missing. */
  create(key: string, kind: Kind, now: number, make: () => unknown): Entry {
    const found = this.typed(key, kind, now)
    if (found !== undefined) return found
    const entry: Entry = { kind, value: make(), expiresAt: 0, bytes: key.length + KEY_OVERHEAD }
    this.keys.set(key, entry)
    this.used += entry.bytes
    return entry
  }

  /** Sets `key` to a new entry (replacing any, its expiry included). */
  put(key: string, kind: Kind, value: unknown, bytes: number, expiresAt = 0): Entry {
    this.delete(key)
    const entry: Entry = { kind, value, expiresAt, bytes: key.length + KEY_OVERHEAD + bytes }
    this.keys.set(key, entry)
    this.used += entry.bytes
    return entry
  }

  /** Removes `key`; whether it was there (expired or not). */
  delete(key: string): boolean {
    const entry = this.keys.get(key)
    if (entry === undefined) return false
    this.keys.delete(key)
    this.used -= entry.bytes
    // As Redis: a consumer group's reader blocked on a stream learns that it is gone.
    if (entry.kind === 'stream') this.wake(key)
    return true
  }

  /** Counts `delta` more bytes for `entry`. */
  grow(entry: Entry, delta: number): void {
    entry.bytes += delta
    this.used += delta
  }

  /** Removes `key` when its container is empty (Redis has no empty hashes, lists, sets…). */
  dropIfEmpty(key: string, entry: Entry, size: number): void {
    if (size === 0 && this.keys.get(key) === entry) this.delete(key)
  }

  /** Removes every key (blocked calls look again: a stream they read may be gone). */
  clear(): void {
    this.keys.clear()
    this.used = 0
    this.#cursors.clear()
    for (const key of [...this.#waiters.keys()]) this.wake(key)
  }

  /**
   * Evicts least recently used keys until `used` is within `maxBytes`, sparing `keep` (the key
   * just written), as Redis's `allkeys-lru` does.
   */
  fit(keep?: string): void {
    const max = this.maxBytes
    if (max === null || this.used <= max) return
    for (const key of this.keys.keys()) {
      if (this.used <= max) break
      if (key !== keep) this.delete(key)
    }
  }

  /** Drops up to a batch of expired keys, resuming where the last run stopped. */
  sweep(now = Date.now()): void {
    let iterator = this.#sweepIterator ?? this.keys.entries()
    for (let i = 0; i < SWEEP_BATCH; i++) {
      const next = iterator.next()
      if (next.done === true) {
        iterator = this.keys.entries()
        break
      }
      const [key, entry] = next.value
      if (entry.expiresAt !== 0 && entry.expiresAt <= now) this.delete(key)
    }
    this.#sweepIterator = iterator
  }

  /** Wakes the blocked calls waiting on `key` (it was written). */
  wake(key: string): void {
    const set = this.#waiters.get(key)
    if (set === undefined) return
    this.#waiters.delete(key)
    for (const wake of set) wake()
  }

  /** Calls `wake` at the next write to one of `keys`; returns how to stop waiting. */
  waitFor(keys: readonly string[], wake: () => void): () => void {
    for (const key of keys) {
      let set = this.#waiters.get(key)
      if (set === undefined) {
        set = new Set()
        this.#waiters.set(key, set)
      }
      set.add(wake)
    }
    return () => {
      for (const key of keys) {
        const set = this.#waiters.get(key)
        set?.delete(wake)
        if (set?.size === 0) this.#waiters.delete(key)
      }
    }
  }

  /**
   * One step of a cursor over `snapshot()` (taken at cursor 0): up to `count` items and the next
   * cursor (0 when done). An unknown cursor ends the walk, as a stale one would on a server.
   */
  cursor<T>(cursor: number, count: number, snapshot: () => T[]): [number, T[]] {
    let state: { items: unknown[]; at: number } | undefined
    if (cursor === 0) {
      state = { items: snapshot(), at: 0 }
    } else {
      state = this.#cursors.get(cursor)
      this.#cursors.delete(cursor)
      if (state === undefined) return [0, []]
    }
    const items = state.items.slice(state.at, state.at + count) as T[]
    state.at += count
    if (state.at >= state.items.length) return [0, items]
    const id = this.#nextCursor++
    if (this.#nextCursor > 0xffffffff) this.#nextCursor = 1
    this.#cursors.set(id, state)
    if (this.#cursors.size > MAX_CURSORS) {
      const oldest = this.#cursors.keys().next().value
      if (oldest !== undefined) this.#cursors.delete(oldest)
    }
    return [id, items]
  }
}

/** Shared stores by name (`memory://name`), with how many connections use each. */
const REGISTRY = new Map<string, Store>()

/**
 * The store a connection uses: the shared one of `name` (made on first use), or a private one
 * when `name` is empty. Release it with `releaseStore`.
 */
export function acquireStore(name: string, maxBytes: number | null, sweepMs: number): Store {
  let store = name === '' ? undefined : REGISTRY.get(name)
  if (store === undefined) {
    store = new Store(maxBytes, sweepMs)
    if (name !== '') REGISTRY.set(name, store)
  }
  store.refs++
  return store
}

/** Lets go of a store; the last user of a shared one drops it (its data with it). */
export function releaseStore(name: string, store: Store): void {
  store.refs--
  if (store.refs > 0) return
  store.stop()
  if (name !== '' && REGISTRY.get(name) === store) REGISTRY.delete(name)
}
