// The orders `HSCAN`, `SSCAN` and `ZSCAN` walk hashes, sets and sorted sets in (`_walk-order.ts`):
// one per collection from its first walk on, handed on to the collection that replaces it under
// its key (`SUNIONSTORE s s x`, `RENAME tmp s`), so that a walk begun over the old one goes on
// over the new one and meets every element that was in both, as Redis's bucket cursors do.
import type { Kind } from './_expiries.ts'
import { type Members, SCAN_SLACK, WalkOrder } from './_walk-order.ts'

/** The elements `HSCAN`, `SSCAN` or `ZSCAN` walk in a value of `kind`; none for other kinds. */
export function membersOf(kind: Kind, value: unknown): Members | undefined {
  if (kind === 'set' || kind === 'hash') return value as Members
  if (kind === 'zset') return (value as { scores: Members }).scores
  return undefined
}

/** The walk orders of a store's collections, by collection object. */
export class MemberOrders {
  /** The order of each collection walked since it was made (or given one). */
  readonly #orders = new WeakMap<Members, WalkOrder>()
  /**
   * The order of the collection each one replaced under its key, until it is first walked: its
   * own is then made from it (`inherit`).
   */
  readonly #heirs = new WeakMap<Members, WalkOrder>()
  /** A new sequence number, above every one given (the store's). */
  readonly #next: () => number

  constructor(next: () => number) {
    this.#next = next
  }

  /** The order of `members`: its own, one made from the one it inherits, or none (never walked). */
  get(members: Members): WalkOrder | undefined {
    const own = this.#orders.get(members)
    if (own !== undefined) return own
    const from = this.#heirs.get(members)
    if (from === undefined) return undefined
    this.#heirs.delete(members)
    const order = inherit(from, members, this.#next)
    this.#orders.set(members, order)
    return order
  }

  /** Makes the order of `members`, which has none: its elements in its own order. */
  make(members: Members): WalkOrder {
    const order = new WalkOrder()
    for (const name of members.keys()) order.push(this.#next(), name)
    this.#orders.set(members, order)
    return order
  }

  /** The order a collection (`value`, of `kind`) hands on when replaced: its own or its heir's. */
  of(kind: Kind, value: unknown): WalkOrder | undefined {
    const members = membersOf(kind, value)
    if (members === undefined) return undefined
    return this.#orders.get(members) ?? this.#heirs.get(members)
  }

  /**
   * Hands `order`, of a collection just replaced under its key, to `value` (of `kind`), the one
   * replacing it: walks of its key go on over `value` from then on (a walk of its former key
   * ends, as that key is gone). Nothing to hand when the old one was never walked.
   */
  hand(order: WalkOrder | undefined, kind: Kind, value: unknown): void {
    const members = membersOf(kind, value)
    if (order === undefined || members === undefined || this.#orders.get(members) === order) return
    this.#orders.delete(members)
    this.#heirs.set(members, order)
  }

  /** Tells the walks over `members` that `name` was just added to it. */
  added(members: Members, name: string): void {
    const order = this.#orders.get(members)
    if (order === undefined) return
    order.push(this.#next(), name)
    this.compact(members, order)
  }

  /**
   * Drops the places of removed elements once they outnumber the live ones. An element removed
   * and added back has two places: the last is kept (a walk that passed the first still meets
   * it).
   */
  compact(members: Members, order: WalkOrder): void {
    if (order.seqs.length <= 2 * members.size + SCAN_SLACK) return
    order.keep(lastPlaces(order, members))
  }
}

/** Which places of `order` are the last of an element of `members` (1), by index. */
function lastPlaces(
  order: WalkOrder,
  members: Members,
): (name: string, seq: number, at: number) => boolean {
  const seen = new Set<string>()
  const last = new Uint8Array(order.seqs.length)
  for (let i = order.seqs.length - 1; i >= 0; i--) {
    const name = order.names[i] as string
    if (seen.has(name) || !members.has(name)) continue
    seen.add(name)
    last[i] = 1
  }
  return (_name, _seq, at) => last[at] === 1
}

/**
 * The order of `members`, which replaced a collection walked in `from`: each element that was
 * there keeps its (last) place, so that a cursor of a walk of the old one goes on over it, and
 * the others come after, with new numbers. A walk thus meets every element present throughout,
 * once; what it meets besides was added during it.
 */
function inherit(from: WalkOrder, members: Members, next: () => number): WalkOrder {
  const kept = lastPlaces(from, members)
  const order = new WalkOrder()
  const placed = new Set<string>()
  for (let i = 0; i < from.seqs.length; i++) {
    const name = from.names[i] as string
    if (!kept(name, 0, i)) continue
    order.push(from.seqs[i] as number, name)
    placed.add(name)
  }
  for (const name of members.keys()) if (!placed.has(name)) order.push(next(), name)
  return order
}
