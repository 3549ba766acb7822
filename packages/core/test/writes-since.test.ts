import { describe, expect, it } from 'vitest'
import { WritesSince } from '../src/_writes-since.ts'

/** Keys as a watch holds them, counting the reads of their names. */
function countedKeys(names: string[]): { keys: Array<{ rkey: string }>; reads: () => number } {
  let reads = 0
  const keys = names.map((name) => ({
    get rkey() {
      reads++
      return name
    },
  }))
  return { keys, reads: () => reads }
}

describe('WritesSince.watch', () => {
  it('fires once, before the first write of one of its keys, and not after it ends', () => {
    const writes = new WritesSince()
    const fired: string[] = []
    const endA = writes.watch([{ rkey: 'a' }, { rkey: 'b' }], () => fired.push('ab'))
    writes.watch([{ rkey: 'b' }], () => fired.push('b'))
    const endC = writes.watch([{ rkey: 'c' }], () => fired.push('c'))
    writes.replaced('x')
    expect(fired).toEqual([])
    writes.changed('b')
    expect(fired.sort()).toEqual(['ab', 'b'])
    writes.replaced('a')
    writes.mayReplace('b')
    expect(fired).toHaveLength(2)
    endA()
    endC()
    writes.replaced('c')
    expect(fired).toHaveLength(2)
    // Ended before any write came (not indexed yet), it never fires either.
    const endD = writes.watch([{ rkey: 'd' }], () => fired.push('d'))
    endD()
    writes.replaced('d')
    expect(fired).toHaveLength(2)
  })

  it('a write looks at its own key’s watches only, however many are on (each key read once)', () => {
    const writes = new WritesSince()
    let fired = 0
    const counted: Array<() => number> = []
    // 400 batches of 128 keys in flight (a stalled server), then 20,000 writes of other keys:
    // a scan of every watch for each write would read 1,024,000,000 names.
    for (let b = 0; b < 400; b++) {
      const { keys, reads } = countedKeys(Array.from({ length: 128 }, (_, i) => `h${b}-${i}`))
      counted.push(reads)
      writes.watch(keys, () => fired++)
    }
    for (let i = 0; i < 20_000; i++) writes.replaced(`w${i}`)
    writes.replaced('h7-5')
    expect(fired).toBe(1)
    const reads = counted.reduce((sum, read) => sum + read(), 0)
    // Each name read once to index it, and the fired watch's once more as it ends.
    expect(reads).toBe(400 * 128 + 128)
  })
})
