// A set's members: a `Set` (its iteration order, insertion, is what SMEMBERS and SSCAN walk)
// that also keeps, from its first random pick on, an array of its members and each one's place
// in it, so that SPOP and SRANDMEMBER pick in O(count), not O(size), as Redis's dictGetRandomKey.

export class MemberSet extends Set<string> {
  /** The members in no particular order; built at the first pick, then kept up to date. */
  #items: string[] | undefined
  /** Each member's index in `#items`. */
  #at: Map<string, number> | undefined

  override add(member: string): this {
    if (super.has(member)) return this
    super.add(member)
    if (this.#items !== undefined && this.#at !== undefined) {
      this.#at.set(member, this.#items.length)
      this.#items.push(member)
    }
    return this
  }

  override delete(member: string): boolean {
    if (!super.delete(member)) return false
    const items = this.#items
    const at = this.#at
    if (items !== undefined && at !== undefined) {
      // Swap-remove: the last member takes the removed one's place.
      const i = at.get(member) as number
      const last = items.pop() as string
      if (i < items.length) {
        items[i] = last
        at.set(last, i)
      }
      at.delete(member)
    }
    return true
  }

  override clear(): void {
    super.clear()
    this.#items = undefined
    this.#at = undefined
  }

  #index(): string[] {
    if (this.#items === undefined || this.#at === undefined) {
      const items = [...this]
      const at = new Map<string, number>()
      for (let i = 0; i < items.length; i++) at.set(items[i] as string, i)
      this.#items = items
      this.#at = at
    }
    return this.#items
  }

  /** `count` members picked at random, repeats allowed: O(count). */
  sampleWithRepeats(count: number): string[] {
    if (this.size === 0) return []
    const items = this.#index()
    return Array.from(
      { length: count },
      () => items[Math.floor(Math.random() * items.length)] as string,
    )
  }

  /**
   * `count` distinct members picked at random (all of them when `count` ≥ size): a partial
   * Fisher–Yates shuffle of the index, O(count).
   */
  sampleDistinct(count: number): string[] {
    if (count >= this.size) return [...this]
    const items = this.#index()
    const at = this.#at as Map<string, number>
    const n = items.length
    const out: string[] = []
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(Math.random() * (n - i))
      const a = items[i] as string
      const b = items[j] as string
      items[i] = b
      items[j] = a
      at.set(b, i)
      at.set(a, j)
      out.push(b)
    }
    return out
  }
}
