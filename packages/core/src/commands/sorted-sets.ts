// The sorted-set commands of a `Cache`: members go through the cache's codec, scores are numbers.
// The commands that come in pairs, one for each direction, share a body: `./_sorted-set-pairs.ts`.
import {
  checkInteger,
  checkOptions,
  flagOption,
  ZADD_KEYS,
  ZRANGE_KEYS,
  ZREVRANGE_KEYS,
} from '../_args.ts'
import { contextOf, type Implementation } from '../_context.ts'
import { encodeAt, encodeMatchAt } from '../_key-errors.ts'
import { own } from '../_own.ts'
import { answered } from '../_pipeline-families.ts'
import { integerReply, toArray, toScore, toScoreOrNull } from '../_replies.ts'
import type { OrIgnored, VersionOption } from '../cache-options.ts'
import { InvalidArgumentError } from '../errors.ts'
import type { RedisArgument } from '../types.ts'
import { type MemberScanOptions, scanKey } from './_scan.ts'
import { bound, scoreArgument, scoredMembers } from './_score-args.ts'
import { byRank, byScore, pop, rank } from './_sorted-set-pairs.ts'
import type {
  ScoreBound,
  ZAddMembers,
  ZAddOptions,
  ZRangeByScoreOptions,
  ZRangeOptions,
  ZRevRangeOptions,
} from './sorted-set-options.ts'

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
  /**
   * Removes and returns the member with the lowest score (or the `count` lowest), as
   * `[member, score]` pairs, lowest first; `[]` when the set is empty or missing.
   */
  zpopmin<T = unknown>(
    key: string,
    count?: number,
    options?: VersionOption,
  ): Promise<Array<[T, number]>>
  /** `zpopmin` from the other end: the highest scores, highest first. */
  zpopmax<T = unknown>(
    key: string,
    count?: number,
    options?: VersionOption,
  ): Promise<Array<[T, number]>>
  /** Members by rank from `start` to `end`, highest score first (`zrange` with `desc`). */
  zrevrange<T = unknown>(
    key: string,
    start: number,
    end: number,
    options?: ZRevRangeOptions & { withScores?: false },
  ): Promise<T[]>
  zrevrange<T = unknown>(
    key: string,
    start: number,
    end: number,
    options: ZRevRangeOptions & { withScores: true },
  ): Promise<Array<[T, number]>>
  /** Members with a score between `max` and `min` (that order, as Redis), highest first. */
  zrevrangebyscore<T = unknown>(
    key: string,
    max: ScoreBound,
    min: ScoreBound,
    options?: ZRangeByScoreOptions & { withScores?: false },
  ): Promise<T[]>
  zrevrangebyscore<T = unknown>(
    key: string,
    max: ScoreBound,
    min: ScoreBound,
    options: ZRangeByScoreOptions & { withScores: true },
  ): Promise<Array<[T, number]>>
  /**
   * Every `[member, score]`, a batch of `ZSCAN` at a time, without holding the whole set. A
   * member present throughout the walk is seen at least once; one added or removed during it
   * may or may not be.
   */
  zscan<T = unknown>(key: string, options?: MemberScanOptions): AsyncIterable<[T, number]>
}

/** The sorted-set commands, attached to `Cache`. */
export const sortedSetCommands = {
  async zadd(key: string, members: ZAddMembers, options: ZAddOptions = {}) {
    checkOptions(options, 'zadd', ZADD_KEYS)
    const nx = flagOption(own(options, 'nx'), 'zadd', 'nx')
    const xx = flagOption(own(options, 'xx'), 'zadd', 'xx')
    const gt = flagOption(own(options, 'gt'), 'zadd', 'gt')
    const lt = flagOption(own(options, 'lt'), 'zadd', 'lt')
    const ch = flagOption(own(options, 'ch'), 'zadd', 'ch')
    const incr = flagOption(own(options, 'incr'), 'zadd', 'incr')
    if (nx && xx) throw new InvalidArgumentError('zadd() takes nx or xx, not both')
    if (gt && lt) throw new InvalidArgumentError('zadd() takes gt or lt, not both')
    if (nx && (gt || lt)) throw new InvalidArgumentError('zadd() cannot combine nx with gt or lt')
    const context = contextOf(this)
    return context.run<number | null>(key, options, {
      access: 'write',
      label: 'zadd',
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
          args.push(scoreArgument(score), encodeAt(context.codec, member, key))
        }
        if (args.length === start)
          throw new InvalidArgumentError('zadd() needs at least one member')
        if (incr && args.length !== start + 2)
          throw new InvalidArgumentError('zadd() with incr takes one member')
        return args
      },
      convert: incr ? toScoreOrNull : integerReply,
      fallback: incr ? null : 0,
    })
  },

  zcard(key: string, options?: VersionOption) {
    return contextOf(this).run(key, options, {
      method: 'zcard',
      access: 'read',
      build: (rkey) => ['ZCARD', rkey],
      convert: integerReply,
      fallback: 0,
    })
  },

  zcount(key: string, min: ScoreBound, max: ScoreBound, options?: VersionOption) {
    return contextOf(this).run(key, options, {
      method: 'zcount',
      access: 'read',
      build: (rkey) => ['ZCOUNT', rkey, bound(min), bound(max)],
      convert: integerReply,
      fallback: 0,
    })
  },

  zincrby(key: string, amount: number, member: unknown, options?: VersionOption) {
    const context = contextOf(this)
    return context.runOrNull(key, options, {
      method: 'zincrby',
      access: 'write',
      build: (rkey) => [
        'ZINCRBY',
        rkey,
        scoreArgument(amount),
        encodeAt(context.codec, member, key),
      ],
      convert: toScore,
    })
  },

  async zrange(key: string, start: number, end: number, options: ZRangeOptions = {}) {
    checkOptions(options, 'zrange', ZRANGE_KEYS)
    return byRank(
      this,
      key,
      start,
      end,
      flagOption(own(options, 'desc'), 'zrange', 'desc'),
      options,
    )
  },

  async zrevrange(key: string, start: number, end: number, options: ZRevRangeOptions = {}) {
    checkOptions(options, 'zrevrange', ZREVRANGE_KEYS)
    return byRank(this, key, start, end, true, options)
  },

  async zrangebyscore(
    key: string,
    min: ScoreBound,
    max: ScoreBound,
    options: ZRangeByScoreOptions = {},
  ) {
    return byScore(this, 'ZRANGEBYSCORE', key, min, max, options)
  },

  async zrevrangebyscore(
    key: string,
    max: ScoreBound,
    min: ScoreBound,
    options: ZRangeByScoreOptions = {},
  ) {
    return byScore(this, 'ZREVRANGEBYSCORE', key, max, min, options)
  },

  zrank(key: string, member: unknown, options?: VersionOption) {
    return rank(this, 'ZRANK', key, member, options)
  },

  zrevrank(key: string, member: unknown, options?: VersionOption) {
    return rank(this, 'ZREVRANK', key, member, options)
  },

  async zrem(key: string, ...members: unknown[]) {
    if (members.length === 0) return answered(this, 0)
    const context = contextOf(this)
    return context.run(key, undefined, {
      access: 'write',
      label: 'zrem',
      build: (rkey) => ['ZREM', rkey, ...members.map((m) => encodeMatchAt(context.codec, m, key))],
      convert: integerReply,
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
      convert: integerReply,
      fallback: 0,
    })
  },

  zscore(key: string, member: unknown, options?: VersionOption) {
    const context = contextOf(this)
    return context.run(key, options, {
      method: 'zscore',
      access: 'read',
      build: (rkey) => ['ZSCORE', rkey, encodeMatchAt(context.codec, member, key)],
      // The zscores of one tick on one sorted set: one ZMSCORE (`coalesceReads`).
      send: context.coalesced?.ZSCORE,
      convert: toScoreOrNull,
      fallback: null,
    })
  },

  async zmscore(key: string, ...members: unknown[]) {
    if (members.length === 0) return answered(this, [])
    const context = contextOf(this)
    return context.run(key, undefined, {
      access: 'read',
      label: 'zmscore',
      build: (rkey) => [
        'ZMSCORE',
        rkey,
        ...members.map((m) => encodeMatchAt(context.codec, m, key)),
      ],
      convert: (reply) => toArray(reply).map(toScoreOrNull),
      fallback: members.map(() => null),
    })
  },

  zpopmin(key: string, count?: number, options?: VersionOption) {
    return pop(this, 'ZPOPMIN', key, count, options)
  },

  zpopmax(key: string, count?: number, options?: VersionOption) {
    return pop(this, 'ZPOPMAX', key, count, options)
  },

  zscan(key: string, options: MemberScanOptions = {}) {
    const context = contextOf(this)
    return scanKey(context, 'ZSCAN', key, options, (flat) => context.withScores(flat, key))
  },
} satisfies Implementation<SortedSetCommands>
