// The option and argument types of the sorted-set commands (`./sorted-sets.ts`).
import type { VersionOption } from '../cache-options.ts'

/** Options of `zadd()`. */
export interface ZAddOptions extends VersionOption {
  /** Only add new members. */
  nx?: boolean
  /** Only update existing members. */
  xx?: boolean
  /** Only update when the new score is greater. */
  gt?: boolean
  /** Only update when the new score is less. */
  lt?: boolean
  /** Count changed members, not only added ones. */
  ch?: boolean
  /** Increment the score of the one given member and return the new score. */
  incr?: boolean
}

/** Options of `zrange()`. */
export interface ZRangeOptions extends VersionOption {
  /** Highest score first. */
  desc?: boolean
  /** Return `[member, score]` pairs. */
  withScores?: boolean
}

/** Options of `zrevrange()`. */
export interface ZRevRangeOptions extends VersionOption {
  /** Return `[member, score]` pairs. */
  withScores?: boolean
}

/** Options of `zrangebyscore()` and `zrevrangebyscore()`. */
export interface ZRangeByScoreOptions extends VersionOption {
  /** Skip this many members (with `count`). */
  offset?: number
  /** Return at most this many members (with `offset`). */
  count?: number
  /** Return `[member, score]` pairs. */
  withScores?: boolean
}

/** A score bound: a number or a Redis range string such as `'-inf'`, `'+inf'` or `'(5'`. */
export type ScoreBound = number | string

/** Sorted-set members with scores: `{ member: score }`, a `Map` of member to score, or `[score, member]` pairs. */
export type ZAddMembers =
  | Record<string, number>
  | Map<unknown, number>
  | ReadonlyArray<readonly [number, unknown]>
