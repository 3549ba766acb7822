// A key of the in-memory keyspace (an `Entry`: its type, value, expiry and size), and the queue
// of the keys with a TTL that the store's sweep drops them from, earliest expiry first (Redis's
// active expiry). An entry tells the queue whenever its expiry is set (`EXPIRE`, `PERSIST`…).

/** The Redis type of a key, as `TYPE` names it. */
export type Kind = 'string' | 'hash' | 'list' | 'set' | 'zset' | 'stream'

/** One key: its type, value, expiry (ms since the epoch; 0 for none) and approximate size. */
export interface Entry {
  kind: Kind
  value: unknown
  expiresAt: number
  bytes: number
  /** Its place in `SCAN`'s order: given when the key is made, kept while it lives. */
  seq: number
}

/** Superseded places the expiry queue holds before it is rebuilt (besides one per key with a TTL). */
const QUEUE_SLACK = 1024

/**
 * The keys with a TTL, as a binary min-heap by expiry time (three parallel arrays) with lazy
 * deletion: a key's place is pushed whenever its expiry is set, and one that no longer matches
 * the keyspace (the key deleted, replaced, or given another expiry since) is skipped when it comes
 * up, and dropped in bulk once such places outnumber the live ones. `count` is exact: keys that
 * have a TTL now.
 */
export class ExpiryQueue {
  /** Keys with a TTL in the keyspace (Redis's `expires` dictionary size). */
  count = 0
  #at: number[] = []
  #keys: string[] = []
  #entries: Slot[] = []
  readonly #keyspace: ReadonlyMap<string, Entry>
  /** Called when the queue becomes non-empty (the sweep's timer is then armed). */
  readonly #onFirst: () => void

  constructor(keyspace: ReadonlyMap<string, Entry>, onFirst: () => void) {
    this.#keyspace = keyspace
    this.#onFirst = onFirst
  }

  get size(): number {
    return this.#at.length
  }

  /** The earliest expiry queued (possibly of a superseded place); `Infinity` when empty. */
  get first(): number {
    return this.#at[0] ?? Number.POSITIVE_INFINITY
  }

  /** A slot just put in the keyspace. */
  added(key: string, slot: Slot): void {
    const at = slot.expiresAt
    if (at === 0) return
    this.count++
    this.#push(at, key, slot)
  }

  /** A slot just taken out of the keyspace. */
  removed(slot: Slot): void {
    if (slot.expiresAt !== 0) this.count--
    this.#compactIfStale()
  }

  /** The expiry of `slot` changed from `before` (`EXPIRE`, `PERSIST`…). */
  retimed(key: string, slot: Slot, before: number): void {
    if (this.#keyspace.get(key) !== slot) return
    const at = slot.expiresAt
    if (before === 0 && at !== 0) this.count++
    else if (before !== 0 && at === 0) this.count--
    if (at !== 0 && at !== before) this.#push(at, key, slot)
    else this.#compactIfStale()
  }

  /**
   * Removes the earliest place; its key when the key is still in the keyspace with that expiry
   * (`undefined` for a superseded place).
   */
  shift(): string | undefined {
    const at = this.#at[0] as number
    const key = this.#keys[0] as string
    const slot = this.#entries[0] as Slot
    const lastAt = this.#at.pop() as number
    const lastKey = this.#keys.pop() as string
    const lastSlot = this.#entries.pop() as Slot
    if (this.#at.length > 0) this.#siftDown(0, lastAt, lastKey, lastSlot)
    return this.#live(at, key, slot) ? key : undefined
  }

  clear(): void {
    this.count = 0
    this.#at = []
    this.#keys = []
    this.#entries = []
  }

  #live(at: number, key: string, slot: Slot): boolean {
    return slot.expiresAt === at && this.#keyspace.get(key) === slot
  }

  #push(at: number, key: string, slot: Slot): void {
    const heap = this.#at
    let i = heap.length
    heap.push(at)
    this.#keys.push(key)
    this.#entries.push(slot)
    while (i > 0) {
      const parent = (i - 1) >>> 1
      const above = heap[parent] as number
      if (above <= at) break
      heap[i] = above
      this.#keys[i] = this.#keys[parent] as string
      this.#entries[i] = this.#entries[parent] as Slot
      i = parent
    }
    heap[i] = at
    this.#keys[i] = key
    this.#entries[i] = slot
    if (heap.length === 1) this.#onFirst()
    else this.#compactIfStale()
  }

  /** Places `(at, key, slot)` at `i` or below, keeping the heap order. */
  #siftDown(start: number, at: number, key: string, slot: Slot): void {
    const heap = this.#at
    const n = heap.length
    let i = start
    for (;;) {
      let child = 2 * i + 1
      if (child >= n) break
      const right = child + 1
      if (right < n && (heap[right] as number) < (heap[child] as number)) child = right
      if ((heap[child] as number) >= at) break
      heap[i] = heap[child] as number
      this.#keys[i] = this.#keys[child] as string
      this.#entries[i] = this.#entries[child] as Slot
      i = child
    }
    heap[i] = at
    this.#keys[i] = key
    this.#entries[i] = slot
  }

  /**
   * Drops the superseded places once they outnumber the live ones (and the slack): a cost in
   * proportion to the places, paid once per as many removals or re-expiries.
   */
  #compactIfStale(): void {
    if (this.#at.length <= 2 * this.count + QUEUE_SLACK) return
    const at: number[] = []
    const keys: string[] = []
    const entries: Slot[] = []
    const seen = new Set<Slot>()
    for (let i = 0; i < this.#at.length; i++) {
      const slot = this.#entries[i] as Slot
      const key = this.#keys[i] as string
      if (seen.has(slot) || !this.#live(this.#at[i] as number, key, slot)) continue
      seen.add(slot)
      at.push(this.#at[i] as number)
      keys.push(key)
      entries.push(slot)
    }
    this.#at = at
    this.#keys = keys
    this.#entries = entries
    // Every key with a TTL has exactly one live place: the count is that.
    this.count = at.length
    for (let i = (at.length >>> 1) - 1; i >= 0; i--) {
      this.#siftDown(i, at[i] as number, keys[i] as string, entries[i] as Slot)
    }
  }
}

/** An entry of the keyspace, which tells the expiry queue when its expiry is set. */
export class Slot implements Entry {
  kind: Kind
  value: unknown
  bytes: number
  seq: number
  #expiresAt: number
  readonly #key: string
  readonly #queue: ExpiryQueue

  constructor(
    queue: ExpiryQueue,
    key: string,
    kind: Kind,
    value: unknown,
    expiresAt: number,
    bytes: number,
    seq: number,
  ) {
    this.#queue = queue
    this.#key = key
    this.kind = kind
    this.value = value
    this.#expiresAt = expiresAt
    this.bytes = bytes
    this.seq = seq
  }

  get expiresAt(): number {
    return this.#expiresAt
  }

  set expiresAt(at: number) {
    const before = this.#expiresAt
    this.#expiresAt = at
    this.#queue.retimed(this.#key, this, before)
  }
}
