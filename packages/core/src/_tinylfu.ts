// The W-TinyLFU room of the local tier: recency in a small window, frequency at the door of the
// main region (Einziger, Friedman & Manes, "TinyLFU: A Highly Efficient Cache Admission Policy";
// the shape Caffeine gives it). Learned from the paper and Caffeine's docs; no code copied.
import type { LocalEntry, Room } from './_lru.ts'
import { FrequencySketch, hashKey } from './_sketch.ts'

const WINDOW = 0
const PROBATION = 1
const PROTECTED = 2
const GONE = 3

/** Hits recorded between two writes at most; more are dropped (the buffer is lossy). */
const HIT_BUFFER = 256

/** One held entry, linked into the queue of its region (least recent first). */
class Node {
  prev: Node = this
  next: Node = this
  region = GONE
  constructor(
    readonly key: string,
    public entry: LocalEntry,
    readonly hash: number,
  ) {}
}

/** A region: a circular list of nodes around a sentinel, with its count and bytes. */
class Queue {
  readonly head = new Node('', { value: undefined, expiresAt: 0, bytes: 0 }, 0)
  count = 0
  bytes = 0

  /** The least recent node, or undefined. */
  first(): Node | undefined {
    return this.head.next === this.head ? undefined : this.head.next
  }

  /** The most recent node, or undefined. */
  last(): Node | undefined {
    return this.head.prev === this.head ? undefined : this.head.prev
  }

  push(node: Node, region: number): void {
    node.region = region
    node.prev = this.head.prev
    node.next = this.head
    this.head.prev.next = node
    this.head.prev = node
    this.count++
    this.bytes += node.entry.bytes
  }

  unlink(node: Node): void {
    node.prev.next = node.next
    node.next.prev = node.prev
    node.prev = node
    node.next = node
    node.region = GONE
    this.count--
    this.bytes -= node.entry.bytes
  }

  clear(): void {
    this.head.prev = this.head
    this.head.next = this.head
    this.count = 0
    this.bytes = 0
  }
}

/**
 * A room with the W-TinyLFU policy. A new entry enters a window (1% of the bounds at first, LRU; resized by hill climbing); the
 * window's oldest entry then moves to the main region's probation queue as a candidate, and when
 * the room is over its bounds the candidate and probation's oldest entry (the victim) meet at
 * the door: the one the frequency sketch saw less often lately leaves. A hit in probation
 * promotes the entry to the protected queue (80% of the main region, SLRU). A one-off scan so
 * barely gets past the window, and a loop larger than the room keeps part of itself.
 *
 * A hit stays one map lookup: it appends the node to a small lossy buffer, and the buffer is
 * applied (sketch counts, queue moves) by the next write, as Caffeine's read buffer is.
 */
export class TinyLfuRoom implements Room {
  readonly #index = new Map<string, Node>()
  readonly #window = new Queue()
  readonly #probation = new Queue()
  readonly #protected = new Queue()
  readonly #sketch: FrequencySketch
  readonly #maxEntries: number
  readonly #maxBytes: number
  #windowEntries = 1
  #windowBytes = 1
  #protectedEntries = 0
  #protectedBytes = 0
  /** The window's share of the bounds, tuned by `#climb`. */
  #share = 0.01
  /** The climber's step: how much the share moves next (its sign is the direction). */
  #step = 0.0625
  /** Reads per climbing sample, and the reads and misses of the current sample. */
  readonly #sample: number
  #reads = 0
  #misses = 0
  #lastHitRate = 0
  readonly #hits: Node[] = new Array<Node>(HIT_BUFFER)
  #pending = 0
  /** A fixed-seed generator for the rare admission of a warm candidate that lost. */
  #seed = 0x2545f491
  /** Entries dropped to make room (not expiry, not invalidation). */
  evictions = 0

  /** A room of at most `maxEntries` entries and `maxBytes` estimated bytes (`Infinity`: no bound). */
  constructor(maxEntries: number, maxBytes: number) {
    this.#maxEntries = maxEntries
    this.#maxBytes = maxBytes
    this.#resize()
    this.#sample = 10 * Math.min(Math.max(maxEntries, 100), 100_000)
    this.#sketch = new FrequencySketch(Number.isFinite(maxEntries) ? maxEntries : 1 << 22)
  }

  get size(): number {
    return this.#index.size
  }

  get bytes(): number {
    return this.#window.bytes + this.#probation.bytes + this.#protected.bytes
  }

  /** The entry at `key`, live or not, without recording a hit. */
  peek(key: string): LocalEntry | undefined {
    return this.#index.get(key)?.entry
  }

  /**
   * The live entry at `key`, its hit recorded for the next write; a dead one is dropped. `now`
   * defaults to `performance.now()`, read only for an entry that expires.
   */
  get(key: string, now?: number): LocalEntry | undefined {
    this.#reads++
    const node = this.#index.get(key)
    if (node === undefined) {
      this.#misses++
      return undefined
    }
    const entry = node.entry
    if (
      entry.expiresAt !== Number.POSITIVE_INFINITY &&
      entry.expiresAt <= (now ?? performance.now())
    ) {
      this.#remove(node)
      this.#misses++
      return undefined
    }
    if (this.#pending < HIT_BUFFER) this.#hits[this.#pending++] = node
    return entry
  }

  /** Stores `entry` at `key`, then evicts what the policy picks until the room is in bounds. */
  set(key: string, entry: LocalEntry): void {
    this.#drain()
    if (this.#reads >= this.#sample) this.#climb()
    const held = this.#index.get(key)
    if (entry.bytes > this.#maxBytes) {
      if (held !== undefined) this.#remove(held)
      return
    }
    if (held !== undefined) {
      // An update keeps the entry's place, as a hit does.
      const queue = this.#queue(held.region)
      queue.bytes += entry.bytes - held.entry.bytes
      held.entry = entry
      this.#hit(held)
    } else {
      const node = new Node(key, entry, hashKey(key))
      this.#index.set(key, node)
      this.#sketch.ensure(this.#index.size)
      this.#sketch.increment(node.hash)
      this.#window.push(node, WINDOW)
    }
    this.#evict()
  }

  /** Drops `key`; whether it was held. */
  delete(key: string): boolean {
    const node = this.#index.get(key)
    if (node === undefined) return false
    this.#remove(node)
    return true
  }

  /** Drops every entry; how many there were. */
  clear(): number {
    const n = this.#index.size
    for (const node of this.#index.values()) node.region = GONE
    this.#index.clear()
    this.#window.clear()
    this.#probation.clear()
    this.#protected.clear()
    this.#hits.fill(undefined as unknown as Node, 0, this.#pending)
    this.#pending = 0
    return n
  }

  /** The regions' bounds for the window's current share. */
  #resize(): void {
    this.#windowEntries = Math.max(1, Math.floor(this.#maxEntries * this.#share))
    this.#windowBytes = Math.max(1, Math.floor(this.#maxBytes * this.#share))
    this.#protectedEntries = Math.floor((this.#maxEntries - this.#windowEntries) * 0.8)
    this.#protectedBytes = Math.floor((this.#maxBytes - this.#windowBytes) * 0.8)
  }

  /**
   * Hill climbing, as Caffeine tunes its window: after each sample of reads, keep moving the
   * window's share the same way if the hit rate rose, turn back if it fell; the step shrinks as
   * the rate settles and grows again when the workload changes. A recency-biased workload so
   * gets a large window (LRU), a frequency-biased one a small one.
   */
  #climb(): void {
    const hitRate = 1 - this.#misses / this.#reads
    const delta = hitRate - this.#lastHitRate
    this.#lastHitRate = hitRate
    this.#reads = 0
    this.#misses = 0
    if (delta < 0) this.#step = -this.#step
    this.#share = Math.min(0.8, Math.max(0.01, this.#share + this.#step))
    this.#step = Math.abs(delta) >= 0.05 ? Math.sign(this.#step) * 0.0625 : this.#step * 0.98
    this.#resize()
  }

  #queue(region: number): Queue {
    return region === WINDOW
      ? this.#window
      : region === PROBATION
        ? this.#probation
        : this.#protected
  }

  #remove(node: Node): void {
    this.#index.delete(node.key)
    this.#queue(node.region).unlink(node)
  }

  /** Applies the hits recorded since the last write. */
  #drain(): void {
    const hits = this.#hits
    for (let i = 0; i < this.#pending; i++) {
      const node = hits[i] as Node
      hits[i] = undefined as unknown as Node
      if (node.region !== GONE) this.#hit(node)
    }
    this.#pending = 0
  }

  /** One access: counted by the sketch, and the node moved as its region's policy says. */
  #hit(node: Node): void {
    this.#sketch.increment(node.hash)
    if (node.region === WINDOW) {
      this.#window.unlink(node)
      this.#window.push(node, WINDOW)
    } else if (node.region === PROTECTED) {
      this.#protected.unlink(node)
      this.#protected.push(node, PROTECTED)
    } else {
      this.#probation.unlink(node)
      this.#protected.push(node, PROTECTED)
      // The protected queue overflowing demotes its oldest to probation's most recent end.
      while (
        this.#protected.count > 1 &&
        (this.#protected.count > this.#protectedEntries ||
          this.#protected.bytes > this.#protectedBytes)
      ) {
        const demoted = this.#protected.first() as Node
        this.#protected.unlink(demoted)
        this.#probation.push(demoted, PROBATION)
      }
    }
  }

  /** Moves the window's overflow to probation, then evicts until the room is in its bounds. */
  #evict(): void {
    let candidates = 0
    while (
      this.#window.count > 1 &&
      (this.#window.count > this.#windowEntries || this.#window.bytes > this.#windowBytes)
    ) {
      const node = this.#window.first() as Node
      this.#window.unlink(node)
      this.#probation.push(node, PROBATION)
      candidates++
    }
    while (this.#index.size > this.#maxEntries || this.bytes > this.#maxBytes) {
      const victim = this.#probation.first()
      const candidate = candidates > 0 ? this.#probation.last() : undefined
      let loser: Node
      if (victim === undefined) {
        // Probation is empty: the protected queue's oldest, else the window's.
        loser = (this.#protected.first() ?? this.#window.first()) as Node
      } else if (candidate === undefined || candidate === victim) {
        loser = victim
        if (candidate !== undefined) candidates--
      } else {
        loser = this.#admit(candidate, victim) ? victim : candidate
        if (loser === candidate) candidates--
      }
      this.#remove(loser)
      this.evictions++
    }
  }

  /** Whether `candidate` should replace `victim`: seen more often lately. */
  #admit(candidate: Node, victim: Node): boolean {
    const c = this.#sketch.estimate(candidate.hash)
    const v = this.#sketch.estimate(victim.hash)
    if (c > v) return true
    if (c <= 5) return false
    // A warm candidate that lost still gets in one time in 128, so that no crafted run of
    // colliding keys can pin a victim forever (Caffeine's defence against hash flooding).
    this.#seed ^= this.#seed << 13
    this.#seed ^= this.#seed >>> 17
    this.#seed ^= this.#seed << 5
    return (this.#seed & 127) === 0
  }
}
