// The sorted-set commands that come in pairs, one for each direction (`./sorted-sets.ts`):
// `zrange` / `zrevrange`, `zrangebyscore` / `zrevrangebyscore`, `zpopmin` / `zpopmax` and
// `zrank` / `zrevrank`, each pair one body.
import { checkInteger, checkOptions, flagOption, ZRANGEBYSCORE_KEYS } from '../_args.ts'
import { contextOf } from '../_context.ts'
import { encodeMatchAt } from '../_key-errors.ts'
import { own } from '../_own.ts'
import { numberOrNull } from '../_replies.ts'
import type { VersionOption } from '../cache-options.ts'
import { InvalidArgumentError } from '../errors.ts'
import type { RedisArgument } from '../types.ts'
import { decodeRemovedPairs } from './_removed.ts'
import { bound } from './_score-args.ts'
import type { ScoreBound, ZRangeByScoreOptions } from './sorted-set-options.ts'

/** `zrange` / `zrevrange`: members by rank, `[member, score]` pairs with `withScores`. */
export function byRank(
  cache: object,
  key: string,
  start: number,
  end: number,
  desc: boolean,
  options: VersionOption & { withScores?: boolean },
): Promise<unknown[]> {
  const method = desc ? 'zrevrange' : 'zrange'
  const withScores = flagOption(own(options, 'withScores'), method, 'withScores')
  const context = contextOf(cache)
  return context.run<unknown[]>(key, options, {
    access: 'read',
    label: method,
    build: (rkey) => {
      const args: RedisArgument[] = [
        'ZRANGE',
        rkey,
        String(checkInteger(start)),
        String(checkInteger(end)),
      ]
      if (desc) args.push('REV')
      if (withScores) args.push('WITHSCORES')
      return args
    },
    convert: (reply) =>
      withScores ? context.withScores(reply, key) : context.decodeAll(reply, key),
    fallback: [],
  })
}

/** `zrangebyscore` / `zrevrangebyscore` (whose bounds come `max` first). */
export function byScore(
  cache: object,
  command: 'ZRANGEBYSCORE' | 'ZREVRANGEBYSCORE',
  key: string,
  from: ScoreBound,
  to: ScoreBound,
  options: ZRangeByScoreOptions,
): Promise<unknown[]> {
  const method = command.toLowerCase()
  checkOptions(options, method, ZRANGEBYSCORE_KEYS)
  const offset = own(options, 'offset')
  const count = own(options, 'count')
  const withScores = flagOption(own(options, 'withScores'), method, 'withScores')
  if ((offset === undefined) !== (count === undefined)) {
    throw new InvalidArgumentError(`${method}() takes offset and count together`)
  }
  const context = contextOf(cache)
  return context.run<unknown[]>(key, options, {
    access: 'read',
    label: method,
    build: (rkey) => {
      const args: RedisArgument[] = [command, rkey, bound(from), bound(to)]
      if (withScores) args.push('WITHSCORES')
      if (offset !== undefined) {
        args.push('LIMIT', String(checkInteger(offset)), String(checkInteger(count as number)))
      }
      return args
    },
    convert: (reply) =>
      withScores ? context.withScores(reply, key) : context.decodeAll(reply, key),
    fallback: [],
  })
}

/** `zpopmin` / `zpopmax`: `[member, score]` pairs, `[]` for an empty or missing set. */
export function pop(
  cache: object,
  command: 'ZPOPMIN' | 'ZPOPMAX',
  key: string,
  count: number | undefined,
  options: VersionOption | undefined,
): Promise<Array<[unknown, number]>> {
  const context = contextOf(cache)
  const method = command.toLowerCase()
  return context.run(key, options, {
    method,
    access: 'write',
    build: (rkey) =>
      count === undefined ? [command, rkey] : [command, rkey, String(checkInteger(count))],
    // Removed from Redis before they are decoded: one that cannot be read is given back as the
    // stored bytes with the others (`decodeRemovedPairs`), which text may not hold.
    bytes: true,
    convert: (reply) => decodeRemovedPairs(context, reply, key, method),
    fallback: [],
  })
}

/** `zrank` / `zrevrank`: the rank of a member, or `null`. */
export function rank(
  cache: object,
  command: 'ZRANK' | 'ZREVRANK',
  key: string,
  member: unknown,
  options: VersionOption | undefined,
): Promise<number | null> {
  const context = contextOf(cache)
  return context.run(key, options, {
    method: command.toLowerCase(),
    access: 'read',
    build: (rkey) => [command, rkey, encodeMatchAt(context.codec, member, key)],
    convert: numberOrNull,
    fallback: null,
  })
}
