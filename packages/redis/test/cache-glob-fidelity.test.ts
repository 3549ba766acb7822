// Redis's glob at its edges, the same on a real server and on memory://: class ranges compare
// bytes as C's signed chars, and a pattern of more than 1000 stars (not counting a trailing one)
// matches nothing (`stringmatchlen`'s nesting limit).
import { type Cache, createCache } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer } from './helpers.ts'

describe.each(BACKENDS)('%s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    cache = createCache({ location: server.url, keyPrefix: uniquePrefix('glob') })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  describe('a class range compares bytes as signed chars', () => {
    it('[a-é] (0xC3 is -61) holds no ASCII letter past a', async () => {
      await cache.set('b', 1)
      expect(await cache.keys('[a-é]')).toEqual([])
      expect(await cache.deletePattern('[a-é]')).toBe(0)
      expect(await cache.get('b')).toBe(1)
    })

    it('both the bounds and the byte matched are read as signed', async () => {
      await cache.set('c', 2)
      await cache.set('ë', 3) // bytes C3 AB
      // [é-z]: the byte C3, then the range from A9 (-87) to z (122), which holds b and c.
      expect((await cache.keys('[é-z]')).sort()).toEqual(['b', 'c'])
      // ë's second byte AB (-85) is in that range too.
      expect(await cache.keys('?[é-z]')).toEqual(['ë'])
      expect(await cache.deletePattern('?[é-z]')).toBe(1)
      await cache.deleteMany(['c'])
    })
  })

  describe('a pattern of more than 1000 stars matches nothing', () => {
    const key = 'a'.repeat(1200)

    it('1000 stars before the trailing one match, 1001 do not', async () => {
      await cache.set(key, 1)
      expect(await cache.keys(`*${'a*'.repeat(999)}`)).toEqual([key])
      expect(await cache.keys(`*${'a*'.repeat(1000)}`)).toEqual([key])
      expect(await cache.keys(`*${'a*'.repeat(1001)}`)).toEqual([])
      expect(await cache.keys(`${'a*'.repeat(1001)}`)).toEqual([key])
      expect(await cache.keys(`${'a*'.repeat(1002)}`)).toEqual([])
      expect(await cache.keys(`*${'a*'.repeat(1100)}`)).toEqual([])
    })

    it('without a trailing star, and with runs of stars counted once', async () => {
      expect(await cache.keys(`${'*a'.repeat(1000)}`)).toEqual([key])
      expect(await cache.keys(`${'*a'.repeat(1001)}`)).toEqual([])
      expect(await cache.keys(`${'**a'.repeat(1000)}*`)).toEqual([key])
      expect(await cache.keys(`${'**a'.repeat(1001)}**`)).toEqual([])
      // Escaped stars and stars in a class are not stars.
      expect(await cache.keys(`${'*a'.repeat(1000)}\\*[*]`)).toEqual([])
      await cache.set(`${key}*`, 2)
      expect(await cache.keys(`${'*a'.repeat(1000)}\\*`)).toEqual([`${key}*`])
      expect(await cache.deletePattern(`${'*a'.repeat(1001)}*`)).toBe(0)
      expect(await cache.deletePattern(`${'*a'.repeat(1000)}*`)).toBe(2)
    })
  })
})
