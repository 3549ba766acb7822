// The keyspace of the in-memory backend: one `Map` of binary-string keys (no prototype to
// pollute), each entry typed and with its expiry. Expired keys are dropped when touched (lazy
// expiry) and by a sweep that visits only the keys with a TTL, earliest expiry first (Redis's
// active expiry, `_expiries.ts`); a `maxBytes` bound evicts the least recently used keys
// (`allkeys-lru`, in slices of time: `_evict.ts`). `SCAN` and its kin walk `_walk-order.ts`'s orders
// (the collections', `_member-orders.ts`, pass to what replaces them). Stores are private to one
// connection (`memory://`) or shared by name within the process (`memory://name`), through the
// registry at the bottom.
import { processWide } from '@cachex/core/internal'
import { BlockedCalls, type Waiter } from './_blocked.ts'
import { Evictor } from './_evict.ts'
import { type Entry, ExpiryQueue, type Kind, Slot } from './_expiries.ts'
import { MemberOrders } from './_member-orders.ts'
import { CONTAINER_OVERHEAD, KEY_OVERHEAD } from './_overheads.ts'
import { fail, OOM, WRONGTYPE } from './_reply.ts'
import { type Members, SCAN_SLACK, WalkOrder, walkStep } from './_walk-order.ts'

export type { Waiter } from './_blocked.ts'
export type { Entry, Kind } from './_expiries.ts'
export { ELEMENT_OVERHEAD, KEY_OVERHEAD } from './_overheads.ts'
export type { Members } from './_walk-order.ts'

/**
 * Most bytes (counted as the store counts them) of a reply that is not data the store holds, such
 * as a random sample with repeats, when the store has no `maxBytes`.
 */
const UNBOUNDED_REPLY_BYTES = 256 * 1024 * 1024

/**
 * Milliseconds one run of the sweep works at most before it yields: Redis's active expiry takes
 * up to 25% of its 100 ms period. A run that leaves expired keys behind is followed by another
 * three times its length later (so the sweep takes at most a quarter of the CPU) instead of at the
 * next interval, until it has caught up.
 */
const SWEEP_BUDGET_MS = 25
/** Expired keys a run drops between two looks at the clock. */
const SWEEP_CLOCK_EVERY = 32
/** Hashes, sets and sorted sets of up to this many elements are scanned whole, as listpacks are. */
const SCAN_WHOLE = 128

/** A keyspace. */
export class Store {
  /** Every key, least recently used first (a read or a write moves a key to the end). */
  readonly keys = new Map<string, Entry>()
  /** Approximate bytes held: keys, values, elements and their overheads. */
  used = 0
  /** The bound on `used`; `null` for none. */
  readonly maxBytes: number | null
  /** Blocked calls (`BLPOP`…) by the keys they wait on, and the keys written since served. */
  readonly #blocked = new BlockedCalls((key) => this.#kindAt(key))
  /** The last sequence number given (to a key, or to an element of a scanned collection). */
  #seq = 0
  /** The keys in `SCAN`'s order. */
  #order = new WalkOrder()
  /** The orders of the hashes, sets and sorted sets walked by `HSCAN`… since they were made. */
  readonly #members = new MemberOrders(() => ++this.#seq)
  /**
   * The key deleted last in the current command, with its place in `SCAN`'s order and what its
   * walks go on over (`HSCAN`…): a command that deletes a key and makes it again (`SUNIONSTORE s
   * s x`) replaces it, and walks meet it (and its elements) as if it had been there all along.
   */
  #deleted: { key: string; seq: number; kind: Kind; order: WalkOrder | undefined } | undefined
  /** The keys with a TTL, earliest expiry first. */
  readonly #expiries: ExpiryQueue
  /** Milliseconds between two runs of the sweep (0: none). */
  #sweepMs: number
  /** The next run of the sweep, armed while keys with a TTL are queued. */
  #sweep: ReturnType<typeof setTimeout> | undefined
  /** Connections using this store; the sweep stops with the last. */
  refs = 0
  /** `maxBytes` eviction. */
  readonly #evictor = new Evictor(this)

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
    this.#evictor.stop()
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
    // A stream gone serves its blocked group readers (with an error), as after a command.
    this.serveReady()
    if (this.#expiries.size === 0) return
    const spent = performance.now() - started
    this.#arm(done ? this.#sweepMs : Math.min(this.#sweepMs, Math.max(1, 3 * spent)))
  }

  /** The live entry of `key` (dropping it when expired), moved to the end of the LRU order. */
  get(key: string, now: number): Entry | undefined {
    const entry = this.keys.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt !== 0 && entry.expiresAt < now) {
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
    const value = make()
    const seq = this.#reuse(key, kind, value) ?? this.#place(key)
    const bytes = key.length + KEY_OVERHEAD + CONTAINER_OVERHEAD[kind]
    const entry = new Slot(this.#expiries, key, kind, value, 0, bytes, seq)
    this.keys.set(key, entry)
    this.used += entry.bytes
    return entry
  }

  /**
   * Sets `key` to a new entry (replacing any, its expiry included). A replaced key keeps its
   * place in `SCAN`'s order, and a replaced collection hands its walks (`HSCAN`…) on to `value`:
   * it was there all along.
   */
  put(key: string, kind: Kind, value: unknown, bytes: number, expiresAt = 0): Entry {
    const old = this.keys.get(key)
    if (old !== undefined) {
      this.#remove(key, old)
      if (old.kind === kind) this.#members.hand(this.#members.of(kind, old.value), kind, value)
    }
    const seq = old?.seq ?? this.#reuse(key, kind, value) ?? this.#place(key)
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
    // Compacted before, not after: the place of the key deleted last stays until the next delete.
    if (order.dead >= SCAN_SLACK && order.dead >= this.keys.size) order.compact()
    order.kill(entry.seq)
    const walked = this.#members.of(entry.kind, entry.value)
    this.#deleted = { key, seq: entry.seq, kind: entry.kind, order: walked }
    return true
  }

  /**
   * For `key` made again (as `value`, of `kind`) in the command that deleted it: the place it had
   * in `SCAN`'s order, which it keeps (none when compacted away since), and `value` takes over the
   * walks of the collection it replaces. `undefined` for any other key.
   */
  #reuse(key: string, kind: Kind, value: unknown): number | undefined {
    const deleted = this.#deleted
    if (deleted === undefined || deleted.key !== key) return undefined
    this.#deleted = undefined
    if (deleted.kind === kind) this.#members.hand(deleted.order, kind, value)
    return this.#order.revive(deleted.seq, key) ? deleted.seq : undefined
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

  /**
   * Refuses, with Redis's `OOM` error, to build a reply of `bytes` that the store does not hold
   * (a random sample with repeats): past `maxBytes` (256 MiB with no bound), as a write that large
   * is refused, rather than stall or exhaust the process building it.
   */
  checkReply(bytes: number): void {
    if (bytes > (this.maxBytes ?? UNBOUNDED_REPLY_BYTES)) throw fail(OOM)
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
    this.#deleted = undefined
    for (const key of this.#blocked.keys()) this.wake(key)
  }

  /**
   * Serves the calls blocked on the keys written, then evicts least recently used keys until
   * `used` is within `maxBytes`, as Redis's `allkeys-lru` does (the key just written too, when it
   * alone is over the bound), in slices of at most 25 ms a turn of the event loop; never cachex's
   * bookkeeping keys nor held locks (`_evict.ts`).
   */
  fit(): void {
    this.#evictor.fit()
  }

  /** Keeps the entry of `key` (a lock or semaphore just taken) from eviction while it lives. */
  hold(key: string): void {
    this.#evictor.hold(key)
  }

  /**
   * Drops the keys expired at `now`, earliest first, until none is left or `performance.now()`
   * passes `deadline`; whether it got to the end. Only keys with a TTL are looked at, each once.
   */
  sweep(now = Date.now(), deadline = Number.POSITIVE_INFINITY): boolean {
    const queue = this.#expiries
    let n = 0
    while (queue.first < now) {
      if (++n % SWEEP_CLOCK_EVERY === 0 && performance.now() > deadline) return false
      const key = queue.shift()
      if (key !== undefined) this.delete(key)
    }
    return true
  }

  /**
   * Tells the blocked calls waiting on `key` that it was written: they are served from it at the
   * next `serveReady()`, which the connection runs after each command (Redis's
   * `signalKeyAsReady`).
   */
  wake(key: string): void {
    this.#blocked.wake(key)
  }

  /**
   * Serves the blocked calls from the keys written since the last time, as Redis's
   * `handleClientsBlockedOnKeys` after each command (`_blocked.ts`): key by key in the order they
   * were first written, each key's calls first come first; the calls that take from a list are
   * served only while it lasts. A call that finds nothing for it keeps its place. A key deleted
   * so far and made again later was not there all along (`#deleted`).
   */
  serveReady(): void {
    this.#blocked.serveReady()
    this.#deleted = undefined
  }

  /**
   * Adds `waiter` at the end of the waiters of each of `keys` (once per key), to be called with
   * a key when that key was written; it stays there until the returned function removes it.
   * `takes` is the kind of value the call takes from (`'list'` for BLPOP…), none for a read.
   */
  waitFor(keys: readonly string[], waiter: Waiter, takes?: Kind): () => void {
    return this.#blocked.waitFor(keys, waiter, takes)
  }

  /**
   * The kind of the live value at `key`, without dropping it when expired or moving it in the
   * LRU order (the blocked call served from it reads it as a command does).
   */
  #kindAt(key: string): Kind | undefined {
    const entry = this.keys.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt !== 0 && entry.expiresAt < Date.now()) return undefined
    return entry.kind
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
   * which the store keeps from its first walk on (`added` tells it of each new element) and hands
   * on to a collection that replaces it under its key (`SUNIONSTORE s s x`, `RENAME tmp s`).
   */
  scanMembers(
    members: Members,
    cursor: bigint,
    count: number,
    whole: () => string[],
  ): [string, string[]] {
    let order = this.#members.get(members)
    if (order === undefined) {
      if (members.size <= SCAN_WHOLE) return ['0', whole()]
      // A cursor given for another collection (one replaced under the key with no walk to hand
      // on) starts the walk over: it may repeat elements, but skips none.
      cursor = 0n
      order = this.#members.make(members)
    } else if (cursor === 0n && members.size <= SCAN_WHOLE) {
      return ['0', whole()]
    }
    this.#members.compact(members, order)
    return walkStep(order, cursor, count, this.#seq, (name) => members.has(name))
  }

  /** Tells the walks over `members` that `name` was just added to it. */
  added(members: Members, name: string): void {
    this.#members.added(members, name)
  }
}

/** Shared stores by name (`memory://name`), with how many connections use each: one per process. */
const REGISTRY = processWide('@cachex/connections:memoryStores:1', () => new Map<string, Store>())

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
