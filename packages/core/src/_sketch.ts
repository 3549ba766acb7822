// The frequency sketch of the W-TinyLFU room: how often a key was seen lately, in 4 bits.

/**
 * A count-min sketch of 4-bit counters (four rows, eight counters a 32-bit word) that estimates
 * how often a key hash was recorded, up to 15. After `10 × width` recordings every counter is
 * halved, so the estimate follows the recent past (TinyLFU's aging, Einziger, Friedman & Manes).
 */
export class FrequencySketch {
  #table: Uint32Array
  #mask: number
  #rowWords: number
  #samples = 0
  #sampleSize: number
  readonly #maxWidth: number

  /** `maxWidth`: the most counters a row grows to (a power of two is not required). */
  constructor(maxWidth: number) {
    this.#maxWidth = ceilPow2(Math.min(Math.max(maxWidth, 16), 1 << 22))
    const width = Math.min(this.#maxWidth, 1024)
    this.#rowWords = width >>> 3
    this.#mask = width - 1
    this.#table = new Uint32Array(4 * this.#rowWords)
    this.#sampleSize = 10 * width
  }

  /** Grows the rows to hold `size` keys (up to `maxWidth`), forgetting what was counted. */
  ensure(size: number): void {
    const width = this.#mask + 1
    if (size <= width || width >= this.#maxWidth) return
    const next = Math.min(this.#maxWidth, ceilPow2(size))
    this.#rowWords = next >>> 3
    this.#mask = next - 1
    this.#table = new Uint32Array(4 * this.#rowWords)
    this.#sampleSize = 10 * next
    this.#samples = 0
  }

  /** Records one occurrence of `hash`. */
  increment(hash: number): void {
    const step = spread(hash)
    const table = this.#table
    let added = false
    for (let row = 0, h = hash; row < 4; row++, h = (h + step) | 0) {
      const index = h & this.#mask
      const word = row * this.#rowWords + (index >>> 3)
      const shift = (index & 7) << 2
      if ((((table[word] as number) >>> shift) & 15) !== 15) {
        table[word] = (table[word] as number) + (1 << shift)
        added = true
      }
    }
    if (added && ++this.#samples >= this.#sampleSize) this.#age()
  }

  /** How often `hash` was recorded lately (0 to 15; an overestimate when hashes collide). */
  estimate(hash: number): number {
    const step = spread(hash)
    const table = this.#table
    let least = 15
    for (let row = 0, h = hash; row < 4; row++, h = (h + step) | 0) {
      const index = h & this.#mask
      const count =
        ((table[row * this.#rowWords + (index >>> 3)] as number) >>> ((index & 7) << 2)) & 15
      if (count < least) least = count
    }
    return least
  }

  /** Halves every counter. */
  #age(): void {
    const table = this.#table
    for (let i = 0; i < table.length; i++) table[i] = ((table[i] as number) >>> 1) & 0x77777777
    this.#samples = this.#samples >>> 1
  }
}

/** The 32-bit FNV-1a hash of a string, mixed so that its low bits are usable as an index. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  return h | 0
}

/** An odd step derived from `hash`, so the four rows index four different counters. */
function spread(hash: number): number {
  return (Math.imul(hash, 0x9e3779b1) >>> 15) | 1
}

function ceilPow2(n: number): number {
  return 2 ** Math.ceil(Math.log2(n))
}
