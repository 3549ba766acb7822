// The sorted-set commands' argument shaping (`./sorted-sets.ts`): scores, range bounds, and
// `zadd`'s members.
import { checkMapping, checkNumber } from '../_args.ts'
import { InvalidArgumentError } from '../errors.ts'
import type { ScoreBound, ZAddMembers } from './sorted-set-options.ts'

/** A score as Redis reads it: a number, `+inf` or `-inf`. */
export function scoreArgument(score: unknown): string {
  const n = checkNumber(score)
  return n === Number.POSITIVE_INFINITY
    ? '+inf'
    : n === Number.NEGATIVE_INFINITY
      ? '-inf'
      : String(n)
}

/** A range bound: a Redis range string as given (`'(5'`, `'-inf'`), or a score. */
export function bound(value: ScoreBound): string {
  if (typeof value === 'string') return value
  return scoreArgument(value)
}

/**
 * `zadd`'s members as `[score, member]` pairs, from an object or a `Map` of members to scores, or
 * an array of pairs; anything else is refused with `InvalidArgumentError`.
 */
export function* scoredMembers(members: ZAddMembers): Iterable<readonly [number, unknown]> {
  if (Array.isArray(members)) {
    for (const pair of members as readonly unknown[]) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new InvalidArgumentError(
          'zadd() takes its members as an object or a Map of members to scores, or an array of [score, member] pairs',
        )
      }
      yield pair as unknown as readonly [number, unknown]
    }
  } else if (members instanceof Map) {
    for (const [member, score] of members) yield [score, member]
  } else {
    checkMapping(members ?? {}, 'zadd', 'members to scores')
    for (const [member, score] of Object.entries(members ?? {})) yield [score, member]
  }
}
