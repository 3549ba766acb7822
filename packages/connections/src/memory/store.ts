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
  /** Its place in `SCAN`'s order: given when the key is made, kept while it lives. */
  seq: number
}

/** Bytes counted for a key besides its data (Redis's own overhead is of this order). */
export const KEY_OVERHEAD = 64
/** Bytes counted per element of a hash, list, set, sorted set or stream besides its data. */
export const ELEMENT_OVERHEAD = 24

/** Keys the sweep looks at per run. */
const SWEEP_BATCH = 2000
/** Hashes, sets and sorted sets of up to this many elements are scanned whole, as listpacks are. */
const SCAN_WHOLE = 128
/** Dead places a walk order keeps before it is compacted (besides one per live element). */
const SCAN_SLACK = 1024

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
    const entry: Entry = {
      kind,
      value: make(),
      expiresAt: 0,
      bytes: key.length + KEY_OVERHEAD,
      seq: this.#place(key),
    }
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
    const entry: Entry = { kind, value, expiresAt, bytes: key.length + KEY_OVERHEAD + bytes, seq }
    this.keys.set(key, entry)
    this.used += entry.bytes
    return entry
  }

  /** Removes `key`; whether it was there (expired or not). */
  delete(key: string): boolean {
    const entry = this.keys.get(key)
    if (entry === undefined) return false
    this.#remove(key, entry)
    const order = this.#order
    order.dead++
    if (order.dead > SCAN_SLACK && order.dead > this.keys.size) {
      order.keep((name, seq) => this.keys.get(name)?.seq === seq)
    }
    return true
  }

  #remove(key: string, entry: Entry): void {
    this.keys.delete(key)
    this.used -= entry.bytes
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
