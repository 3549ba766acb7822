// `maxBytes` eviction of the in-memory backend (Redis's `allkeys-lru`), and the keys it never
// evicts: cachex's own bookkeeping under `__cachex:` (fencing counters, stampede locks) and the
// keys of held locks and semaphores (`_held.ts`), which a default Redis (no `maxmemory`) never
// drops either.
// One run evicts least recently used keys until the store is within its bound or its time is up;
// the store goes on in later turns of the event loop (`store.ts`), as Redis 7 does past
// `maxmemory-eviction-tenacity`.
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
 * it evicts down to that at once.
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

  constructor(store: Evictable) {
    this.#store = store
  }

  /** Evicts until the store is within its bound, the budget of this turn allowing. */
  fit(): void {
    const store = this.#store
    const max = store.maxBytes
    if (max === null || store.used <= max) return
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
   * passes `deadline`. Keys never evicted are moved to the end of the order (they come last
   * from then on); each key is looked at once.
   */
  #evict(target: number, deadline: number): Evicted {
    const store = this.#store
    const keys = store.keys
    let left = keys.size
    let n = 0
    for (const [key, entry] of keys) {
      if (store.used <= target) return 'within'
      if (left-- === 0) break
      if (++n % CLOCK_EVERY === 0 && performance.now() > deadline) return 'more'
      if (this.#held.has(entry) || isBookkeeping(key)) {
        keys.delete(key)
        keys.set(key, entry)
      } else {
        store.delete(key)
      }
    }
    return store.used <= target ? 'within' : 'pinned'
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
