// `ttl` / `pttl` of a key whose value the local tier holds: answered from the Redis expiry read
// with the value, as Redis would answer them.
import type { StampedeEntry } from './_local-stampede.ts'
import type { LocalEntry } from './_lru.ts'

/**
 * What Redis's `PTTL` (`unit` `'ms'`) or `TTL` (`'s'`: rounded to the nearest second, as Redis
 * rounds) answers for the held `entry` at `now`, in `ValueStore.ttl`'s terms: `null` when the
 * value never expires. `undefined` when the entry cannot answer (none, or past its expiry): the
 * caller asks Redis. `now` and the held deadlines are `performance.now()` (monotonic: a step of
 * the system clock does not move them). The expiry (`until`) was counted from before the read
 * that found it, so it is never later than Redis's; the tracking connection drops the entry on
 * any change of it.
 */
export function heldTtl(
  entry: LocalEntry | undefined,
  now: number,
  unit: 's' | 'ms',
): number | null | undefined {
  if (entry === undefined || entry.expiresAt <= now) return undefined
  const until = (entry as StampedeEntry).until
  if (until === Number.POSITIVE_INFINITY) return null
  // A live entry expires no later than `until`: what is left is positive.
  const left = until - now
  if (!(left > 0)) return undefined
  // Whole milliseconds, as Redis answers (the monotonic clock has fractions), rounded down.
  const ms = Math.floor(left)
  return unit === 'ms' ? ms : Math.floor((ms + 500) / 1000)
}
