// The room of the local tier: decoded values by Redis key, least recently used first, bounded by
// a count and by an estimate of their size in memory.

/** One value held in memory. */
export interface LocalEntry {
  value: unknown
  /** `Date.now()` past which the entry is dead (the earlier of its Redis TTL and the tier's `ttl`). */
  expiresAt: number
  /** The estimated size of the decoded value, in bytes (`estimateSize`). */
  bytes: number
  /** Read since it was stored or last spared by eviction (the CLOCK bit; set by the room). */
  used?: boolean
}

/** A bounded map of decoded values by Redis key, as the local tier uses it. */
export interface Room {
  /** Entries held. */
  readonly size: number
  /** Their estimated bytes. */
  readonly bytes: number
  /** Entries dropped to make room (not expiry, not invalidation). */
  evictions: number
  /** The live entry at `key` (a dead one is dropped); `now` defaults to `Date.now()`. */
  get(key: string, now?: number): LocalEntry | undefined
  /** The entry at `key`, live or not, without counting a read of it. */
  peek(key: string): LocalEntry | undefined
  /** Stores `entry` at `key`, evicting beyond the bounds; an entry larger than them is not held. */
  set(key: string, entry: LocalEntry): void
  /** Drops `key`; whether it was held. */
  delete(key: string): boolean
  /** Drops every entry; how many there were. */
  clear(): number
}

/**
 * A least-recently-used map over a `Map`'s insertion order, approximated by CLOCK (second
 * chance): a hit only marks its entry as used, and eviction walks from the front, moving a used
 * entry to the end (clearing its mark) and dropping the first unused one. A hit is one map lookup
 * and no reordering: moving the entry on every hit (delete + set) cost 0.5 M hits/s with a
 * thousand entries against tens of millions for a lookup and a mark. Eviction is O(1) amortized
 * (each entry it moves was marked by a hit since).
 */
export class LruRoom implements Room {
  readonly #entries = new Map<string, LocalEntry>()
  readonly #maxEntries: number
  readonly #maxBytes: number
  #bytes = 0
  /** Entries dropped to make room (not expiry, not invalidation). */
  evictions = 0

  constructor(maxEntries: number, maxBytes: number) {
    this.#maxEntries = maxEntries
    this.#maxBytes = maxBytes
  }

  get size(): number {
    return this.#entries.size
  }

  get bytes(): number {
    return this.#bytes
  }

  /**
   * The live entry at `key`, marked as used; a dead one is dropped. `now` defaults to
   * `Date.now()`, read only for an entry that expires (the clock is a tenth of a hit's cost).
   */
  get(key: string, now?: number): LocalEntry | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt !== Number.POSITIVE_INFINITY && entry.expiresAt <= (now ?? Date.now())) {
      this.#entries.delete(key)
      this.#bytes -= entry.bytes
      return undefined
    }
    entry.used = true
    return entry
  }

  /** The entry at `key`, live or not, without marking it as used. */
  peek(key: string): LocalEntry | undefined {
    return this.#entries.get(key)
  }

  /** Stores `entry` at `key`, evicting the least recently used entries beyond the bounds. */
  set(key: string, entry: LocalEntry): void {
    this.delete(key)
    if (entry.bytes > this.#maxBytes) return
    entry.used = false
    this.#entries.set(key, entry)
    this.#bytes += entry.bytes
    while (this.#entries.size > this.#maxEntries || this.#bytes > this.#maxBytes) {
      const oldest = this.#entries.entries().next()
      if (oldest.done === true) break
      const [victim, held] = oldest.value
      this.#entries.delete(victim)
      if (held.used === true) {
        // Second chance: read since it was stored, so it goes to the back, unmarked.
        held.used = false
        this.#entries.set(victim, held)
        continue
      }
      this.#bytes -= held.bytes
      this.evictions++
    }
  }

  /** Drops `key`; whether it was held. */
  delete(key: string): boolean {
    const entry = this.#entries.get(key)
    if (entry === undefined) return false
    this.#entries.delete(key)
    this.#bytes -= entry.bytes
    return true
  }

  /** Drops every entry; how many there were. */
  clear(): number {
    const n = this.#entries.size
    this.#entries.clear()
    this.#bytes = 0
    return n
  }
}

/** Bytes of bookkeeping per entry (the map slot, the entry object, the key string). */
export const ENTRY_OVERHEAD = 96

/**
 * An estimate of the memory a decoded value takes in V8: 2 bytes a string character (the
 * two-byte worst case), 8 a number, an object's header and its property slots, a Buffer's
 * bytes. Shared and cyclic references are counted once; the walk stops after 10,000 nodes
 * (what is left is counted as 64 bytes a node), so a huge value costs bounded time.
 */
export function estimateSize(value: unknown): number {
  const seen = new Set<object>()
  const stack: unknown[] = [value]
  let total = 0
  let nodes = 0
  while (stack.length > 0) {
    const v = stack.pop()
    if (++nodes > 10_000) {
      total += (stack.length + 1) * 64
      break
    }
    switch (typeof v) {
      case 'string':
        total += 16 + 2 * v.length
        continue
      case 'number':
      case 'boolean':
      case 'undefined':
        total += 8
        continue
      case 'bigint':
        total += 16 + Math.ceil(v.toString(16).length / 2)
        continue
      case 'object':
        break
      default:
        total += 16
        continue
    }
    if (v === null) {
      total += 8
      continue
    }
    if (seen.has(v)) continue
    seen.add(v)
    if (ArrayBuffer.isView(v)) {
      total += 64 + v.byteLength
    } else if (Array.isArray(v)) {
      total += 32 + 8 * v.length
      for (const item of v) stack.push(item)
    } else if (v instanceof Map) {
      total += 64 + 32 * v.size
      for (const [k, item] of v) stack.push(k, item)
    } else if (v instanceof Set) {
      total += 64 + 16 * v.size
      for (const item of v) stack.push(item)
    } else if (v instanceof Date) {
      total += 32
    } else {
      const keys = Object.keys(v)
      total += 32 + 8 * keys.length
      for (const k of keys) {
        total += 16 + 2 * k.length
        stack.push((v as Record<string, unknown>)[k])
      }
    }
  }
  return total
}
