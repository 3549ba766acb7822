// An ordered map of stream IDs (the pending entries lists of consumer groups): a `Map` for the
// values and the IDs in sorted chunks, so that adding or removing an ID anywhere costs
// O(√n) at worst (a splice inside one chunk) and finding the first ID at or after another
// O(log n), as a radix tree walk would on a server.

/** IDs per chunk before it is split in two. */
const CHUNK = 512

/** IDs (128-bit, as `bigint`) in ascending order, each with a value. */
export class IdMap<V> {
  readonly #values = new Map<bigint, V>()
  /** The IDs, ascending, in non-empty chunks. */
  readonly #chunks: bigint[][] = []

  get size(): number {
    return this.#values.size
  }

  get(id: bigint): V | undefined {
    return this.#values.get(id)
  }

  has(id: bigint): boolean {
    return this.#values.has(id)
  }

  /** Sets the value of `id`, adding it in order when new. */
  set(id: bigint, value: V): void {
    if (this.#values.has(id)) {
      this.#values.set(id, value)
      return
    }
    this.#values.set(id, value)
    const chunks = this.#chunks
    let at = this.#chunkOf(id)
    if (at === chunks.length) {
      if (at === 0) {
        chunks.push([id])
        return
      }
      at--
    }
    const chunk = chunks[at] as bigint[]
    chunk.splice(lowerBound(chunk, id), 0, id)
    if (chunk.length > 2 * CHUNK) chunks.splice(at + 1, 0, chunk.splice(CHUNK))
  }

  /** Removes `id`; whether it was there. */
  delete(id: bigint): boolean {
    if (!this.#values.delete(id)) return false
    const at = this.#chunkOf(id)
    const chunk = this.#chunks[at] as bigint[]
    chunk.splice(lowerBound(chunk, id), 1)
    if (chunk.length === 0) this.#chunks.splice(at, 1)
    return true
  }

  /** The lowest ID. */
  first(): bigint | undefined {
    return this.#chunks[0]?.[0]
  }

  /** The highest ID. */
  last(): bigint | undefined {
    return this.#chunks.at(-1)?.at(-1)
  }

  /** The lowest ID at or after `id`. */
  ceiling(id: bigint): bigint | undefined {
    const chunk = this.#chunks[this.#chunkOf(id)]
    return chunk === undefined ? undefined : chunk[lowerBound(chunk, id)]
  }

  /** The IDs from `start` to `end` (inclusive), at most `limit` (0: no limit), ascending. */
  range(start: bigint, end: bigint, limit: number): bigint[] {
    const out: bigint[] = []
    let at = this.#chunkOf(start)
    let i = at < this.#chunks.length ? lowerBound(this.#chunks[at] as bigint[], start) : 0
    for (; at < this.#chunks.length; at++, i = 0) {
      const chunk = this.#chunks[at] as bigint[]
      for (; i < chunk.length; i++) {
        const id = chunk[i] as bigint
        if (id > end || (limit > 0 && out.length >= limit)) return out
        out.push(id)
      }
    }
    return out
  }

  /** Every value, in ID order. */
  *values(): IterableIterator<V> {
    for (const chunk of this.#chunks) for (const id of chunk) yield this.#values.get(id) as V
  }

  /** The index of the first chunk whose last ID is at or after `id` (`length` when none). */
  #chunkOf(id: bigint): number {
    const chunks = this.#chunks
    let lo = 0
    let hi = chunks.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const chunk = chunks[mid] as bigint[]
      if ((chunk[chunk.length - 1] as bigint) < id) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/** The index of the first item at or after `id` in an ascending array. */
export function lowerBound(items: readonly bigint[], id: bigint): number {
  let lo = 0
  let hi = items.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((items[mid] as bigint) < id) lo = mid + 1
    else hi = mid
  }
  return lo
}
