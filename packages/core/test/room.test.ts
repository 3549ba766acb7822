// The rooms of the local tier (CLOCK and W-TinyLFU): the same bounds, expiry, delete and clear
// semantics, and what each policy keeps. Pure in-memory structures: no Redis needed.
import { describe, expect, it } from 'vitest'
import { estimateSize, type LocalEntry, LruRoom, type Room } from '../src/_lru.ts'
import { FrequencySketch, hashKey } from '../src/_sketch.ts'
import { TinyLfuRoom } from '../src/_tinylfu.ts'

const FOREVER = Number.POSITIVE_INFINITY

function entry(bytes = 100, expiresAt = FOREVER): LocalEntry {
  return { value: { bytes }, expiresAt, bytes }
}

/** A seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const ROOMS: [string, (maxEntries: number, maxBytes: number) => Room][] = [
  ['LruRoom (CLOCK)', (e, b) => new LruRoom(e, b)],
  ['TinyLfuRoom (W-TinyLFU)', (e, b) => new TinyLfuRoom(e, b)],
]

describe.each(ROOMS)('%s', (_name, make) => {
  it('never holds more than maxEntries, counting each eviction', () => {
    const room = make(100, FOREVER)
    for (let i = 0; i < 1_000; i++) {
      room.set(`k${i}`, entry())
      if (i % 3 === 0) room.get(`k${i >> 1}`)
      expect(room.size).toBe(Math.min(i + 1, 100))
    }
    expect(room.evictions).toBe(900)
    expect(room.bytes).toBe(100 * 100)
  })

  it('never holds more than maxBytes, and its bytes are the sum of what it holds', () => {
    const random = prng(7)
    const room = make(FOREVER, 10_000)
    const sizes = new Map<string, number>()
    for (let i = 0; i < 2_000; i++) {
      const key = `k${Math.floor(random() * 300)}`
      const bytes = 1 + Math.floor(random() * 2_000)
      room.set(key, entry(bytes))
      sizes.set(key, bytes)
      expect(room.bytes).toBeLessThanOrEqual(10_000)
      if (random() < 0.5) room.get(`k${Math.floor(random() * 300)}`)
    }
    let held = 0
    let count = 0
    for (const [key, bytes] of sizes) {
      const e = room.get(key)
      if (e !== undefined) {
        expect(e.bytes).toBe(bytes)
        held += bytes
        count++
      }
    }
    expect(room.bytes).toBe(held)
    expect(room.size).toBe(count)
    expect(room.evictions).toBeGreaterThan(0)
  })

  it('does not hold an entry larger than maxBytes, and drops the one it replaces', () => {
    const room = make(10, 1_000)
    room.set('a', entry(400))
    room.set('b', entry(1_001))
    expect(room.get('b')).toBeUndefined()
    room.set('a', entry(1_001))
    expect(room.get('a')).toBeUndefined()
    expect(room.size).toBe(0)
    expect(room.bytes).toBe(0)
    expect(room.evictions).toBe(0)
  })

  it('replaces the entry at a key it holds, its bytes with it', () => {
    const room = make(10, FOREVER)
    room.set('a', entry(100))
    room.set('a', entry(250))
    expect(room.size).toBe(1)
    expect(room.bytes).toBe(250)
    expect(room.get('a')?.bytes).toBe(250)
  })

  it('drops an expired entry on read, without counting an eviction', () => {
    const room = make(10, FOREVER)
    room.set('a', entry(100, 1_000))
    room.set('b', entry(100))
    expect(room.get('a', 999)?.bytes).toBe(100)
    expect(room.get('a', 1_000)).toBeUndefined()
    expect(room.size).toBe(1)
    expect(room.bytes).toBe(100)
    expect(room.evictions).toBe(0)
    // Expired by the monotonic clock (`performance.now()`) when no time is passed.
    room.set('c', entry(100, performance.now() - 1))
    expect(room.get('c')).toBeUndefined()
    expect(room.size).toBe(1)
  })

  it('deletes a key (whether it was held) and clears (how many were held)', () => {
    const room = make(10, FOREVER)
    for (const key of ['a', 'b', 'c']) room.set(key, entry())
    room.get('b')
    expect(room.delete('b')).toBe(true)
    expect(room.delete('b')).toBe(false)
    expect(room.get('b')).toBeUndefined()
    expect(room.size).toBe(2)
    expect(room.bytes).toBe(200)
    expect(room.clear()).toBe(2)
    expect(room.size).toBe(0)
    expect(room.bytes).toBe(0)
    expect(room.get('a')).toBeUndefined()
    // Usable after a clear, a hit recorded before it notwithstanding.
    for (let i = 0; i < 30; i++) room.set(`k${i}`, entry())
    expect(room.size).toBe(10)
    expect(room.evictions).toBe(20)
  })

  it('keeps a key read between writes through a stream of one-off keys', () => {
    const room = make(50, FOREVER)
    room.set('hot', entry())
    for (let i = 0; i < 1_000; i++) {
      room.set(`once${i}`, entry())
      expect(room.get('hot')).toBeDefined()
    }
    expect(room.size).toBe(50)
  })
})

describe('TinyLfuRoom', () => {
  /** A working set read often, then a scan of one-off keys; how much of the set is still held. */
  function afterScan(room: Room): number {
    for (let i = 0; i < 50; i++) room.set(`w${i}`, entry())
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 50; i++) room.get(`w${i}`)
      room.set(`fill${round}`, entry())
    }
    for (let i = 0; i < 1_000; i++) room.set(`scan${i}`, entry())
    let held = 0
    for (let i = 0; i < 50; i++) if (room.get(`w${i}`) !== undefined) held++
    return held
  }

  it('resists a scan: a working set read ten times outlives 1,000 one-off keys (CLOCK loses it)', () => {
    expect(afterScan(new TinyLfuRoom(100, FOREVER))).toBe(50)
    expect(afterScan(new LruRoom(100, FOREVER))).toBe(0)
  })

  it('keeps part of a loop larger than the room, where CLOCK keeps none', () => {
    const hits = (room: Room) => {
      let n = 0
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 110; i++) {
          if (room.get(`k${i}`) !== undefined) n++
          else room.set(`k${i}`, entry())
        }
      }
      return n
    }
    expect(hits(new LruRoom(100, FOREVER))).toBe(0)
    expect(hits(new TinyLfuRoom(100, FOREVER))).toBeGreaterThan(20 * 110 * 0.5)
  })

  it('follows a recency-biased workload about as well as CLOCK (its window grows)', () => {
    // 20% of reads are of a new key; the rest re-read the key read d reads ago, d geometric.
    const random = prng(11)
    const trace: string[] = []
    for (let i = 0; i < 200_000; i++) {
      if (i === 0 || random() < 0.2) trace.push(`new${i}`)
      else {
        const d = Math.min(i, 1 + Math.floor(Math.log(1 - random()) / Math.log(1 - 1 / 50)))
        trace.push(trace[i - d] as string)
      }
    }
    const ratio = (room: Room) => {
      let n = 0
      for (const key of trace) {
        if (room.get(key) !== undefined) n++
        else room.set(key, entry())
      }
      return n / trace.length
    }
    const lru = ratio(new LruRoom(100, FOREVER))
    const tinyLfu = ratio(new TinyLfuRoom(100, FOREVER))
    expect(lru).toBeGreaterThan(0.5)
    expect(tinyLfu).toBeGreaterThan(lru - 0.03)
  })
})

describe('FrequencySketch', () => {
  it('counts up to 15, and halves every count after 10 × width recordings', () => {
    const sketch = new FrequencySketch(16)
    const a = hashKey('a')
    expect(sketch.estimate(a)).toBe(0)
    for (let i = 0; i < 7; i++) sketch.increment(a)
    expect(sketch.estimate(a)).toBe(7)
    for (let i = 0; i < 20; i++) sketch.increment(a)
    expect(sketch.estimate(a)).toBe(15)
    // Width 16: the 160th counted recording halves every counter (keys that stop at 15 do not count).
    for (let i = 0; i < 160 - 15; i++) sketch.increment(hashKey(`other${i}`))
    expect(sketch.estimate(a)).toBeLessThanOrEqual(8)
    expect(sketch.estimate(a)).toBeGreaterThanOrEqual(7)
  })
})

describe('estimateSize', () => {
  it('counts every part of a small value', () => {
    expect(estimateSize('abc')).toBe(16 + 6)
    expect(estimateSize([1, 'ab'])).toBe(32 + 16 + 8 + 16 + 4)
    expect(estimateSize({ k: true })).toBe(32 + 8 + 16 + 2 + 8)
  })

  it('extrapolates what it does not walk: a value of many small parts is not undercounted', () => {
    // 100 arrays of 10,000 strings of 40 characters: 80 MB of characters at 2 bytes each.
    const strings = 100 * 10_000
    const value = Array.from({ length: 100 }, (_, i) =>
      Array.from({ length: 10_000 }, (_, j) => `${i}-${j}-`.padEnd(40, 'z')),
    )
    const start = performance.now()
    const size = estimateSize(value)
    const ms = performance.now() - start
    expect(size).toBeGreaterThan(strings * (16 + 80) * 0.9)
    expect(size).toBeLessThan(strings * (16 + 80) * 1.5)
    // Deeper: 10 × 10 × 10,000 strings.
    const deep = Array.from({ length: 10 }, () => value.slice(0, 10))
    expect(estimateSize(deep)).toBeGreaterThan(strings * (16 + 80) * 0.9)
    // Objects of many keys.
    const rows = Array.from({ length: 200_000 }, (_, i) => ({ id: i, name: `row ${i}` }))
    expect(estimateSize(rows)).toBeGreaterThan(200_000 * (32 + 2 * 8 + 2 * 16 + 4 + 8 + 16 + 14))
    // A bound that proves the walk stays short on a busy machine.
    expect(ms).toBeLessThan(500)
  })
})
