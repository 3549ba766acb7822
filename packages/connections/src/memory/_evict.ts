// `maxBytes` eviction of the in-memory backend (Redis's `allkeys-lru`), and the keys it never
// evicts: cachex's own bookkeeping under `__cachex:` (fencing counters, stampede locks) and the
// keys of held locks and semaphores (`_held.ts`), which a default Redis (no `maxmemory`) never
// drops either.
// One run evicts least recently used keys until the store is within its bound or its time is up;
// the store goes on in later turns of the event loop (`store.ts`), as Redis 7 does past
// `maxmemory-eviction-tenacity`. Runs go on where the last one stopped, over the keys' order:
// behind that place are only keys never evicted, so a store full of held locks is not walked
// whole on each write.
import type { Entry } from './_expiries.ts'

/**
 * Milliseconds of eviction in one turn of the event loop at most (as the expiry sweep's run): the
 * rest is done in the next turns, the store over its bound meanwhile.
 */
const EVICT_BUDGET_MS = 25
/** Keys a run looks at between two looks at the clock. */
const CLOCK_EVERY = 32

/** What a run of eviction left: within the bound, more to do, or only keys it never evicts. */
type Evicted = 'within' | 'more' | 'pinned'

/** What eviction needs of the store. */
export interface Evictable {
  /** Every key, least recently used first. */
  readonly keys: Map<string, Entry>
  readonly used: number
  readonly maxBytes: number | null
  /** Connections using the store (none: no run is armed). */
  readonly refs: number
  delete(key: string): boolean
  /** Serves the blocked calls of the keys written (or evicted) since the last time. */
  serveReady(): void
}

/**
 * The eviction of one store: least recently used keys go until `used` is within `maxBytes` (the
 * key just written too, when it alone is over the bound, as `allkeys-lru` evicts a key that keeps
 * growing on a server), never cachex's bookkeeping keys nor the keys of held locks and semaphores.
 * It works at most `EVICT_BUDGET_MS` in a turn of the event loop (then a few keys a write) and goes
 * on in the next turns, the store over its bound meanwhile (Redis 7 past
 * `maxmemory-eviction-tenacity` too); but never more than the bound over it: past twice `maxBytes`
 * it evicts down to that at once. A write costs the keys written since the last run, not the keys
 * it never evicts (they are walked once, then left behind its cursor). The blocked calls of the
 * keys a command wrote are served before it evicts (as Redis serves them after the command and
 * evicts before the next one).
 */
export class Evictor {
  readonly #store: Evictable
  /** The entries of held locks and semaphores (a new entry at their key is not held). */
  readonly #held = new WeakSet<Entry>()
  /** Milliseconds spent evicting in this turn of the event loop. */
  #spentMs = 0
  /** Whether the last run stopped for time with keys left to evict. */
  #behind = false
  /** The next turn's run: armed once a run happened in this turn, it resets the budget. */
  #next: ReturnType<typeof setImmediate> | undefined
  /**
   * Where eviction goes on in the keys' order (a live iterator of `keys`: it sees the keys
   * written since, which go to the end): every key behind it is one never evicted. `undefined`:
   * from the first key.
   */
  #cursor: MapIterator<[string, Entry]> | undefined
  /**
   * A key never evicted that is kept at the end of the order, right after the cursor, while the
   * store is over its bound with nothing left to evict: a run goes on from it over the keys
   * written since, and stops when it meets it again with nothing in between, without walking to
   * the end of the iterator (which would end it, and the next run would start from the first key).
   */
  #mark: { key: string; entry: Entry } | undefined
  /** Whether the key the cursor gave last was the mark (met again at once: nothing to evict). */
  #atMark = false
  /** Whether the blocked calls are being served before a run (their writes evict after it). */
  #serving = false

  constructor(store: Evictable) {
    this.#store = store
  }

  /**
   * Serves the blocked calls of the keys written (`serveReady`), then evicts until the store is
   * within its bound, the budget of this turn allowing.
   */
  fit(): void {
    const store = this.#store
    const max = store.maxBytes
    if (max === null || this.#serving) return
    // As Redis, which serves the calls blocked on the keys a command wrote right after it and
    // evicts only before the next command: an item pushed to a list a BLPOP waits on goes to it,
    // not to eviction. A call served writes (BLPOP pops, XREADGROUP grows a group) and asks for a
    // run in turn: it waits for this one (`#serving`), lest it evict a key another call is still
    // to be served from. Served here also within the bound, as a served call may take it past.
    this.#serving = true
    try {
      store.serveReady()
    } finally {
      this.#serving = false
    }
    if (store.used <= max) return
    this.#atMark = false
    const started = performance.now()
    if (store.used > 2 * max) this.#evict(2 * max, Number.POSITIVE_INFINITY)
    // Past this turn's budget, a few keys still go (up to `CLOCK_EVERY`, before the clock is
    // looked at): each write makes progress, also in a turn that never ends (calls awaited one
    // after another on memory://, whose replies are microtasks, never let the next turn come).
    const left = Math.max(0, EVICT_BUDGET_MS - this.#spentMs)
    const evicted = this.#evict(max, started + left)
    this.#spentMs += performance.now() - started
    this.#behind = evicted === 'more'
    this.#later()
  }

  /** Keeps the entry of `key` (a lock or semaphore just taken) from eviction while it lives. */
  hold(key: string): void {
    const entry = this.#store.keys.get(key)
    if (entry !== undefined) this.#held.add(entry)
  }

  /** Cancels the next turn's run, for good. */
  stop(): void {
    clearImmediate(this.#next)
    this.#next = undefined
    this.#cursor = undefined
    this.#mark = undefined
  }

  /** Arms the next turn's run (once): a new budget, and evicting on if this turn's fell short. */
  #later(): void {
    if (this.#next !== undefined || this.#store.refs <= 0) return
    const next = setImmediate(() => {
      this.#next = undefined
      this.#spentMs = 0
      if (!this.#behind) return
      this.fit()
      // An evicted stream serves its blocked group readers (with an error), as after a command.
      this.#store.serveReady()
    })
    next.unref?.()
    this.#next = next
  }

  /**
   * Evicts least recently used keys until `used` is at most `target`, or `performance.now()`
   * passes `deadline`, going on from where the last run stopped. Keys never evicted stay where
   * they are, behind the cursor: a later run looks only at the keys written (or read) since.
   */
  #evict(target: number, deadline: number): Evicted {
    const store = this.#store
    let n = 0
    for (;;) {
      if (store.used <= target) return 'within'
      if (++n % CLOCK_EVERY === 0 && performance.now() > deadline) return 'more'
      const next = this.#step()
      if (next === undefined) return store.used <= target ? 'within' : 'pinned'
      const [key, entry] = next
      if (!this.#held.has(entry) && !isBookkeeping(key)) store.delete(key)
    }
  }

  /**
   * The next key to look at, least recently used first; `undefined` when every key left is one
   * never evicted (the cursor then waits before the mark, or starts over from the first key next
   * time when there is no mark: the mark was deleted or replaced, or no key is left).
   */
  #step(): [string, Entry] | undefined {
    const keys = this.#store.keys
    for (;;) {
      this.#cursor ??= keys.entries()
      const next = this.#cursor.next()
      if (next.done === true) {
        this.#cursor = undefined
        this.#mark = undefined
        return undefined
      }
      const [key, entry] = next.value
      const mark = this.#mark
      if (mark === undefined) {
        // The first key never evicted met becomes the mark (the oldest: likely to stay longest).
        if (!this.#held.has(entry) && !isBookkeeping(key)) return next.value
        this.#mark = { key, entry }
        this.#atMark = false
      } else if (mark.entry !== entry || mark.key !== key) {
        this.#atMark = false
        return next.value
      }
      // The mark goes to the end: the cursor meets it again after the keys written since.
      keys.delete(key)
      keys.set(key, entry)
      if (this.#atMark) return undefined
      this.#atMark = true
    }
  }
}

/**
 * Whether `key` is cachex's own bookkeeping, never evicted: fencing counters (losing one would
 * hand out tokens that go backwards), stampede locks (short-lived). Stampede deltas
 * (`__cachex:delta:…`) are evicted as any key: they are advice (a lost one only delays an early
 * recomputation), and one is written per recomputed key, possibly with no expiry.
 */
export function isBookkeeping(key: string): boolean {
  return key.startsWith('__cachex:') && !key.startsWith('__cachex:delta:')
}
