// The keyspace of the in-memory backend: one `Map` of binary-string keys (no prototype to
// pollute), each entry typed and with its expiry. Expired keys are dropped when touched (lazy
// expiry) and by a sweep that visits only the keys with a TTL, earliest expiry first (Redis's
// active expiry); a `maxBytes` bound evicts the least recently used keys
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
  /** Its place in `SCAN`'s order: given when the key is made, kept while it lives. */
  seq: number
}

/** Bytes counted for a key besides its data (Redis's own overhead is of this order). */
export const KEY_OVERHEAD = 64
/** Bytes counted per element of a hash, list, set, sorted set or stream besides its data. */
export const ELEMENT_OVERHEAD = 24

/**
 * Milliseconds one run of the sweep works at most before it yields: Redis's active expiry takes
 * up to 25% of its 100 ms period. A run that leaves expired keys behind is followed by another
 * three times its length later (so the sweep takes at most a quarter of the CPU) instead of at the
 * next interval, until it has caught up.
 */
const SWEEP_BUDGET_MS = 25
/** Expired keys a run drops between two looks at the clock. */
const SWEEP_CLOCK_EVERY = 32
/** Superseded places the expiry queue holds before it is rebuilt (besides one per key with a TTL). */
const QUEUE_SLACK = 1024
/** Hashes, sets and sorted sets of up to this many elements are scanned whole, as listpacks are. */
const SCAN_WHOLE = 128
/** Dead places a walk order keeps before it is compacted (besides one per live element). */
const SCAN_SLACK = 1024

/**
 * The name of a dead place in the keyspace's walk order: a `String` object, equal (`===`) to no
 * key, which are primitive strings (and found by no `Map.get` of the keyspace).
 */
const DEAD_PLACE = new String('<dead>') as unknown as string

/**
 * The order `SCAN`, `HSCAN`, `SSCAN` and `ZSCAN` walk in: names by increasing sequence number,
 * given once per element (a key, a member, a field) when it is added. A cursor is the sequence
 * number to go on from (and where the walk ends), so it holds nothing and is never forgotten; an
 * element present from a walk's start to its end keeps its number and is met once. Places of
 * removed elements are dropped in bulk once they outnumber the live ones.
 */
class WalkOrder {
  seqs: number[] = []
  names: string[] = []
  /** Places known dead (the keyspace counts them; collections compact on size). */
  dead = 0

  /**
   * Marks the place numbered `seq` dead (the keyspace's: a deleted key), so that compacting needs
   * no look-up of its name.
   */
  kill(seq: number): void {
    const at = this.find(seq)
    if (this.seqs[at] === seq) this.names[at] = DEAD_PLACE
    this.dead++
  }

  /** Drops the places marked dead: one pass over the arrays, no look-up. */
  compact(): void {
    const { seqs, names } = this
    let kept = 0
    for (let i = 0; i < seqs.length; i++) {
      const name = names[i] as string
      if (name === DEAD_PLACE) continue
      seqs[kept] = seqs[i] as number
      names[kept] = name
      kept++
    }
    seqs.length = kept
    names.length = kept
    this.dead = 0
  }

  push(seq: number, name: string): void {
    this.seqs.push(seq)
    this.names.push(name)
  }

  /** The index of the first place numbered `seq` or more. */
  find(seq: number): number {
    const seqs = this.seqs
    let lo = 0
    let hi = seqs.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((seqs[mid] as number) < seq) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Keeps the places `live` says are, in order. */
  keep(live: (name: string, seq: number, at: number) => boolean): void {
    const seqs: number[] = []
    const names: string[] = []
    for (let i = 0; i < this.seqs.length; i++) {
      const seq = this.seqs[i] as number
      const name = this.names[i] as string
      if (live(name, seq, i)) {
        seqs.push(seq)
        names.push(name)
      }
    }
    this.seqs = seqs
    this.names = names
    this.dead = 0
  }
}

/**
 * The keys with a TTL, as a binary min-heap by expiry time (three parallel arrays) with lazy
 * deletion: a key's place is pushed whenever its expiry is set, and one that no longer matches
 * the keyspace (the key deleted, replaced, or given another expiry since) is skipped when it comes
 * up, and dropped in bulk once such places outnumber the live ones. `count` is exact: keys that
 * have a TTL now.
 */
class ExpiryQueue {
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
class Slot implements Entry {
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

/** The elements of a hash, set or sorted set, by name (a `Set`, or a `Map` from names). */
export type Members = ReadonlySet<string> | ReadonlyMap<string, unknown>

const POSITION_BITS = 53n
const POSITION_MASK = (1n << POSITION_BITS) - 1n

/**
 * A cursor: the low 53 bits the sequence number to go on from (never 0), the high 11 bits the
 * last one the walk returns, as `(floor(from / 2^e) + j) * 2^e` with `e` and `j` (< 32) in them.
 * That end is the highest number given when the walk started, rounded up by less than 1/15 of
 * the walk's span (elements added since may be returned), and stays exact from step to step: a
 * walk ends even while elements are added faster than it goes. It fits Redis's 64-bit cursors.
 */
function encodeCursor(from: number, end: number): string {
  let e = 0
  let j = Math.ceil(end) - from
  while (j > 31) {
    e++
    j = Math.ceil(end / 2 ** e) - Math.floor(from / 2 ** e)
  }
  return ((BigInt(e * 32 + j) << POSITION_BITS) | BigInt(from)).toString()
}

/** The sequence number a cursor goes on from, and the last it returns. */
function decodeCursor(cursor: bigint): [number, number] {
  const from = Number(cursor & POSITION_MASK)
  const code = Number(cursor >> POSITION_BITS)
  const unit = 2 ** (code >> 5)
  return [from, (Math.floor(from / unit) + (code & 31)) * unit]
}

/**
 * One step of a walk over `order` from `cursor` (0 to start, with `last` the highest number given
 * so far): up to `count` live names, and the next cursor (`'0'` when done). It looks at no more
 * than `10 × count` places, as Redis looks at no more than `10 × COUNT` empty buckets.
 */
function walkStep(
  order: WalkOrder,
  cursor: bigint,
  count: number,
  last: number,
  live: (name: string, seq: number) => boolean,
): [string, string[]] {
  const [from, end] = cursor === 0n ? [0, last] : decodeCursor(cursor)
  const { seqs, names } = order
  const out: string[] = []
  let i = order.find(from)
  const stop = Math.min(seqs.length, i + count * 10)
  for (; i < stop && out.length < count; i++) {
    const seq = seqs[i] as number
    if (seq > end) break
    const name = names[i] as string
    if (live(name, seq)) out.push(name)
  }
  const next = seqs[i]
  if (next === undefined || next > end) return ['0', out]
  return [encodeCursor(next, end), out]
}

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
  /** The last sequence number given (to a key, or to an element of a scanned collection). */
  #seq = 0
  /** The keys in `SCAN`'s order. */
  #order = new WalkOrder()
  /** The orders of the hashes, sets and sorted sets walked by `HSCAN`… since they were made. */
  #memberOrders = new WeakMap<Members, WalkOrder>()
  /** The keys with a TTL, earliest expiry first. */
  readonly #expiries: ExpiryQueue
  /** Milliseconds between two runs of the sweep (0: none). */
  #sweepMs: number
  /** The next run of the sweep, armed while keys with a TTL are queued. */
  #sweep: ReturnType<typeof setTimeout> | undefined
  /** Connections using this store; the sweep stops with the last. */
  refs = 0

  constructor(maxBytes: number | null, sweepMs: number) {
    this.maxBytes = maxBytes
    this.#sweepMs = sweepMs
    this.#expiries = new ExpiryQueue(this.keys, () => this.#arm(this.#sweepMs))
  }

  /** Keys with a TTL (`INFO keyspace`'s `expires`). */
  get expires(): number {
    return this.#expiries.count
  }

  /** Stops the sweep timer, for good. */
  stop(): void {
    clearTimeout(this.#sweep)
    this.#sweep = undefined
    this.#sweepMs = 0
  }

  #arm(ms: number): void {
    if (this.#sweepMs <= 0 || this.#sweep !== undefined) return
    const timer = setTimeout(() => this.#tick(), ms)
    timer.unref?.()
    this.#sweep = timer
  }

  /** One run of the sweep, then the next: sooner when it left expired keys behind. */
  #tick(): void {
    this.#sweep = undefined
    const started = performance.now()
    const done = this.sweep(Date.now(), started + SWEEP_BUDGET_MS)
    if (this.#expiries.size === 0) return
    const spent = performance.now() - started
    this.#arm(done ? this.#sweepMs : Math.min(this.#sweepMs, Math.max(1, 3 * spent)))
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
    const entry = new Slot(
      this.#expiries,
      key,
      kind,
      make(),
      0,
      key.length + KEY_OVERHEAD,
      this.#place(key),
    )
    this.keys.set(key, entry)
    this.used += entry.bytes
    return entry
  }

  /**
   * Sets `key` to a new entry (replacing any, its expiry included). A replaced key keeps its
   * place in `SCAN`'s order: it was there all along.
   */
  put(key: string, kind: Kind, value: unknown, bytes: number, expiresAt = 0): Entry {
    const old = this.keys.get(key)
    if (old !== undefined) this.#remove(key, old)
    const seq = old === undefined ? this.#place(key) : old.seq
    const entry = new Slot(
      this.#expiries,
      key,
      kind,
      value,
      expiresAt,
      key.length + KEY_OVERHEAD + bytes,
      seq,
    )
    this.keys.set(key, entry)
    this.used += entry.bytes
    this.#expiries.added(key, entry)
    return entry
  }

  /** Removes `key`; whether it was there (expired or not). */
  delete(key: string): boolean {
    const entry = this.keys.get(key)
    if (entry === undefined) return false
    this.#remove(key, entry)
    const order = this.#order
    order.kill(entry.seq)
    if (order.dead > SCAN_SLACK && order.dead > this.keys.size) order.compact()
    return true
  }

  #remove(key: string, entry: Entry): void {
    this.keys.delete(key)
    this.used -= entry.bytes
    this.#expiries.removed(entry as Slot)
    // As Redis: a consumer group's reader blocked on a stream learns that it is gone.
    if (entry.kind === 'stream') this.wake(key)
  }

  /** A new key's sequence number, its place at the end of `SCAN`'s order. */
  #place(key: string): number {
    const seq = ++this.#seq
    this.#order.push(seq, key)
    return seq
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
    this.#expiries.clear()
    // Sequence numbers go on from where they were: a walk begun before ends at once.
    this.#order = new WalkOrder()
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

  /**
   * Drops the keys expired at `now`, earliest first, until none is left or `performance.now()`
   * passes `deadline`; whether it got to the end. Only keys with a TTL are looked at, each once.
   */
  sweep(now = Date.now(), deadline = Number.POSITIVE_INFINITY): boolean {
    const queue = this.#expiries
    let n = 0
    while (queue.first <= now) {
      if (++n % SWEEP_CLOCK_EVERY === 0 && performance.now() > deadline) return false
      const key = queue.shift()
      if (key !== undefined) this.delete(key)
    }
    return true
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
   * One step of a `SCAN` walk from `cursor` (0 to start): up to `count` keys (expired ones
   * included, for the caller to drop) and the next cursor, `'0'` when done. It costs in
   * proportion to `count`, not to the keyspace, and returns every key present from the walk's
   * start to its end (a key deleted and added again may come twice; one added during it may not
   * come at all).
   */
  scanKeys(cursor: bigint, count: number): [string, string[]] {
    return walkStep(this.#order, cursor, count, this.#seq, (key, seq) => {
      return this.keys.get(key)?.seq === seq
    })
  }

  /**
   * One step of an `HSCAN`, `SSCAN` or `ZSCAN` walk over `members` from `cursor`, as `scanKeys`.
   * A collection of up to 128 elements comes whole in one step (`whole()`, in its own order), as
   * Redis answers for a listpack; a larger one is walked in the order its elements were added,
   * which the store keeps from its first walk on (`added` tells it of each new element).
   */
  scanMembers(
    members: Members,
    cursor: bigint,
    count: number,
    whole: () => string[],
  ): [string, string[]] {
    let order = this.#memberOrders.get(members)
    if (order === undefined) {
      // A collection with no order began after the walk (a cursor of another one): all of it was
      // added during the walk.
      if (cursor !== 0n) return ['0', []]
      if (members.size <= SCAN_WHOLE) return ['0', whole()]
      order = new WalkOrder()
      for (const name of members.keys()) order.push(++this.#seq, name)
      this.#memberOrders.set(members, order)
    } else if (cursor === 0n && members.size <= SCAN_WHOLE) {
      return ['0', whole()]
    }
    this.#compactMembers(members, order)
    return walkStep(order, cursor, count, this.#seq, (name) => members.has(name))
  }

  /** Tells the walks over `members` that `name` was just added to it. */
  added(members: Members, name: string): void {
    const order = this.#memberOrders.get(members)
    if (order === undefined) return
    order.push(++this.#seq, name)
    this.#compactMembers(members, order)
  }

  /**
   * Drops the places of removed elements once they outnumber the live ones. An element removed
   * and added back has two places: the last is kept (a walk that passed the first still meets
   * it).
   */
  #compactMembers(members: Members, order: WalkOrder): void {
    if (order.seqs.length <= 2 * members.size + SCAN_SLACK) return
    const kept = new Set<string>()
    const last = new Uint8Array(order.seqs.length)
    for (let i = order.seqs.length - 1; i >= 0; i--) {
      const name = order.names[i] as string
      if (kept.has(name) || !members.has(name)) continue
      kept.add(name)
      last[i] = 1
    }
    order.keep((_name, _seq, at) => last[at] === 1)
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
