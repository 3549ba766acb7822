// The sorted-set commands' argument shaping (`./sorted-sets.ts`): scores, range bounds, and
// `zadd`'s members.
import { checkNumber } from '../_args.ts'
import { checkMapping } from '../_many-args.ts'
import { reading } from '../_own.ts'
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

/**
 * A range bound's text: an optional `(` (exclusive), then a decimal number (`1.5`, `-2`, `+.5`,
 * `3e-2`) or an infinity (`inf`, `+inf`, `-inf`, `infinity`, in any case, as Redis's `strtod`
 * reads them).
 */
const BOUND = /^\(?(?:[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?inf(?:inity)?)$/i

/**
 * A range bound: a score, or a Redis range string (`'(5'`, `'-inf'`, `'+inf'`, `'2.5'`). Any
 * other string is refused with `InvalidArgumentError`: Redis reads bounds with C's `strtod`,
 * which takes `''` and `'('` as 0, skips leading spaces and reads hexadecimal (`'0x10'` is 16),
 * so such a string would silently mean another range.
 */
export function bound(value: ScoreBound): string {
  if (typeof value === 'string') {
    if (BOUND.test(value)) return value
    throw new InvalidArgumentError(
      `a score bound must be a number, '-inf', '+inf', or the text of a decimal number or infinity, after '(' for an exclusive bound (such as '(1.5'), got ${value === '' ? 'an empty string' : `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`}`,
    )
  }
  return scoreArgument(value)
}

/**
 * `zadd`'s members as `[score, member]` pairs, from an object or a `Map` of members to scores, or
 * an array of pairs; anything else, or one whose reading throws (a getter, a Proxy's trap), is
 * refused with `InvalidArgumentError`.
 */
export function scoredMembers(members: ZAddMembers): Array<readonly [unknown, unknown]> {
  return reading('the members given to zadd()', () => {
    if (Array.isArray(members)) {
      const pairs: Array<readonly [unknown, unknown]> = []
      for (const pair of members as readonly unknown[]) {
        if (!Array.isArray(pair) || pair.length !== 2) {
          throw new InvalidArgumentError(
            'zadd() takes its members as an object or a Map of members to scores, or an array of [score, member] pairs',
          )
        }
        pairs.push([pair[0], pair[1]])
      }
      return pairs
    }
    if (members instanceof Map) return [...members].map(([member, score]) => [score, member])
    checkMapping(members ?? {}, 'zadd', 'members to scores')
    return Object.entries(members ?? {}).map(([member, score]) => [score, member])
  })
}
