// What the local tier keeps for getOrSet's stampede options (`grace`, `earlyRecompute`), so that
// a hot key is decided on without a round trip.
import type { LocalEntry } from './_lru.ts'

/**
 * An entry with what getOrSet's stampede options decide on without a round trip: when the value
 * expires in Redis, and the factory's compute time stored with it (XFetch).
 */
export interface StampedeEntry extends LocalEntry {
  /** `performance.now()` when the value expires in Redis (`POSITIVE_INFINITY`: never). */
  until: number
  /** The compute time in ms; `null`: known to have none; `undefined`: not known here. */
  delta?: number | null
}

/** A value held with its Redis expiry and compute time (`LocalTier.peekStampede`). */
export interface HeldForStampede {
  value: unknown
  /** Milliseconds to its Redis expiry; `null`: it never expires. */
  pttl: number | null
  /** The factory's last compute time in ms, when one was stored. */
  delta: number | undefined
}

/** What getOrSet's read of a value, its expiry and its compute time found in Redis. */
export interface StampedeRead {
  /** The value decoded; `MISS` when the key is missing. */
  value: unknown
  /** Milliseconds to expiry; `null` when the key never expires or is gone. */
  pttl: number | null
  /** Whether the key exists without an expiry (`PTTL` -1). */
  persistent: boolean
  /** The compute time in ms, when stored. */
  delta: number | undefined
  /**
   * The least the value takes in memory (`Sized.stored`: the reply's length, or what it
   * decompressed to), which the local tier counts it as at least; 0 when not known.
   */
  stored?: number
}
