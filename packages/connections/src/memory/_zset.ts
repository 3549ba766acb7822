// One sorted set's value (`./zsets.ts`): a member → score `Map` and an array kept sorted by
// (score, member bytes), as a skiplist orders them; adding, removing, and the binary searches by
// score bound and rank.
import { fail, strtod } from './_reply.ts'
import { ELEMENT_OVERHEAD, type Entry, type Store } from './store.ts'

/** One sorted set. */
export interface ZSet {
  scores: Map<string, number>
  /** Members in order, lowest score first (ties by member bytes). */
  order: Array<{ member: string; score: number }>
}

function before(a: { member: string; score: number }, score: number, member: string): boolean {
  return a.score < score || (a.score === score && a.member < member)
}

/** The index of the first item not ordered before (score, member). */
export function lowerBound(zset: ZSet, score: number, member: string): number {
  return firstWhere(zset, (item) => !before(item, score, member))
}

export function zsetOf(store: Store, key: string, now: number): ZSet | undefined {
  return store.typed(key, 'zset', now)?.value as ZSet | undefined
}

export function createZset(store: Store, key: string, now: number): Entry {
  return store.create(key, 'zset', now, () => ({ scores: new Map(), order: [] }))
}

/** Sets the score of `member`; whether it is new. */
export function zsetAdd(store: Store, entry: Entry, member: string, score: number): boolean {
  const zset = entry.value as ZSet
  const old = zset.scores.get(member)
  if (old !== undefined) {
    if (old === score) return false
    zset.order.splice(lowerBound(zset, old, member), 1)
  } else store.grow(entry, member.length + ELEMENT_OVERHEAD + 8)
  zset.scores.set(member, score)
  if (old === undefined) store.added(zset.scores, member)
  zset.order.splice(lowerBound(zset, score, member), 0, { member, score })
  return old === undefined
}

/** Removes `member`; whether it was there. */
export function zsetRemove(store: Store, entry: Entry, member: string): boolean {
  const zset = entry.value as ZSet
  const old = zset.scores.get(member)
  if (old === undefined) return false
  zset.scores.delete(member)
  zset.order.splice(lowerBound(zset, old, member), 1)
  store.grow(entry, -(member.length + ELEMENT_OVERHEAD + 8))
  return true
}

/** A score bound: `(1.5` exclusive, `-inf`, `+inf`, `1.5`. */
export interface Bound {
  value: number
  exclusive: boolean
}

/** A score bound as Redis's `zslParseRange` reads it: `(`, then whatever `strtod` reads whole. */
export function parseBound(text: string): Bound {
  const exclusive = text.startsWith('(')
  const value = strtod(exclusive ? text.slice(1) : text)
  if (value === undefined) throw fail('ERR min or max is not a float')
  return { value, exclusive }
}

function aboveMin(score: number, min: Bound): boolean {
  return min.exclusive ? score > min.value : score >= min.value
}

function belowMax(score: number, max: Bound): boolean {
  return max.exclusive ? score < max.value : score <= max.value
}

/** The index of the first item of `zset.order` that is `past` (every item after it is too). */
function firstWhere(zset: ZSet, past: (item: ZSet['order'][number]) => boolean): number {
  let lo = 0
  let hi = zset.order.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (past(zset.order[mid] as ZSet['order'][number])) hi = mid
    else lo = mid + 1
  }
  return lo
}

/**
 * The items of `zset` within [min, max] as the slice [from, to) of its order (empty when
 * `to <= from`): two binary searches, O(log n).
 */
export function scoreRange(zset: ZSet, min: Bound, max: Bound): [number, number] {
  const from = firstWhere(zset, (item) => aboveMin(item.score, min))
  const to = firstWhere(zset, (item) => !belowMax(item.score, max))
  return [from, Math.max(from, to)]
}

/** Start/stop ranks (negative from the end) as a [from, to] slice of `length` items. */
export function rankRange(start: number, stop: number, length: number): [number, number] {
  let from = start < 0 ? length + start : start
  let to = stop < 0 ? length + stop : stop
  if (from < 0) from = 0
  if (to >= length) to = length - 1
  return from > to || from >= length ? [0, 0] : [from, to + 1]
}

/** Removes the items [from, to) of the order of the sorted set in `entry` in one splice; them. */
export function removeSlice(store: Store, entry: Entry, from: number, to: number): ZSet['order'] {
  const zset = entry.value as ZSet
  if (to <= from) return []
  const items = zset.order.splice(from, to - from)
  let freed = 0
  for (const item of items) {
    zset.scores.delete(item.member)
    freed += item.member.length + ELEMENT_OVERHEAD + 8
  }
  store.grow(entry, -freed)
  return items
}
