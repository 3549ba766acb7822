// The sorted-set commands. A sorted set's value — a member → score `Map` and an array kept
// sorted by (score, member bytes), as a skiplist orders them — is `./_zset.ts`.
import { arg, type Call, type CommandTable, is } from './_command.ts'
import {
  Double,
  fail,
  float,
  formatDouble,
  integer,
  NOT_FLOAT,
  positiveCount,
  type Reply,
  Scored,
  SYNTAX,
} from './_reply.ts'
import {
  createZset,
  lowerBound,
  parseBound,
  rankRange,
  removeSlice,
  scoreRange,
  type ZSet,
  zsetAdd,
  zsetOf,
  zsetRemove,
} from './_zset.ts'
import { parseCursor, scanOptions } from './keys.ts'
import type { Entry } from './store.ts'

function flat(items: ZSet['order'], withScores: boolean): Reply {
  if (withScores) return new Scored(items, true)
  return items.map((item) => item.member)
}

/**
 * The items [from, to) of `order`, walked backward when `rev`, with a LIMIT's `offset` items
 * skipped and at most `count` taken (all when negative; none when `offset` is negative): O(items
 * returned), not O(to − from).
 */
function walk(
  order: ZSet['order'],
  from: number,
  to: number,
  rev: boolean,
  offset = 0,
  count = -1,
): ZSet['order'] {
  if (offset < 0) return []
  const span = to - from - offset
  const take = count < 0 ? span : Math.min(span, count)
  const out: ZSet['order'] = []
  for (let n = 0; n < take; n++) {
    out.push(order[rev ? to - 1 - offset - n : from + offset + n] as ZSet['order'][number])
  }
  return out
}

type RangeType = 'RANK' | 'BYSCORE' | 'BYLEX'

/**
 * ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES], as Redis
 * 7.0's `zrangeGenericCommand` parses it: ZREVRANGE is this with the rank type and direction
 * already set, so that BYSCORE, BYLEX and REV are then syntax errors (as is one given twice).
 */
function zrange(call: Call, preset?: RangeType, presetRev = false): Reply {
  let type = preset
  let rev = presetRev
  let withScores = false
  let offset = 0
  let count = -1
  for (let i = 3; i < call.args.length; i++) {
    const word = arg(call, i).toUpperCase()
    if (word === 'WITHSCORES') withScores = true
    else if (word === 'LIMIT' && i + 2 < call.args.length) {
      offset = integer(arg(call, i + 1))
      count = integer(arg(call, i + 2))
      i += 2
    } else if (!presetRev && !rev && word === 'REV') rev = true
    else if (type === undefined && word === 'BYLEX') type = 'BYLEX'
    else if (type === undefined && word === 'BYSCORE') type = 'BYSCORE'
    else throw fail(SYNTAX)
  }
  type ??= 'RANK'
  // Redis tells a LIMIT by its count: `LIMIT 0 -1` passes with ranks.
  if (count !== -1 && type === 'RANK') {
    throw fail(
      'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX',
    )
  }
  if (withScores && type === 'BYLEX') {
    throw fail('ERR syntax error, WITHSCORES not supported in combination with BYLEX')
  }
  const limit: [number, number] = [offset, count]
  const [lo, hi] = rev ? [arg(call, 2), arg(call, 1)] : [arg(call, 1), arg(call, 2)]
  if (type === 'BYSCORE') return rangeByScore(call, lo, hi, rev, withScores, limit)
  if (type === 'BYLEX') return rangeByLex(call, lo, hi, rev, limit)
  const start = integer(arg(call, 1))
  const stop = integer(arg(call, 2))
  const zset = zsetOf(call.store, arg(call, 0), call.now)
  if (zset === undefined) return []
  const length = zset.order.length
  const [from, to] = rankRange(start, stop, length)
  // REV ranks count from the end: [from, to) of the reversed order is [length − to, length − from).
  const items = rev
    ? walk(zset.order, length - to, length - from, true)
    : walk(zset.order, from, to, false)
  return flat(items, withScores)
}

/** A lex bound as Redis's `zslParseLexRangeItem` reads it: `-`, `+`, `[member` or `(member`. */
interface LexBound {
  /** The member, or the least (`-`) or greatest (`+`) string. */
  value: string | -1 | 1
  exclusive: boolean
}

function parseLexBound(text: string): LexBound | undefined {
  if (text === '-') return { value: -1, exclusive: true }
  if (text === '+') return { value: 1, exclusive: true }
  if (text.startsWith('(')) return { value: text.slice(1), exclusive: true }
  if (text.startsWith('[')) return { value: text.slice(1), exclusive: false }
  return undefined
}

/** How `member` compares with a lex bound (as `sdscmplex`, bytes as memcmp orders them). */
function compareLex(member: string, bound: LexBound): number {
  if (bound.value === -1) return 1
  if (bound.value === 1) return -1
  return member < bound.value ? -1 : member > bound.value ? 1 : 0
}

/**
 * The members within [min, max] by member bytes, as Redis walks them (meant for members of one
 * score): the first not below `min`, then on while not above `max`; backward from `max` for REV.
 */
function rangeByLex(
  call: Call,
  min: string,
  max: string,
  rev: boolean,
  limit: [number, number],
): Reply {
  const lo = parseLexBound(min)
  const hi = parseLexBound(max)
  if (lo === undefined || hi === undefined) {
    throw fail('ERR min or max not valid string range item')
  }
  const zset = zsetOf(call.store, arg(call, 0), call.now)
  if (zset === undefined) return []
  const aboveMin = (member: string): boolean => {
    const c = compareLex(member, lo)
    return lo.exclusive ? c > 0 : c >= 0
  }
  const belowMax = (member: string): boolean => {
    const c = compareLex(member, hi)
    return hi.exclusive ? c < 0 : c <= 0
  }
  const order = zset.order
  // Binary searches over member order: exact when the members share one score.
  const first = (past: (member: string) => boolean, begin: number): number => {
    let a = begin
    let b = order.length
    while (a < b) {
      const mid = (a + b) >>> 1
      if (past((order[mid] as ZSet['order'][number]).member)) b = mid
      else a = mid + 1
    }
    return a
  }
  const from = first(aboveMin, 0)
  const to = first((member) => !belowMax(member), from)
  return flat(walk(order, from, to, rev, limit[0], limit[1]), false)
}

function rangeByScore(
  call: Call,
  min: string,
  max: string,
  rev: boolean,
  withScores: boolean,
  limit: [number, number] | undefined,
): Reply {
  const lo = parseBound(min)
  const hi = parseBound(max)
  const zset = zsetOf(call.store, arg(call, 0), call.now)
  if (zset === undefined) return []
  const [from, to] = scoreRange(zset, lo, hi)
  return flat(walk(zset.order, from, to, rev, limit?.[0], limit?.[1]), withScores)
}

function zrangeByScore(rev: boolean) {
  return (call: Call): Reply => {
    let withScores = false
    let limit: [number, number] | undefined
    for (let i = 3; i < call.args.length; i++) {
      if (is(arg(call, i), 'WITHSCORES')) withScores = true
      else if (is(arg(call, i), 'LIMIT') && i + 2 < call.args.length) {
        limit = [integer(arg(call, i + 1)), integer(arg(call, i + 2))]
        i += 2
      } else throw fail(SYNTAX)
    }
    const [min, max] = rev ? [arg(call, 2), arg(call, 1)] : [arg(call, 1), arg(call, 2)]
    return rangeByScore(call, min, max, rev, withScores, limit)
  }
}

function zadd(call: Call): Reply {
  const flags = new Set<string>()
  let i = 1
  for (; i < call.args.length; i++) {
    const word = arg(call, i).toUpperCase()
    if (['NX', 'XX', 'GT', 'LT', 'CH', 'INCR'].includes(word)) flags.add(word)
    else break
  }
  const pairs = call.args.slice(i)
  if (pairs.length === 0 || pairs.length % 2 !== 0) throw fail(SYNTAX)
  const [nx, xx, gt, lt, ch, incr] = ['NX', 'XX', 'GT', 'LT', 'CH', 'INCR'].map((f) => flags.has(f))
  if (nx && xx) throw fail('ERR XX and NX options at the same time are not compatible')
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    throw fail('ERR GT, LT, and/or NX options at the same time are not compatible')
  }
  if (incr && pairs.length > 2)
    throw fail('ERR INCR option supports a single increment-element pair')
  const scores = pairs.filter((_, j) => j % 2 === 0).map((s) => float(s, NOT_FLOAT))
  const key = arg(call, 0)
  let entry = call.store.typed(key, 'zset', call.now)
  if (entry === undefined && xx) return incr ? null : 0
  entry ??= createZset(call.store, key, call.now)
  const zset = entry.value as ZSet
  let added = 0
  let changed = 0
  let result: number | null = null
  for (let j = 0; j < scores.length; j++) {
    const member = pairs[j * 2 + 1] as string
    let score = scores[j] as number
    const old = zset.scores.get(member)
    if ((nx && old !== undefined) || (xx && old === undefined)) continue
    if (incr && old !== undefined) {
      score = old + score
      if (Number.isNaN(score)) throw fail('ERR resulting score is not a number (NaN)')
    }
    if (old !== undefined && ((gt && !(score > old)) || (lt && !(score < old)))) continue
    result = score
    if (old === undefined) added++
    else if (old !== score) changed++
    zsetAdd(call.store, entry, member, score)
  }
  call.store.dropIfEmpty(key, entry, zset.scores.size)
  if (incr) return result === null ? null : new Double(result)
  return ch ? added + changed : added
}

function pop(max: boolean) {
  return (call: Call): Reply => {
    if (call.args.length > 2) throw fail(SYNTAX)
    const count = call.args.length === 2 ? positiveCount(arg(call, 1)) : 1
    const key = arg(call, 0)
    const entry = call.store.typed(key, 'zset', call.now)
    if (entry === undefined) return []
    const zset = entry.value as ZSet
    const length = zset.order.length
    const n = Math.min(count, length)
    const out = max
      ? removeSlice(call.store, entry, length - n, length).reverse()
      : removeSlice(call.store, entry, 0, n)
    call.store.dropIfEmpty(key, entry, zset.scores.size)
    return new Scored(out, call.args.length === 2)
  }
}

function rank(rev: boolean) {
  return (call: Call): Reply => {
    if (call.args.length > 2) throw fail(SYNTAX)
    const zset = zsetOf(call.store, arg(call, 0), call.now)
    const score = zset?.scores.get(arg(call, 1))
    if (zset === undefined || score === undefined) return null
    const at = lowerBound(zset, score, arg(call, 1))
    return rev ? zset.order.length - 1 - at : at
  }
}

/** Removes the items [from, to) from the sorted set at the call's key; how many. */
function removeRange(call: Call, entry: Entry, from: number, to: number): number {
  const removed = removeSlice(call.store, entry, from, to).length
  call.store.dropIfEmpty(arg(call, 0), entry, (entry.value as ZSet).scores.size)
  return removed
}

export const ZSETS: CommandTable = {
  ZADD: { arity: -4, write: true, run: zadd },
  ZCARD: { arity: 2, run: (call) => zsetOf(call.store, arg(call, 0), call.now)?.scores.size ?? 0 },
  ZCOUNT: {
    arity: 4,
    run: (call) => {
      const [min, max] = [parseBound(arg(call, 1)), parseBound(arg(call, 2))]
      const zset = zsetOf(call.store, arg(call, 0), call.now)
      if (zset === undefined) return 0
      const [from, to] = scoreRange(zset, min, max)
      return to - from
    },
  },
  ZINCRBY: {
    arity: 4,
    write: true,
    run: (call) => {
      const delta = float(arg(call, 1), NOT_FLOAT)
      const entry = createZset(call.store, arg(call, 0), call.now)
      const old = (entry.value as ZSet).scores.get(arg(call, 2)) ?? 0
      const score = old + delta
      if (Number.isNaN(score)) {
        call.store.dropIfEmpty(arg(call, 0), entry, (entry.value as ZSet).scores.size)
        throw fail('ERR resulting score is not a number (NaN)')
      }
      zsetAdd(call.store, entry, arg(call, 2), score)
      return new Double(score)
    },
  },
  ZSCORE: {
    arity: 3,
    run: (call) => {
      const score = zsetOf(call.store, arg(call, 0), call.now)?.scores.get(arg(call, 1))
      return score === undefined ? null : new Double(score)
    },
  },
  ZMSCORE: {
    arity: -3,
    run: (call) => {
      const zset = zsetOf(call.store, arg(call, 0), call.now)
      return call.args.slice(1).map((m) => {
        const score = zset?.scores.get(m)
        return score === undefined ? null : new Double(score)
      })
    },
  },
  ZRANGE: { arity: -4, run: (call) => zrange(call) },
  ZRANGEBYSCORE: { arity: -4, run: zrangeByScore(false) },
  ZREVRANGEBYSCORE: { arity: -4, run: zrangeByScore(true) },
  ZREVRANGE: { arity: -4, run: (call) => zrange(call, 'RANK', true) },
  ZRANK: { arity: -3, run: rank(false) },
  ZREVRANK: { arity: -3, run: rank(true) },
  ZREM: {
    arity: -3,
    write: true,
    run: (call) => {
      const entry = call.store.typed(arg(call, 0), 'zset', call.now)
      if (entry === undefined) return 0
      const removed = call.args.slice(1).filter((m) => zsetRemove(call.store, entry, m)).length
      call.store.dropIfEmpty(arg(call, 0), entry, (entry.value as ZSet).scores.size)
      return removed
    },
  },
  ZREMRANGEBYRANK: {
    arity: 4,
    write: true,
    run: (call) => {
      const start = integer(arg(call, 1))
      const stop = integer(arg(call, 2))
      const entry = call.store.typed(arg(call, 0), 'zset', call.now)
      if (entry === undefined) return 0
      const [from, to] = rankRange(start, stop, (entry.value as ZSet).order.length)
      return removeRange(call, entry, from, to)
    },
  },
  ZREMRANGEBYSCORE: {
    arity: 4,
    write: true,
    run: (call) => {
      const [min, max] = [parseBound(arg(call, 1)), parseBound(arg(call, 2))]
      const entry = call.store.typed(arg(call, 0), 'zset', call.now)
      if (entry === undefined) return 0
      const [from, to] = scoreRange(entry.value as ZSet, min, max)
      return removeRange(call, entry, from, to)
    },
  },
  ZPOPMIN: { arity: -2, write: true, run: pop(false) },
  ZPOPMAX: { arity: -2, write: true, run: pop(true) },
  ZSCAN: {
    arity: -3,
    run: (call) => {
      const cursor = parseCursor(arg(call, 1))
      const { match, count } = scanOptions(call.args, 2, false)
      const zset = zsetOf(call.store, arg(call, 0), call.now)
      if (zset === undefined) return ['0', []]
      const [next, members] = call.store.scanMembers(zset.scores, cursor, count, () =>
        zset.order.map((i) => i.member),
      )
      const out: string[] = []
      for (const member of members) {
        const score = zset.scores.get(member)
        if (score !== undefined && (match === undefined || match(member)))
          out.push(member, formatDouble(score))
      }
      return [next, out]
    },
  },
}
