// `memory://`'s `maxBytes` bounds the heap the store takes, about: each key and each element of a
// collection is counted with what the store holds for it in V8's heap besides its data. Counted
// as 64 and 24 bytes, 100,000 small keys took 2.4× their count of heap (3.5× with an expiry), so
// the default 256 MiB let a store take a gigabyte. Measured in a child process (see
// _memory-heap-child.ts), after a gc.
import { describe, expect, it } from 'vitest'
import { childJsonLine } from './helpers.ts'

describe('memory:// counts about the heap its items take', () => {
  it.each(['keys', 'expiring', 'fields', 'streams', 'zsets'])('100,000 small %s', async (kind) => {
    const line = await childJsonLine('./_memory-heap-child.ts', [kind])
    const { heap, counted } = JSON.parse(line) as { heap: number; counted: number }
    // Measured: 0.97× (keys), 1.36× (keys with an expiry), 1.17× (hash fields), 1.01× (streams of
    // one entry, 4.3× before their structures were counted), 1.03× (sorted sets of one member).
    expect(heap / counted).toBeLessThan(1.75)
    expect(heap / counted).toBeGreaterThan(0.5)
  })
})
