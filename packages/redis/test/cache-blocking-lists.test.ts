// blpop, brpop and blmove: they wait on the server for a value, on a connection of their own,
// bounded by socketTimeout plus their timeout.
import { type Cache, createCache, InvalidArgumentError } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer } from './helpers.ts'

describe.each(BACKENDS)('%s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache
  let other: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    const keyPrefix = uniquePrefix('blk')
    // A short socketTimeout: a block longer than it must still complete.
    cache = createCache({ location: server.url, keyPrefix, socketTimeout: 0.5 })
    other = createCache({ location: server.url, keyPrefix })
  })

  afterAll(async () => {
    await cache?.close()
    await other?.close()
    await server?.stop()
  })

  beforeEach(async () => {
    await other.clear()
  })

  describe('blocking list commands', () => {
    it('blpop / brpop answer at once from the first non-empty list, with the user key', async () => {
      await other.rpush('b', 'b1', 'b2', { n: 3 })
      expect(await cache.blpop(['a', 'b'], 1)).toEqual(['b', 'b1'])
      expect(await cache.brpop(['a', 'b'], 1)).toEqual(['b', { n: 3 }])
      expect(await cache.blpop('b', 1)).toEqual(['b', 'b2'])
    })

    it('wait longer than socketTimeout for a value pushed by another cache, without holding up other calls', async () => {
      const waiting = cache.blpop('q', 3)
      // Other calls of the same cache go on meanwhile.
      for (let i = 0; i < 5; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200))
        expect(await cache.set(`k${i}`, i)).toBe(true)
        expect(await cache.get(`k${i}`)).toBe(i)
      }
      await other.rpush('q', { job: 1 })
      expect(await waiting).toEqual(['q', { job: 1 }])
    })

    it('wait for a value with a timeout longer than a Node.js timer holds (25 days and more)', async () => {
      // 3,000,000 s is past 2^31 - 1 ms: such a timer fires after 1 ms, and the call used to
      // reject with TimeoutError at once.
      const waiting = cache.blpop('long', 3_000_000)
      await new Promise((resolve) => setTimeout(resolve, 300))
      await other.rpush('long', 'came')
      expect(await waiting).toEqual(['long', 'came'])
    })

    it('resolve null when the timeout runs out (past socketTimeout)', async () => {
      const started = performance.now()
      expect(await cache.brpop(['x', 'y'], 0.8)).toBeNull()
      expect(performance.now() - started).toBeGreaterThanOrEqual(700)
      expect(await cache.blmove('x', 'y', 0.6)).toBeNull()
    })

    it('blmove moves one value when it comes, with the version on both keys', async () => {
      const v2 = { version: 2 }
      const moving = cache.blmove('src', 'dst', 2, 'right', 'left', v2)
      await new Promise((resolve) => setTimeout(resolve, 100))
      await other.rpush('src', 'old') // version 1: not the list blmove waits on
      await other.connection.command(['RPUSH', other.makeKey('src', 2), '"a"', '"b"'])
      expect(await moving).toBe('b')
      expect(await cache.lrange('dst', 0, -1, v2)).toEqual(['b'])
      expect(await cache.lrange('src', 0, -1)).toEqual(['old'])
    })

    it('refuse a timeout of 0 (forever) and bad arguments before sending anything', async () => {
      await expect(cache.blpop('q', 0)).rejects.toThrow(/timeout of 0 \(wait forever\) is refused/)
      await expect(cache.brpop([], 1)).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(cache.blpop('q', -1)).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(cache.blmove('a', 'b', 0)).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(cache.blmove('a', 'b', 1, 'up' as never)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
      await expect(cache.blpop('q', 1, { versoin: 2 } as never)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
    })
  })
})
