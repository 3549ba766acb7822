// The sorted-set commands of a `Cache`: members go through the cache's codec, scores are numbers.
import {
  checkInteger,
  checkNumber,
  checkOptions,
  ZADD_KEYS,
  ZRANGE_KEYS,
  ZRANGEBYSCORE_KEYS,
} from '../_args.ts'
import { contextOf, type Implementation } from '../_context.ts'
import { numberOrNull, toArray, toNumber, toScore, toScoreOrNull } from '../_replies.ts'
import type { OrIgnored, VersionOption } from '../cache-options.ts'
import { InvalidArgumentError } from '../errors.ts'
import type { RedisArgument } from '../types.ts'

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

/** Options of `zrangebyscore()`. */
export interface ZRangeByScoreOptions extends VersionOption {
  /** Skip this many members (with `count`). */
  offset?: number
  /** Return at most this many members (with `offset`). */
  count?: number
  /** Return `[member, score]` pairs. */
  withScores?: boolean
}

/** Options of `lpos()`. */
export interface LPosOptions extends VersionOption {
  /** Which match to return: 1 the first, -1 the last, 2 the second… */
  rank?: number
  /** Return up to this many positions (0 = all) as an array. */
  count?: number
  /** Compare at most this many elements. */
  maxlen?: number
}

/** A score bound: a number or a Redis range string such as `'-inf'`, `'+inf'` or `'(5'`. */
export type ScoreBound = number | string

/** Sorted-set members with scores: `{ member: score }`, a `Map` of member to score, or `[score, member]` pairs. */
export type ZAddMembers =
  | Record<string, number>
  | Map<unknown, number>
  | ReadonlyArray<readonly [number, unknown]>

/**

/** The sorted-set commands of a `Cache`. */
export interface SortedSetCommands<IgnoreErrors extends boolean = boolean> {
  /**
   * Adds members with scores. Resolves how many were added (changed, with `ch`), or with `incr`
   * the member's new score (`null` when `nx`/`xx` prevented it).
   */
  zadd(key: string, members: ZAddMembers, options?: ZAddOptions): Promise<number | null>
  /** How many members the sorted set has. */
  zcard(key: string, options?: VersionOption): Promise<number>
  /** How many members have a score between `min` and `max`. */
  zcount(key: string, min: ScoreBound, max: ScoreBound, options?: VersionOption): Promise<number>
  /** Adds `amount` to the score of `member`; resolves the new score. */
  zincrby(
    key: string,
    amount: number,
    member: unknown,
    options?: VersionOption,
  ): Promise<OrIgnored<IgnoreErrors, number>>
  /** Members by rank from `start` to `end` (inclusive; negative counts from the end). */
  zrange<T = unknown>(
    key: string,
    start: number,
    end: number,
    options?: ZRangeOptions & { withScores?: false },
  ): Promise<T[]>
  zrange<T = unknown>(
    key: string,
    start: number,
    end: number,
    options: ZRangeOptions & { withScores: true },
  ): Promise<Array<[T, number]>>
  /** Members with a score between `min` and `max`, lowest first. */
  zrangebyscore<T = unknown>(
    key: string,
    min: ScoreBound,
    max: ScoreBound,
    options?: ZRangeByScoreOptions & { withScores?: false },
  ): Promise<T[]>
  zrangebyscore<T = unknown>(
    key: string,
    min: ScoreBound,
    max: ScoreBound,
    options: ZRangeByScoreOptions & { withScores: true },
  ): Promise<Array<[T, number]>>
  /** The rank of `member`, lowest score first, or `null`. */
  zrank(key: string, member: unknown, options?: VersionOption): Promise<number | null>
  /** The rank of `member`, highest score first, or `null`. */
  zrevrank(key: string, member: unknown, options?: VersionOption): Promise<number | null>
  /**
   * Removes members; resolves how many existed. Members are any values, so this method takes no
   * options: it works on the cache's `version`.
   */
  zrem(key: string, ...members: unknown[]): Promise<number>
  /** Removes members by rank from `start` to `end`; resolves how many. */
  zremrangebyrank(key: string, start: number, end: number, options?: VersionOption): Promise<number>
  /** The score of `member`, or `null`. */
  zscore(key: string, member: unknown, options?: VersionOption): Promise<number | null>
  /**
   * The scores of `members`, `null` where one is missing. Members are any values, so this method
   * takes no options: it works on the cache's `version`.
   */
  zmscore(key: string, ...members: unknown[]): Promise<Array<number | null>>
}

/** The sorted-set commands, attached to `Cache`. */
export const sortedSetCommands = {
  async zadd(key: string, members: ZAddMembers, options: ZAddOptions = {}) {
    checkOptions(options, 'zadd', ZADD_KEYS)
    const { nx, xx, gt, lt, ch, incr } = options
    if (nx && xx) throw new InvalidArgumentError('zadd() takes nx or xx, not both')
    if (gt && lt) throw new InvalidArgumentError('zadd() takes gt or lt, not both')
    if (nx && (gt || lt)) throw new InvalidArgumentError('zadd() cannot combine nx with gt or lt')
    const context = contextOf(this)
    return context.run<number | null>(key, options, {
      access: 'write',
      build: (rkey) => {
        const args: RedisArgument[] = ['ZADD', rkey]
        if (nx) args.push('NX')
        if (xx) args.push('XX')
        if (gt) args.push('GT')
        if (lt) args.push('LT')
        if (ch) args.push('CH')
        if (incr) args.push('INCR')
        const start = args.length
        for (const [score, member] of scoredMembers(members)) {
          args.push(scoreArgument(score), context.codec.encode(member))
        }
        if (args.length === start)
          throw new InvalidArgumentError('zadd() needs at least one member')
        if (incr && args.length !== start + 2)
          throw new InvalidArgumentError('zadd() with incr takes one member')
        return args
      },
      convert: incr ? toScoreOrNull : toNumber,
      fallback: incr ? null : 0,
    })
  },

  zcard(key: string, options?: VersionOption) {
    return contextOf(this).run(key, options, {
      method: 'zcard',
      access: 'read',
      build: (rkey) => ['ZCARD', rkey],
      convert: toNumber,
      fallback: 0,
    })
  },

  zcount(key: string, min: ScoreBound, max: ScoreBound, options?: VersionOption) {
    return contextOf(this).run(key, options, {
      method: 'zcount',
      access: 'read',
      build: (rkey) => ['ZCOUNT', rkey, bound(min), bound(max)],
      convert: toNumber,
      fallback: 0,
    })
  },

  zincrby(key: string, amount: number, member: unknown, options?: VersionOption) {
    const context = contextOf(this)
    return context.runOrNull(key, options, {
      method: 'zincrby',
      access: 'write',
      build: (rkey) => ['ZINCRBY', rkey, scoreArgument(amount), context.codec.encode(member)],
      convert: toScore,
    })
  },

  async zrange(key: string, start: number, end: number, options: ZRangeOptions = {}) {
    checkOptions(options, 'zrange', ZRANGE_KEYS)
    const context = contextOf(this)
    return context.run<unknown[]>(key, options, {
      access: 'read',
      build: (rkey) => {
        const args: RedisArgument[] = [
          'ZRANGE',
          rkey,
          String(checkInteger(start)),
          String(checkInteger(end)),
        ]
        if (options.desc) args.push('REV')
        if (options.withScores) args.push('WITHSCORES')
        return args
      },
      convert: (reply) =>
        options.withScores ? context.withScores(reply, key) : context.decodeAll(reply, key),
      fallback: [],
    })
  },

  async zrangebyscore(
    key: string,
    min: ScoreBound,
    max: ScoreBound,
    options: ZRangeByScoreOptions = {},
  ) {
    checkOptions(options, 'zrangebyscore', ZRANGEBYSCORE_KEYS)
    const { offset, count, withScores } = options
    if ((offset === undefined) !== (count === undefined)) {
      throw new InvalidArgumentError('zrangebyscore() takes offset and count together')
    }
    const context = contextOf(this)
    return context.run<unknown[]>(key, options, {
      access: 'read',
      build: (rkey) => {
        const args: RedisArgument[] = ['ZRANGEBYSCORE', rkey, bound(min), bound(max)]
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
  },

  zrank(key: string, member: unknown, options?: VersionOption) {
    return rank(this, 'ZRANK', key, member, options)
  },

  zrevrank(key: string, member: unknown, options?: VersionOption) {
    return rank(this, 'ZREVRANK', key, member, options)
  },

  async zrem(key: string, ...members: unknown[]) {
    if (members.length === 0) return 0
    const context = contextOf(this)
    return context.run(key, undefined, {
      access: 'write',
      build: (rkey) => ['ZREM', rkey, ...members.map((m) => context.codec.encode(m))],
      convert: toNumber,
      fallback: 0,
    })
  },

  zremrangebyrank(key: string, start: number, end: number, options?: VersionOption) {
    return contextOf(this).run(key, options, {
      method: 'zremrangebyrank',
      access: 'write',
      build: (rkey) => [
        'ZREMRANGEBYRANK',
        rkey,
        String(checkInteger(start)),
        String(checkInteger(end)),
      ],
      convert: toNumber,
      fallback: 0,
    })
  },

  zscore(key: string, member: unknown, options?: VersionOption) {
    const context = contextOf(this)
    return context.run(key, options, {
      method: 'zscore',
      access: 'read',
      build: (rkey) => ['ZSCORE', rkey, context.codec.encode(member)],
      convert: toScoreOrNull,
      fallback: null,
    })
  },

  async zmscore(key: string, ...members: unknown[]) {
    if (members.length === 0) return []
    const context = contextOf(this)
    return context.run(key, undefined, {
      access: 'read',
      build: (rkey) => ['ZMSCORE', rkey, ...members.map((m) => context.codec.encode(m))],
      convert: (reply) => toArray(reply).map(toScoreOrNull),
      fallback: members.map(() => null),
    })
  },
} satisfies Implementation<SortedSetCommands>

function rank(
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
    build: (rkey) => [command, rkey, context.codec.encode(member)],
    convert: numberOrNull,
    fallback: null,
  })
}

function scoreArgument(score: unknown): string {
  const n = checkNumber(score)
  return n === Number.POSITIVE_INFINITY
    ? '+inf'
    : n === Number.NEGATIVE_INFINITY
      ? '-inf'
      : String(n)
}

function bound(value: ScoreBound): string {
  if (typeof value === 'string') return value
  return scoreArgument(value)
}

function* scoredMembers(members: ZAddMembers): Iterable<readonly [number, unknown]> {
  if (Array.isArray(members)) {
    yield* members as ReadonlyArray<readonly [number, unknown]>
  } else if (members instanceof Map) {
    for (const [member, score] of members) yield [score, member]
  } else {
    for (const [member, score] of Object.entries(members ?? {})) yield [score, member]
  }
}
