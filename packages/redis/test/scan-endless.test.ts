// A server whose member scans never end (a proxy's bug: every HSCAN, SSCAN, ZSCAN answers the
// same cursor): the walk stops with a ResponseError at the first cursor handed out twice, instead
// of sending scans for as long as the server answers. Redis itself never hands one out twice.
import { createCache, ResponseError } from '@cachex/redis'
import { fakeRedis } from '@cachex/test-utils'
import { describe, expect, it } from 'vitest'

describe('a server whose member scans never end', () => {
  it('stops each walk with ResponseError when a cursor comes back', async () => {
    // Every *SCAN answers cursor 7 and one item.
    let scans = 0
    const fake = await fakeRedis((name) => {
      if (!name.endsWith('SCAN')) return undefined
      scans++
      // SSCAN: member 1; HSCAN: field a = 1; ZSCAN: member 1 with score 1
      if (name === 'SSCAN') return '*2\r\n$1\r\n7\r\n*1\r\n$1\r\n1\r\n'
      const first = name === 'HSCAN' ? 'a' : '1'
      return `*2\r\n$1\r\n7\r\n*2\r\n$1\r\n${first}\r\n$1\r\n1\r\n`
    })
    const cache = createCache({ location: fake.url, keyPrefix: 'endless' })
    try {
      for (const walk of [cache.hscan('h'), cache.sscan('s'), cache.zscan('z')]) {
        scans = 0
        let items = 0
        const done = (async () => {
          for await (const _ of walk) items++
        })()
        await expect(done).rejects.toBeInstanceOf(ResponseError)
        await expect(done).rejects.toThrow(/SCAN handed out the cursor 7 twice in one walk/)
        expect(scans).toBe(2)
        expect(items).toBe(1)
      }
    } finally {
      await cache.close()
      await fake.close()
    }
  })
})

describe('a SCAN that names a key twice (as Redis may while its table is resized)', () => {
  it('keys() gives each key once; iterKeys yields what SCAN gives', async () => {
    // Cursor 0 → ['k:1:a', 'k:1:b'] and cursor 5; cursor 5 → ['k:1:b', 'k:1:c'] and cursor 0.
    let scans = 0
    const fake = await fakeRedis((name) => {
      if (name !== 'SCAN') return undefined
      scans++
      return scans % 2 === 1
        ? '*2\r\n$1\r\n5\r\n*2\r\n$5\r\nk:1:a\r\n$5\r\nk:1:b\r\n'
        : '*2\r\n$1\r\n0\r\n*2\r\n$5\r\nk:1:b\r\n$5\r\nk:1:c\r\n'
    })
    const cache = createCache({ location: fake.url, keyPrefix: 'k' })
    try {
      expect(await cache.keys('*')).toEqual(['a', 'b', 'c'])
      const walked: string[] = []
      for await (const key of cache.iterKeys('*')) walked.push(key)
      expect(walked).toEqual(['a', 'b', 'b', 'c'])
    } finally {
      await cache.close()
      await fake.close()
    }
  })
})
