// The room of the local tier: decoded values by Redis key, least recently used first, bounded by
// a count and by an estimate of their size in memory.

/** One value held in memory. */
export interface LocalEntry {
  value: unknown
  /**
   * `performance.now()` past which the entry is dead (the earlier of its Redis TTL and the tier's
   * `ttl`). Both are durations, measured on the monotonic clock: a step of the system clock does
   * not move it.
   */
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
  /** The live entry at `key` (a dead one is dropped); `now` defaults to `performance.now()`. */
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
   * `performance.now()`, read only for an entry that expires (the clock is a tenth of a hit's
   * cost).
   */
  get(key: string, now?: number): LocalEntry | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (
      entry.expiresAt !== Number.POSITIVE_INFINITY &&
      entry.expiresAt <= (now ?? performance.now())
    ) {
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

/**
 * Bytes of bookkeeping per entry (the map slot, the entry object, the key string, the eviction
 * policy's node), measured: a tier of 100,000 small numbers took 180–240 bytes of heap an entry,
 * 1.5–1.8× what it counted with 96 here.
 */
export const ENTRY_OVERHEAD = 192

/** Nodes `estimateSize` walks one by one; beyond them, it extrapolates from a sample. */
const WALK_NODES = 10_000
/** The parts of a container (or of what the walk left) `estimateSize` samples beyond the walk. */
const SAMPLE_PARTS = 8
/** What the walk left that `estimateSize` samples. */
const SAMPLE_LEFT = 64
/** Containers `estimateSize` looks into while sampling; beyond them, each part is the average. */
const SAMPLE_CONTAINERS = 2_000

/**
 * An estimate of the memory a decoded value takes in V8: 2 bytes a string character (the
 * two-byte worst case), 8 a number, an object's header and its property slots, a Buffer's (or
 * typed array's, or DataView's) whole `ArrayBuffer` — a view into a larger buffer keeps all of it
 * alive — counted once per value (`bufferBytes`). Shared and cyclic references are counted once.
 * So that a huge value costs bounded time, the walk stops after 10,000 nodes, and what it left
 * is extrapolated from a sample: each of up to 64 parts spread among them is estimated from up to
 * 8 of its own parts (recursively, up to 2,000 containers), and their mean counts for every part
 * left. Counting what is left as a fixed size would count a list of 100 lists of 10,000 strings
 * as about one of them.
 */
export function estimateSize(value: unknown): number {
  const seen = new Set<object>()
  const stack: unknown[] = [value]
  let total = 0
  let nodes = 0
  while (stack.length > 0) {
    if (++nodes > WALK_NODES) {
      const sampling: Sampling = { seen, left: SAMPLE_CONTAINERS, average: total / WALK_NODES }
      return total + sampledSize(stack.length, SAMPLE_LEFT, (i) => guessSize(stack[i], sampling))
    }
    const v = stack.pop()
    const size = leafSize(v)
    if (size !== undefined) {
      total += size
      continue
    }
    const object = v as object
    if (seen.has(object)) continue
    seen.add(object)
    if (ArrayBuffer.isView(object)) {
      total += 64 + bufferBytes(object, seen)
    } else if (object instanceof Date) {
      total += 32
    } else if (Array.isArray(object)) {
      total += 32 + 8 * object.length
      for (const item of object) stack.push(item)
    } else if (object instanceof Map) {
      total += 64 + 32 * object.size
      for (const [k, item] of object) stack.push(k, item)
    } else if (object instanceof Set) {
      total += 64 + 16 * object.size
      for (const item of object) stack.push(item)
    } else {
      const keys = Object.keys(object)
      total += 32 + 8 * keys.length
      for (const k of keys) {
        total += 16 + 2 * k.length
        stack.push((object as Record<string, unknown>)[k])
      }
    }
  }
  return total
}

/**
 * The bytes `view` keeps alive: its whole `ArrayBuffer`, not only the part it shows (a Buffer
 * sliced out of a larger one, such as Node's 8 KB pool for small Buffers, or a reply's socket
 * chunk, pins all of it); 0 when `seen` has the buffer (counted for another view of this value).
 */
function bufferBytes(view: ArrayBufferView, seen: Set<object>): number {
  const buffer = view.buffer
  if (seen.has(buffer)) return 0
  seen.add(buffer)
  return buffer.byteLength
}

/** The size of a primitive (or `null`); `undefined` for an object. */
function leafSize(v: unknown): number | undefined {
  switch (typeof v) {
    case 'string':
      return 16 + 2 * v.length
    case 'number':
    case 'boolean':
    case 'undefined':
      return 8
    case 'bigint':
      return 16 + Math.ceil(v.toString(16).length / 2)
    case 'object':
      return v === null ? 8 : undefined
    default:
      return 16
  }
}

/** The state of `estimateSize`'s sampling beyond its walk. */
interface Sampling {
  /** What the walk counted already (counted again as nothing). */
  readonly seen: Set<object>
  /** Containers still to look into; then each part counts as `average`. */
  left: number
  /** The walk's bytes a node. */
  readonly average: number
}

/**
 * The estimated size of `count` parts, from up to `samples` of them spread evenly (`partSize`
 * of their index): their mean times `count`.
 */
function sampledSize(count: number, samples: number, partSize: (i: number) => number): number {
  if (count === 0) return 0
  const k = Math.min(count, samples)
  let sum = 0
  for (let i = 0; i < k; i++) sum += partSize(Math.floor((i * count) / k))
  return (sum / k) * count
}

/** The estimated size of `v`, from a few of its parts (see `estimateSize`). */
function guessSize(v: unknown, sampling: Sampling): number {
  const size = leafSize(v)
  if (size !== undefined) return size
  const object = v as object
  if (sampling.seen.has(object)) return 0
  if (ArrayBuffer.isView(object)) return 64 + bufferBytes(object, sampling.seen)
  if (object instanceof Date) return 32
  const open = sampling.left-- > 0
  if (Array.isArray(object)) {
    const n = object.length
    const header = 32 + 8 * n
    if (!open) return header + n * sampling.average
    return header + sampledSize(n, SAMPLE_PARTS, (i) => guessSize(object[i], sampling))
  }
  if (object instanceof Map || object instanceof Set) {
    const n = object.size
    const isMap = object instanceof Map
    const header = 64 + (isMap ? 32 : 16) * n
    if (!open || n === 0) return header + n * (isMap ? 2 : 1) * sampling.average
    // The first few: a Map or a Set has no index to spread the sample by.
    let sum = 0
    let k = 0
    for (const [key, item] of object.entries()) {
      sum += (isMap ? guessSize(key, sampling) : 0) + guessSize(item, sampling)
      if (++k === SAMPLE_PARTS) break
    }
    return header + (sum / k) * n
  }
  const keys = Object.keys(object)
  const header = 32 + 8 * keys.length
  if (!open) return header + keys.length * (16 + sampling.average)
  return (
    header +
    sampledSize(keys.length, SAMPLE_PARTS, (i) => {
      const key = keys[i] as string
      return 16 + 2 * key.length + guessSize((object as Record<string, unknown>)[key], sampling)
    })
  )
}
