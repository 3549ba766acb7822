// memory://'s `maxBytes` eviction when the store is over its bound with keys it never evicts (held
// locks, cachex's bookkeeping): a write's cost does not grow with the number of those keys (the
// eviction does not walk them all on each write), and a value pushed to a list a blocked call
// waits on goes to that call before the store evicts (as Redis serves blocked clients right
// after the command and evicts only before the next), not lost to eviction.
import { createCache } from '@cachex/redis'
import { delay, uniquePrefix } from '@cachex/test-utils'
import { describe, expect, it } from 'vitest'

type Cache = ReturnType<typeof createCache>
/** O(held keys) per write would be ~40x (4,000 held against 100); the bound leaves room for load. */
const MAX_RATIO = 8

/** A cache on a private memory:// store bounded at `maxBytes`. */
function bounded(maxBytes: number): Cache {
  return createCache({ location: `memory://${uniquePrefix('evp')}`, memoryOptions: { maxBytes } })
}

async function used(cache: Cache): Promise<number> {
  const info = String(await cache.connection.command(['INFO', 'memory']))
  return Number(/used_memory:(\d+)/.exec(info)?.[1])
}

/** `n` locks taken (and held for 10 minutes) on `cache`. */
async function holdLocks(cache: Cache, n: number): Promise<Array<ReturnType<Cache['lock']>>> {
  const locks = []
  for (let i = 0; i < n; i++) {
    const lock = cache.lock(`held:${i}`, { timeout: 600 })
    expect(await lock.acquire({ blocking: false })).toBe(true)
    locks.push(lock)
  }
  return locks
}

/** The best of 3 batches of `times` writes, in ms. */
async function bestWrites(cache: Cache, times: number): Promise<number> {
  let min = Number.POSITIVE_INFINITY
  for (let batch = 0; batch < 3; batch++) {
    const t = performance.now()
    for (let i = 0; i < times; i++) await cache.set(`w${i % 50}`, i)
    min = Math.min(min, performance.now() - t)
  }
  return min
}

describe('memory:// over twice its bound with only held keys', () => {
  it("a write's cost does not grow with the number of held locks, and the writes are still evicted", async () => {
    const few = bounded(4 * 1024)
    const many = bounded(4 * 1024)
    try {
      await holdLocks(few, 100)
      const locks = await holdLocks(many, 4000)
      expect(await used(few)).toBeGreaterThan(2 * 4 * 1024)
      const held = await many.connection.command(['DBSIZE'])
      // Warm up both, then measure.
      await bestWrites(few, 100)
      await bestWrites(many, 100)
      const small = await bestWrites(few, 1000)
      const big = await bestWrites(many, 1000)
      const ratio = big / Math.max(small, 0.5)
      expect(
        ratio,
        `1000 writes: ${small.toFixed(1)} ms with 100 held locks, ${big.toFixed(1)} ms with 4000`,
      ).toBeLessThan(MAX_RATIO)
      // Only the held locks are left (each write evicted at once), and they are all still held.
      expect(await many.connection.command(['DBSIZE'])).toBe(held)
      for (const lock of locks.slice(0, 20)) expect(await lock.owned()).toBe(true)
      for (const lock of locks.slice(-20)) expect(await lock.owned()).toBe(true)
    } finally {
      await few.close()
      await many.close()
    }
  }, 120_000)

  it('with only fencing counters, a write is evicted and the counters are kept', async () => {
    const cache = bounded(4 * 1024)
    try {
      for (let i = 0; i < 300; i++) {
        const key = `__cachex:fence:${i}`
        await cache.connection.command(['INCR', key], { key })
      }
      for (let i = 0; i < 20; i++) await cache.set(`x${i}`, 'y'.repeat(100))
      expect(await cache.connection.command(['DBSIZE'])).toBe(300)
      const counter = await cache.connection.command(['GET', '__cachex:fence:0'], {
        key: '__cachex:fence:0',
      })
      expect(String(counter)).toBe('1')
    } finally {
      await cache.close()
    }
  }, 60_000)

  it('a lock released and others taken while over the bound: later writes are still evicted', async () => {
    const cache = bounded(4 * 1024)
    try {
      const locks = await holdLocks(cache, 300)
      for (let round = 0; round < 5; round++) {
        // The oldest held locks go and new ones come, between writes.
        await locks[round]?.release()
        const lock = cache.lock(`new:${round}`, { timeout: 600 })
        expect(await lock.acquire({ blocking: false })).toBe(true)
        const held = await cache.connection.command(['DBSIZE'])
        for (let i = 0; i < 10; i++) await cache.set(`w${round}:${i}`, 'v'.repeat(50))
        expect(await cache.connection.command(['DBSIZE'])).toBe(held)
      }
    } finally {
      await cache.close()
    }
  }, 60_000)
})

describe('memory:// serves blocked calls before it evicts', () => {
  it('over its bound with held locks only: RPUSH to a list a BLPOP waits on answers 1 and the BLPOP gets the item', async () => {
    const cache = bounded(16 * 1024)
    try {
      await holdLocks(cache, 400)
      const waiting = cache.blpop('q', 2)
      await delay(50)
      expect(await cache.rpush('q', 'item')).toBe(1)
      expect(await waiting).toEqual(['q', 'item'])
    } finally {
      await cache.close()
    }
  }, 30_000)

  it('a transaction pushes to two waited-on lists over the bound: each BLPOP gets its item', async () => {
    const cache = bounded(16 * 1024)
    try {
      await holdLocks(cache, 400)
      const first = cache.blpop('q1', 2)
      const second = cache.blpop('q2', 2)
      await delay(50)
      const replies = await cache.transaction().rpush('q1', 'a').rpush('q2', 'b').exec()
      expect(replies).toEqual([1, 1])
      expect(await Promise.all([first, second])).toEqual([
        ['q1', 'a'],
        ['q2', 'b'],
      ])
    } finally {
      await cache.close()
    }
  }, 30_000)

  it('a transaction pushes to a waited-on list, then a write that fills the store: the BLPOP gets the item', async () => {
    const cache = bounded(64 * 1024)
    try {
      const waiting = cache.blpop('q', 2)
      await delay(50)
      // The value alone fits; with the list's item the store is over its bound.
      const fill = 'x'.repeat(64 * 1024 - 100)
      await cache.transaction().rpush('q', 'item').set('big', fill).exec()
      expect(await waiting).toEqual(['q', 'item'])
      expect(await used(cache)).toBeLessThanOrEqual(64 * 1024)
    } finally {
      await cache.close()
    }
  }, 30_000)
})
