// A list's elements: a ring buffer, so that pushing and popping at either end cost O(1) (as
// Redis's quicklist), reading or writing by index O(1), and inserting or removing in the middle
// moves only the elements on the shorter side.

const MIN_CAPACITY = 16

export class Deque<T> {
  #buf: Array<T | undefined>
  #head = 0
  #size = 0
  /** Capacity − 1 (the capacity is a power of two). */
  #mask: number

  constructor(items: readonly T[] = []) {
    let capacity = MIN_CAPACITY
    while (capacity < items.length) capacity *= 2
    this.#buf = new Array<T | undefined>(capacity)
    for (let i = 0; i < items.length; i++) this.#buf[i] = items[i]
    this.#size = items.length
    this.#mask = capacity - 1
  }

  get length(): number {
    return this.#size
  }

  /** The element at `i` (0 the head), `undefined` out of range. */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.#size || !Number.isInteger(i)) return undefined
    return this.#buf[(this.#head + i) & this.#mask]
  }

  /** Replaces the element at `i` (which must be in range). */
  set(i: number, value: T): void {
    this.#buf[(this.#head + i) & this.#mask] = value
  }

  push(value: T): void {
    if (this.#size === this.#buf.length) this.#resize(this.#buf.length * 2)
    this.#buf[(this.#head + this.#size) & this.#mask] = value
    this.#size++
  }

  unshift(value: T): void {
    if (this.#size === this.#buf.length) this.#resize(this.#buf.length * 2)
    this.#head = (this.#head - 1) & this.#mask
    this.#buf[this.#head] = value
    this.#size++
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined
    const value = this.#buf[this.#head]
    this.#buf[this.#head] = undefined
    this.#head = (this.#head + 1) & this.#mask
    this.#size--
    this.#shrink()
    return value
  }

  pop(): T | undefined {
    if (this.#size === 0) return undefined
    this.#size--
    const at = (this.#head + this.#size) & this.#mask
    const value = this.#buf[at]
    this.#buf[at] = undefined
    this.#shrink()
    return value
  }

  /** The elements [from, to) as an array (indexes clamped to the list). */
  slice(from = 0, to = this.#size): T[] {
    const start = Math.max(0, from)
    const end = Math.min(this.#size, to)
    const out: T[] = []
    for (let i = start; i < end; i++) out.push(this.#buf[(this.#head + i) & this.#mask] as T)
    return out
  }

  /** The index of the first element equal to `value`, or -1. */
  indexOf(value: T): number {
    for (let i = 0; i < this.#size; i++) {
      if (this.#buf[(this.#head + i) & this.#mask] === value) return i
    }
    return -1
  }

  /** Inserts `value` at `i` (0 ≤ i ≤ length), moving the elements on the shorter side. */
  insert(i: number, value: T): void {
    const n = this.#size
    if (i <= n / 2) {
      this.unshift(value)
      for (let k = 0; k < i; k++) this.set(k, this.at(k + 1) as T)
    } else {
      this.push(value)
      for (let k = n; k > i; k--) this.set(k, this.at(k - 1) as T)
    }
    this.set(i, value)
  }

  /**
   * Keeps the elements for which `keep(value, index)` holds, in order, from index `from` on (those
   * before it are kept); how many were removed.
   */
  retain(keep: (value: T, index: number) => boolean, from = 0): number {
    const n = this.#size
    let w = Math.max(0, from)
    for (let r = w; r < n; r++) {
      const value = this.at(r) as T
      if (keep(value, r)) {
        if (w !== r) this.set(w, value)
        w++
      }
    }
    const removed = n - w
    for (let k = 0; k < removed; k++) this.pop()
    return removed
  }

  /** Drops `count` elements from the head (or all). */
  dropFront(count: number): void {
    for (let k = Math.min(count, this.#size); k > 0; k--) this.shift()
  }

  /** Drops `count` elements from the tail (or all). */
  dropBack(count: number): void {
    for (let k = Math.min(count, this.#size); k > 0; k--) this.pop()
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.#size; i++) yield this.#buf[(this.#head + i) & this.#mask] as T
  }

  /** Gives memory back once a quarter or less of the buffer is in use. */
  #shrink(): void {
    const capacity = this.#buf.length
    if (capacity > MIN_CAPACITY && this.#size <= capacity / 4) this.#resize(capacity / 2)
  }

  #resize(capacity: number): void {
    const buf = new Array<T | undefined>(capacity)
    for (let i = 0; i < this.#size; i++) buf[i] = this.#buf[(this.#head + i) & this.#mask]
    this.#buf = buf
    this.#head = 0
    this.#mask = capacity - 1
  }
}
