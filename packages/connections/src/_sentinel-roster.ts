// Which sentinels `SentinelWatch` keeps a connection to: the configured ones always; a discovered
// one while the sentinels name it, at most 64 of them.
import type { SentinelView } from './_sentinel-replies.ts'

/** The most discovered sentinels (those the views name, not configured) connected to at once. */
export const MAX_DISCOVERED_SENTINELS = 64
/** Rounds of views in a row that must leave a discovered sentinel unnamed before it is let go. */
export const UNNAMED_ROUNDS = 3
/** Milliseconds a discovered sentinel must go unnamed before it is let go. */
export const UNNAMED_MS = 1000

interface Entry {
  /** A configured sentinel: never let go. */
  readonly pinned: boolean
  /** When a view last named it (or it answered one). */
  namedAt: number
  /** Rounds of views in a row that did not name it. */
  missed: number
}

/**
 * The sentinels `SentinelWatch` connects to, and those it lets go. A sentinel keeps being listed
 * by the others (flagged down while it is) until a `SENTINEL RESET` forgets it: a discovered one
 * that no view names, and that answers none itself, for `UNNAMED_ROUNDS` rounds of views in a row
 * (`round`) and `UNNAMED_MS`, is gone (a pod replaced under a new address) and is let go — its
 * connection would otherwise be retried every 2 s for the life of the cache. The configured ones
 * (those added before any view came: the ones the discovery starts from) are kept always. At most
 * `MAX_DISCOVERED_SENTINELS` discovered ones are kept: one more takes the place of the one unnamed
 * longest, if one missed the last round, else is not connected to.
 */
export class SentinelRoster {
  readonly #entries = new Map<string, Entry>()
  #viewed = false

  /** Whether `key` (`host:port`) is listed: added, not let go since. */
  has(key: string): boolean {
    return this.#entries.has(key)
  }

  /**
   * Lists `key`, unless it is already. `undefined`: it may not be (64 discovered ones named in the
   * last round); else the keys let go to make room for it.
   */
  add(key: string): string[] | undefined {
    if (this.#entries.has(key)) return []
    const pinned = !this.#viewed
    const evicted: string[] = []
    if (!pinned && this.#discovered() >= MAX_DISCOVERED_SENTINELS) {
      let oldest: [string, Entry] | undefined
      for (const entry of this.#entries) {
        if (entry[1].pinned || entry[1].missed === 0) continue
        if (oldest === undefined || entry[1].namedAt < oldest[1].namedAt) oldest = entry
      }
      if (oldest === undefined) return undefined
      this.#entries.delete(oldest[0])
      evicted.push(oldest[0])
    }
    this.#entries.set(key, { pinned, namedAt: performance.now(), missed: 0 })
    return evicted
  }

  /** Marks the sentinels `views` name, and those that answered them, as named now. */
  named(views: readonly SentinelView[]): Set<string> {
    if (views.length > 0) this.#viewed = true
    const now = performance.now()
    const keys = new Set<string>()
    for (const view of views) {
      keys.add(view.from)
      for (const node of view.sentinels) keys.add(`${node.host}:${node.port}`)
    }
    for (const key of keys) {
      const entry = this.#entries.get(key)
      if (entry === undefined) continue
      entry.namedAt = now
      entry.missed = 0
    }
    return keys
  }

  /**
   * A round of views (of every sentinel connected; none: no round): marks those they name, and
   * returns the discovered sentinels to let go (unlisted already).
   */
  round(views: readonly SentinelView[]): string[] {
    if (views.length === 0) return []
    const named = this.named(views)
    const now = performance.now()
    const gone: string[] = []
    for (const [key, entry] of this.#entries) {
      if (entry.pinned || named.has(key)) continue
      entry.missed++
      if (entry.missed >= UNNAMED_ROUNDS && now - entry.namedAt >= UNNAMED_MS) gone.push(key)
    }
    for (const key of gone) this.#entries.delete(key)
    return gone
  }

  #discovered(): number {
    let n = 0
    for (const entry of this.#entries.values()) if (!entry.pinned) n++
    return n
  }
}
