// The order `SCAN`, `HSCAN`, `SSCAN` and `ZSCAN` walk in (`WalkOrder`), and one step of a walk
// over it from a cursor (`walkStep`): cursors are places in that order, so they hold nothing and
// are never forgotten.

/** The elements of a hash, set or sorted set, by name (a `Set`, or a `Map` from names). */
export type Members = ReadonlySet<string> | ReadonlyMap<string, unknown>

/** Dead places a walk order keeps before it is compacted (besides one per live element). */
export const SCAN_SLACK = 1024

/**
 * The name of a dead place in the keyspace's walk order: a `String` object, equal (`===`) to no
 * key, which are primitive strings (and found by no `Map.get` of the keyspace).
 */
const DEAD_PLACE = new String('<dead>') as unknown as string

/**
 * The order `SCAN`, `HSCAN`, `SSCAN` and `ZSCAN` walk in: names by increasing sequence number,
 * given once per element (a key, a member, a field) when it is added. A cursor is the sequence
 * number to go on from (and where the walk ends), so it holds nothing and is never forgotten; an
 * element present from a walk's start to its end keeps its number and is met once. Places of
 * removed elements are dropped in bulk once they outnumber the live ones.
 */
export class WalkOrder {
  seqs: number[] = []
  names: string[] = []
  /** Places known dead (the keyspace counts them; collections compact on size). */
  dead = 0

  /**
   * Marks the place numbered `seq` dead (the keyspace's: a deleted key), so that compacting needs
   * no look-up of its name.
   */
  kill(seq: number): void {
    const at = this.find(seq)
    if (this.seqs[at] === seq) this.names[at] = DEAD_PLACE
    this.dead++
  }

  /**
   * Gives the place numbered `seq`, marked dead, back to `name` (a key deleted and made again in
   * one command, as `SUNIONSTORE s s x` does, was there all along); whether it was still there.
   */
  revive(seq: number, name: string): boolean {
    const at = this.find(seq)
    if (this.seqs[at] !== seq || this.names[at] !== DEAD_PLACE) return false
    this.names[at] = name
    this.dead--
    return true
  }

  /** Drops the places marked dead: one pass over the arrays, no look-up. */
  compact(): void {
    const { seqs, names } = this
    let kept = 0
    for (let i = 0; i < seqs.length; i++) {
      const name = names[i] as string
      if (name === DEAD_PLACE) continue
      seqs[kept] = seqs[i] as number
      names[kept] = name
      kept++
    }
    seqs.length = kept
    names.length = kept
    this.dead = 0
  }

  push(seq: number, name: string): void {
    this.seqs.push(seq)
    this.names.push(name)
  }

  /** The index of the first place numbered `seq` or more. */
  find(seq: number): number {
    const seqs = this.seqs
    let lo = 0
    let hi = seqs.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((seqs[mid] as number) < seq) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Keeps the places `live` says are, in order. */
  keep(live: (name: string, seq: number, at: number) => boolean): void {
    const seqs: number[] = []
    const names: string[] = []
    for (let i = 0; i < this.seqs.length; i++) {
      const seq = this.seqs[i] as number
      const name = this.names[i] as string
      if (live(name, seq, i)) {
        seqs.push(seq)
        names.push(name)
      }
    }
    this.seqs = seqs
    this.names = names
    this.dead = 0
  }
}

const POSITION_BITS = 53n
const POSITION_MASK = (1n << POSITION_BITS) - 1n

/**
 * A cursor: the low 53 bits the sequence number to go on from (never 0), the high 11 bits the
 * last one the walk returns, as `(floor(from / 2^e) + j) * 2^e` with `e` and `j` (< 32) in them.
 * That end is the highest number given when the walk started, rounded up by less than 1/15 of
 * the walk's span (elements added since may be returned), and stays exact from step to step: a
 * walk ends even while elements are added faster than it goes. It fits Redis's 64-bit cursors.
 */
function encodeCursor(from: number, end: number): string {
  let e = 0
  let j = Math.ceil(end) - from
  while (j > 31) {
    e++
    j = Math.ceil(end / 2 ** e) - Math.floor(from / 2 ** e)
  }
  return ((BigInt(e * 32 + j) << POSITION_BITS) | BigInt(from)).toString()
}

/** The sequence number a cursor goes on from, and the last it returns. */
function decodeCursor(cursor: bigint): [number, number] {
  const from = Number(cursor & POSITION_MASK)
  const code = Number(cursor >> POSITION_BITS)
  const unit = 2 ** (code >> 5)
  return [from, (Math.floor(from / unit) + (code & 31)) * unit]
}

/**
 * One step of a walk over `order` from `cursor` (0 to start, with `last` the highest number given
 * so far): up to `count` live names, and the next cursor (`'0'` when done). It looks at no more
 * than `10 × count` places, as Redis looks at no more than `10 × COUNT` empty buckets.
 */
export function walkStep(
  order: WalkOrder,
  cursor: bigint,
  count: number,
  last: number,
  live: (name: string, seq: number) => boolean,
): [string, string[]] {
  const [from, end] = cursor === 0n ? [0, last] : decodeCursor(cursor)
  const { seqs, names } = order
  const out: string[] = []
  let i = order.find(from)
  const stop = Math.min(seqs.length, i + count * 10)
  for (; i < stop && out.length < count; i++) {
    const seq = seqs[i] as number
    if (seq > end) break
    const name = names[i] as string
    if (live(name, seq)) out.push(name)
  }
  const next = seqs[i]
  if (next === undefined || next > end) return ['0', out]
  return [encodeCursor(next, end), out]
}
