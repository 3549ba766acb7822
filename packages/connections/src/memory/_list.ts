// A list's value (`./lists.ts`): a deque (ring buffer, `_deque.ts`) per key, so that pushes and
// pops at either end are O(1), as in Redis; the pushes, takes and moves that the list commands and
// their blocking forms (`./_list-blocking.ts`) share.
import { is } from './_command.ts'
import { Deque } from './_deque.ts'
import { fail, SYNTAX } from './_reply.ts'
import { ELEMENT_OVERHEAD, type Entry, type Store } from './store.ts'

/** A list: a deque of its elements. */
export type List = Deque<string>

/** The list at `key`: `WRONGTYPE` for a key of another type. */
export function listEntry(store: Store, key: string, now: number): Entry | undefined {
  return store.typed(key, 'list', now)
}

/** Pushes `values` at one end of the list at `key` (made when missing); its new length. */
export function push(
  store: Store,
  key: string,
  values: readonly string[],
  left: boolean,
  now: number,
): number {
  const entry = store.create(key, 'list', now, () => new Deque<string>())
  const list = entry.value as List
  for (const value of values) {
    if (left) list.unshift(value)
    else list.push(value)
    store.grow(entry, value.length + ELEMENT_OVERHEAD)
  }
  store.wake(key)
  return list.length
}

/** Takes up to `count` items from one end of the list at `key`. */
export function take(
  store: Store,
  key: string,
  left: boolean,
  count: number,
  now: number,
): string[] | undefined {
  const entry = listEntry(store, key, now)
  if (entry === undefined) return undefined
  const list = entry.value as List
  const out: string[] = []
  for (let n = Math.min(count, list.length); n > 0; n--) {
    const value = (left ? list.shift() : list.pop()) as string
    store.grow(entry, -(value.length + ELEMENT_OVERHEAD))
    out.push(value)
  }
  store.dropIfEmpty(key, entry, list.length)
  return out
}

/** `LEFT` or `RIGHT` (any case): whether it is the left end. */
export function side(word: string): boolean {
  if (is(word, 'LEFT')) return true
  if (is(word, 'RIGHT')) return false
  throw fail(SYNTAX)
}

/** LMOVE's step: the moved value, or `null` when the source is empty. */
export function move(
  store: Store,
  source: string,
  destination: string,
  from: boolean,
  to: boolean,
  now: number,
): string | null {
  // As Redis: a missing source answers nil before the destination's type is looked at.
  const entry = listEntry(store, source, now)
  if (entry === undefined) return null
  listEntry(store, destination, now)
  if (source === destination) {
    // Rotated in place, as Redis pops and pushes on the one list: taking the last item first
    // would drop the key, and its expiry with it.
    const list = entry.value as List
    const value = (from ? list.shift() : list.pop()) as string
    if (to) list.unshift(value)
    else list.push(value)
    store.wake(destination)
    return value
  }
  const [value] = take(store, source, from, 1, now) ?? []
  if (value === undefined) return null
  push(store, destination, [value], to, now)
  return value
}
