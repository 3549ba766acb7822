// Read-your-writes with a local tier over replicas: the keys this process wrote lately, whose
// reads go to the primary for a while. A replica applies a write after its primary, and the tier
// does not always hold what this process wrote (an invalidation of the key may arrive before the
// write's reply, and delete, incr, touch are never held): the next read could reach a replica
// that has not applied the write yet and return the value before it. The window is elapsed
// time, measured on the monotonic clock (`performance.now()`): a step of the system clock (an
// NTP correction, a VM resumed) neither ends it early nor stretches it.

/** How long reads of a key this process wrote go to the primary. */
export const RECENT_WRITE_MS = 2_000

/** Keys remembered at most; beyond, the oldest are forgotten first. */
const MAX_KEYS = 100_000

/**
 * The keys written in the last `RECENT_WRITE_MS`, oldest first (a `Map`'s insertion order, each
 * write moving its key to the end), so that forgetting the expired ones is a walk from the front.
 */
export class RecentWrites {
  readonly #until = new Map<string, number>()
  /**
   * Until when (`performance.now()`) every key counts as written (`noteAll`); 0 when no such time
   * is pending.
   */
  #allUntil = 0

  /** Set by `close()`: nothing is noted any more (a write in flight at close settles later). */
  #closed = false

  /** Notes a write of `rkey` now. */
  note(rkey: string): void {
    if (this.#closed) return
    const now = performance.now()
    const until = this.#until
    until.delete(rkey)
    until.set(rkey, now + RECENT_WRITE_MS)
    for (const [key, at] of until) {
      if (at > now && until.size <= MAX_KEYS) break
      until.delete(key)
    }
  }

  /**
   * Notes a write of keys not known one by one (a `deletePattern`, a flush): every key counts as
   * written for the next `RECENT_WRITE_MS`.
   */
  noteAll(): void {
    this.#allUntil = performance.now() + RECENT_WRITE_MS
  }

  /** Whether `rkey` was written in the last `RECENT_WRITE_MS`. */
  has(rkey: string): boolean {
    if (this.#allUntil !== 0) {
      if (this.#allUntil > performance.now()) return true
      this.#allUntil = 0
    }
    const at = this.#until.get(rkey)
    if (at === undefined) return false
    if (at > performance.now()) return true
    this.#until.delete(rkey)
    return false
  }

  /** Whether one of `rkeys` was. */
  hasAny(rkeys: readonly string[]): boolean {
    if (this.#until.size === 0 && this.#allUntil === 0) return false
    for (const rkey of rkeys) if (this.has(rkey)) return true
    return false
  }

  clear(): void {
    this.#until.clear()
    this.#allUntil = 0
  }

  /** Forgets every key, and notes none from now on: for a cache closed. */
  close(): void {
    this.#closed = true
    this.clear()
  }
}
