import {
  type Cache,
  createCache,
  InvalidArgumentError,
  ResponseError,
  SerializationError,
} from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer, raw } from './helpers.ts'

describe.each(BACKENDS)('%s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    cache = createCache({ location: server.url, keyPrefix: uniquePrefix('sets'), scanItersize: 3 })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  beforeEach(async () => {
    await cache.clear()
  })

  /** Members in a fixed order (their JSON), to compare with what a set holds in any order. */
  const sorted = (values: unknown[]) =>
    values
      .map((v) => [JSON.stringify(v), v] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, v]) => v)

  async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
    const items: T[] = []
    for await (const item of iterable) items.push(item)
    return items
  }

  describe('sets', () => {
    it('sadd / srem count what changed; members are encoded, so 1 and "1" differ', async () => {
      expect(await cache.sadd('s', 'a', 1, '1', { id: 7 })).toBe(4)
      expect(await cache.sadd('s', 'a', 'b')).toBe(1)
      expect(await cache.scard('s')).toBe(5)
      const stored = (await raw(cache, 'SMEMBERS', cache.makeKey('s'))) as Buffer[]
      expect(stored.map(String).sort()).toEqual(['"1"', '"a"', '"b"', '1', '{"id":7}'])
      expect(await cache.srem('s', 'a', 'nope', { id: 7 })).toBe(2)
      expect(sorted(await cache.smembers('s'))).toEqual(['1', 'b', 1])
      expect(await cache.sismember('s', 1)).toBe(true)
      expect(await cache.sismember('s', 'a')).toBe(false)
      expect(await cache.smismember('s', 1, 'a', '1')).toEqual([true, false, true])
    })

    it('sismembers of one tick each get their own answer, over one set and several', async () => {
      await cache.sadd('s', 'a', 1, { id: 7 })
      await cache.sadd('t', 'b')
      const found = await Promise.all([
        cache.sismember('s', 'a'),
        cache.sismember('t', 'b'),
        cache.sismember('s', '1'),
        cache.sismember('s', 1),
        cache.sismember('s', { id: 7 }),
        cache.sismember('none', 'a'),
      ])
      expect(found).toEqual([true, true, false, true, true, false])
    })

    it('a missing key reads as an empty set', async () => {
      expect(await cache.smembers('none')).toEqual([])
      expect(await cache.scard('none')).toBe(0)
      expect(await cache.sismember('none', 'a')).toBe(false)
      expect(await cache.smismember('none', 'a', 'b')).toEqual([false, false])
      expect(await cache.spop('none')).toBeNull()
      expect(await cache.spop('none', 2)).toEqual([])
      expect(await cache.srandmember('none')).toBeNull()
      expect(await cache.srandmember('none', 2)).toEqual([])
      expect(await collect(cache.sscan('none'))).toEqual([])
    })

    it('spop removes, srandmember does not; a negative count may repeat', async () => {
      await cache.sadd('s', 'a', 'b', 'c')
      const one = await cache.spop<string>('s')
      expect(['a', 'b', 'c']).toContain(one)
      expect(await cache.scard('s')).toBe(2)
      const two = await cache.spop<string>('s', 5)
      expect(sorted([one, ...two])).toEqual(['a', 'b', 'c'])
      expect(await cache.scard('s')).toBe(0)

      await cache.sadd('t', 'x', 'y')
      expect(['x', 'y']).toContain(await cache.srandmember('t'))
      expect(sorted(await cache.srandmember('t', 5))).toEqual(['x', 'y'])
      expect(await cache.srandmember('t', -5)).toHaveLength(5)
      expect(await cache.scard('t')).toBe(2)
    })

    it('smove moves one member atomically, with the version on both keys', async () => {
      await cache.sadd('from', 'a', 'b')
      expect(await cache.smove('from', 'to', 'a')).toBe(true)
      expect(await cache.smove('from', 'to', 'nope')).toBe(false)
      expect(await cache.smembers('from')).toEqual(['b'])
      expect(await cache.smembers('to')).toEqual(['a'])

      const v2 = { version: 2 }
      await cache.sadd('from', 'c') // version 1
      expect(await cache.smove('from', 'to', 'c', v2)).toBe(false)
      await raw(cache, 'SADD', cache.makeKey('from', 2), '"c"')
      expect(await cache.smove('from', 'to', 'c', v2)).toBe(true)
      expect(await cache.smembers('to', v2)).toEqual(['c'])
      expect(await cache.smembers('to')).toEqual(['a'])
    })

    it('sdiff / sinter / sunion and their store forms, version after the keys', async () => {
      await cache.sadd('a', 1, 2, 3)
      await cache.sadd('b', 2, 3, 4)
      await cache.sadd('c', 3, 5)
      expect(sorted(await cache.sdiff('a', 'b'))).toEqual([1])
      expect(sorted(await cache.sinter('a', 'b', 'c'))).toEqual([3])
      expect(sorted(await cache.sunion('a', 'b', 'c'))).toEqual([1, 2, 3, 4, 5])
      expect(sorted(await cache.sdiff('a'))).toEqual([1, 2, 3])
      expect(await cache.sdiff('a', 'missing')).toHaveLength(3)
      expect(await cache.sinter('a', 'missing')).toEqual([])

      expect(await cache.sdiffstore('d', 'a', 'b')).toBe(1)
      expect(await cache.smembers('d')).toEqual([1])
      expect(await cache.sinterstore('d', 'a', 'b')).toBe(2)
      expect(sorted(await cache.smembers('d'))).toEqual([2, 3])
      expect(await cache.sunionstore('d', 'a', 'c')).toBe(4)
      expect(sorted(await cache.smembers('d'))).toEqual([1, 2, 3, 5])

      // The version applies to every key, the destination included.
      const v3 = { version: 3 }
      await raw(cache, 'SADD', cache.makeKey('a', 3), '"x"', '"y"')
      await raw(cache, 'SADD', cache.makeKey('b', 3), '"y"')
      expect(await cache.sdiff('a', 'b', v3)).toEqual(['x'])
      expect(await cache.sunionstore('u', 'a', 'b', v3)).toBe(2)
      expect(await raw(cache, 'SCARD', cache.makeKey('u', 3))).toBe(2)
      expect(await cache.scard('u')).toBe(0)
    })

    it('sscan walks a large set in batches, each member once, decoded; match is on the stored form', async () => {
      const members = Array.from({ length: 500 }, (_, i) => ({ n: i }))
      for (let i = 0; i < members.length; i += 100) {
        await cache.sadd('big', ...members.slice(i, i + 100))
      }
      await cache.sadd('big', 'tag-a', 'tag-b', 'other')
      const seen = await collect(cache.sscan<{ n: number } | string>('big', { count: 50 }))
      expect(seen).toHaveLength(503)
      expect(new Set(seen.map((m) => JSON.stringify(m))).size).toBe(503)
      expect(sorted(await collect(cache.sscan('big', { match: '"tag-*' })))).toEqual([
        'tag-a',
        'tag-b',
      ])
      await raw(cache, 'SADD', cache.makeKey('big', 2), '"v2"')
      expect(await collect(cache.sscan('big', { version: 2 }))).toEqual(['v2'])
    })

    it('refuses bad arguments with InvalidArgumentError, before sending anything', async () => {
      const bad: Array<[string, () => Promise<unknown>]> = [
        ['sadd nothing', () => cache.sadd('s')],
        ['srem nothing', () => cache.srem('s')],
        ['smismember nothing', () => cache.smismember('s')],
        ['sdiff no key', () => cache.sdiff()],
        ['sinterstore no key', () => cache.sinterstore('d')],
        ['sunion only options', () => cache.sunion({ version: 2 })],
        ['spop count', () => cache.spop('s', 1.5)],
        ['srandmember count', () => cache.srandmember('s', Number.NaN)],
        ['sdiff option', () => cache.sdiff('a', 'b', { versoin: 2 } as never)],
        ['smembers option', () => cache.smembers('s', { count: 2 } as never)],
        ['sscan option', () => collect(cache.sscan('s', { itersize: 2 } as never))],
        ['sscan count', () => collect(cache.sscan('s', { count: 0 }))],
        ['sscan match', () => collect(cache.sscan('s', { match: '' }))],
      ]
      for (const [name, call] of bad) {
        await expect(Promise.resolve().then(call), name).rejects.toBeInstanceOf(
          InvalidArgumentError,
        )
      }
      expect(await cache.keys('*')).toEqual([])
    })

    it('a key of another type rejects with a ResponseError that names it; nothing changes', async () => {
      await cache.set('str', 'value')
      for (const call of [
        () => cache.sadd('str', 'a'),
        () => cache.smembers('str'),
        () => cache.sinter('str', 'other'),
        () => collect(cache.sscan('str')),
      ]) {
        const error = await call().catch((e: unknown) => e)
        expect(error).toBeInstanceOf(ResponseError)
        expect((error as Error).message).toMatch(/'str'/)
      }
      expect(await cache.get('str')).toBe('value')
    })

    it('a member the codec cannot read rejects with a SerializationError naming the key', async () => {
      await raw(cache, 'SADD', cache.makeKey('s'), '{not json')
      const error = await cache.smembers('s').catch((e: unknown) => e)
      expect(error).toBeInstanceOf(SerializationError)
      expect((error as Error).message).toMatch(/'s'/)
      await expect(collect(cache.sscan('s'))).rejects.toBeInstanceOf(SerializationError)
    })
  })
})
