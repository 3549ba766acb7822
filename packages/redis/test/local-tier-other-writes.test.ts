// Writes by the other families to a key the local tier holds as a string value: a rename, or a
// set or list command that replaces its destination, must never leave the old value served.
import { type Cache, createCache, ResponseError } from '@cachex/redis'
import { standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from './local-tier-helpers.ts'

let server: { url: string; stop(): Promise<void> }
let cache: Cache

beforeAll(async () => {
  server = await standaloneServer()
  cache = createCache({
    location: server.url,
    keyPrefix: uniquePrefix('ltw'),
    local: { maxEntries: 1000 },
  })
})

afterAll(async () => {
  await cache?.close()
  await server?.stop()
})

/** Reads `key` until the tier serves it (a hit), so that the next write must invalidate it. */
async function held(key: string, value: unknown): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const before = cache.localStats()?.hits ?? 0
    expect(await cache.get(key)).toEqual(value)
    if ((cache.localStats()?.hits ?? 0) > before) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`the tier never served '${key}'`)
}

describe('the local tier and the other families', () => {
  it('rename, renamenx, the set stores and smove never leave an old value served', async () => {
    for (let round = 0; round < 30; round++) {
      await cache.set('a', `a${round}`)
      await cache.set('b', `b${round}`)
      await held('a', `a${round}`)
      await held('b', `b${round}`)
      await cache.rename('a', 'b')
      expect(await cache.get('a')).toBeNull()
      expect(await cache.get('b')).toBe(`a${round}`)

      await held('b', `a${round}`)
      await cache.sadd('s', 1)
      await cache.sunionstore('b', 's')
      await expect(cache.get('b')).rejects.toBeInstanceOf(ResponseError)

      await cache.set('c', 'c')
      await held('c', 'c')
      await cache.delete('b')
      await cache.set('d', 'd')
      await held('d', 'd')
      expect(await cache.renamenx('c', 'b')).toBe(true)
      expect(await cache.get('c')).toBeNull()
      await cache.delete('s')
    }
  })

  it('a key with a lone surrogate is dropped by a write to the key Redis names with U+FFFD', async () => {
    // Redis stores 'k\ud83d' as 'k\ufffd' (UTF-8 has no form for a lone surrogate), and its
    // invalidations name that. The tier once held the copy under the other spelling, for good.
    const other = createCache({ location: server.url, keyPrefix: cache.keyPrefix })
    try {
      for (let round = 0; round < 5; round++) {
        await cache.set('k\ud83d', `v${round}`)
        await held('k\ud83d', `v${round}`)
        await other.set('k\ufffd', `w${round}`)
        await eventually(async () => (await cache.get('k\ud83d')) === `w${round}`, 20_000)
        await held('k\ufffd', `w${round}`)
        // This cache's own write through the other spelling drops the copy too.
        await cache.delete('k\ud83d')
        expect(await cache.get('k\ufffd')).toBeNull()
      }
    } finally {
      await other.close()
    }
  })
})
