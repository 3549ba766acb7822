// A pipelined `incr` of a value INCRBY refuses (a float) reads, adds and writes back after the
// batch: it must act as if the pipeline's calls ran one after another. It once ran the method
// after the batch, which read the key after every command queued behind it: `incr` then `set 10`
// answered 11 and left 11, the set lost.
import { type Cache, createCache } from '@cachex/redis'
import { type RedisServer, standaloneServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deploymentsWithMemory, onDeployment } from './helpers.ts'

describe.each(deploymentsWithMemory('plincr'))(
  '$name: a float incr in a pipeline, then the calls behind it',
  (topology) => {
    const { connected, settled } = onDeployment(topology, 'plincr')

    it('incr, then a set of its key: the incr answers its sum, the set stays', async () => {
      const cache = await connected()
      await cache.set('f', 1.5)
      const pipe = cache.pipeline()
      pipe.incr('f')
      pipe.set('f', 10)
      expect(await pipe.exec()).toEqual([2.5, true])
      await settled(cache)
      expect(await cache.get('f')).toBe(10)

      // decr, and as: 'number', the same.
      await cache.set('g', 1.5)
      expect(
        await cache.pipeline().decr('g', 1, { as: 'number' }).set('g', 'after').exec(),
      ).toEqual([0.5, true])
      await settled(cache)
      expect(await cache.get('g')).toBe('after')
    })

    it('incr, then a delete of its key: the incr answers its sum, the key stays deleted', async () => {
      const cache = await connected()
      await cache.set('f', 1.5)
      const pipe = cache.pipeline()
      pipe.incr('f')
      pipe.delete('f')
      expect(await pipe.exec()).toEqual([2.5, true])
      await settled(cache)
      expect(await cache.hasKey('f')).toBe(false)

      // setMany and deleteMany over the key and another.
      await cache.set('g', 0.5)
      const results = await cache.pipeline().incr('g').setMany({ g: 'many', h: 1 }).exec()
      expect(results).toEqual([1.5, []])
      await cache.set('i', 0.5)
      expect(await cache.pipeline().incr('i', 2).deleteMany(['h', 'i']).exec()).toEqual([2.5, 2])
      await settled(cache)
      expect(await cache.getMany(['g', 'h', 'i'])).toEqual(new Map([['g', 'many']]))
    })

    it('two incrs of one key: each adds to what the one before left', async () => {
      const cache = await connected()
      await cache.set('f', 1.5)
      const pipe = cache.pipeline()
      pipe.incr('f')
      pipe.incr('f')
      expect(await pipe.exec()).toEqual([2.5, 3.5])
      await settled(cache)
      expect(await cache.get('f')).toBe(3.5)

      // Then a set: both sums answered, the set stays.
      await cache.set('g', 1.5)
      expect(await cache.pipeline().incr('g').incr('g', 2).set('g', 'last').exec()).toEqual([
        2.5,
        4.5,
        true,
      ])
      await settled(cache)
      expect(await cache.get('g')).toBe('last')
    })

    it('incr, set, incr: the second incr adds to what the set stored', async () => {
      const cache = await connected()
      await cache.set('f', 1.5)
      expect(await cache.pipeline().incr('f').set('f', 7.5).incr('f').exec()).toEqual([
        2.5,
        true,
        8.5,
      ])
      await settled(cache)
      expect(await cache.get('f')).toBe(8.5)

      await cache.set('g', 1.5)
      expect(await cache.pipeline().incr('g').set('g', 10).incr('g').exec()).toEqual([
        2.5,
        true,
        11,
      ])
      await settled(cache)
      expect(await cache.get('g')).toBe(11)

      // A set of the bytes it held: the second incr adds to the set's value, not the first's sum.
      await cache.set('h', 1.5)
      expect(await cache.pipeline().incr('h').set('h', 1.5).incr('h').exec()).toEqual([
        2.5,
        true,
        2.5,
      ])
      await settled(cache)
      expect(await cache.get('h')).toBe(2.5)
    })

    it("incr, touch, incr, set: the second incr still adds to the first one's sum", async () => {
      const cache = await connected()
      await cache.set('f', 1.5)
      expect(await cache.pipeline().incr('f').touch('f', 100).incr('f', 2).exec()).toEqual([
        2.5,
        true,
        4.5,
      ])
      await settled(cache)
      expect(await cache.get('f')).toBe(4.5)

      await cache.set('g', 1.5)
      const results = await cache
        .pipeline()
        .incr('g')
        .expire('g', 100)
        .incr('g', 2)
        .set('g', 'last')
        .exec()
      expect(results).toEqual([2.5, true, 4.5, true])
      await settled(cache)
      expect(await cache.get('g')).toBe('last')
    })

    it('incr, then writes that keep the value (touch, expire, an add): the sum is written', async () => {
      const cache = await connected()
      await cache.set('f', 1.5)
      const results = await cache
        .pipeline()
        .incr('f')
        .touch('f', 100)
        .expire('f', 200)
        .add('f', 'no')
        .exec()
      expect(results).toEqual([2.5, true, true, false])
      await settled(cache)
      expect(await cache.get('f')).toBe(2.5)
      const ttl = await cache.ttl('f')
      expect(ttl).toBeGreaterThan(190)
      expect(ttl).toBeLessThanOrEqual(200)
    })

    it('incr, then touch with a timeout of 0 (a delete): the key stays deleted', async () => {
      const cache = await connected()
      await cache.set('f', 1.5)
      expect(await cache.pipeline().incr('f').touch('f', 0).exec()).toEqual([2.5, true])
      await settled(cache)
      expect(await cache.hasKey('f')).toBe(false)
    })

    it('integer incrs are unchanged', async () => {
      const cache = await connected()
      await cache.set('i', 1)
      expect(await cache.pipeline().incr('i').set('i', 10).incr('i').incr('i', 5).exec()).toEqual([
        2,
        true,
        11,
        16,
      ])
      await settled(cache)
      expect(await cache.get('i')).toBe(16)
    })

    it('a transaction still answers a float incr with the error', async () => {
      const cache = await connected()
      await cache.set('{t}f', 1.5)
      const results = await cache.transaction().incr('{t}f').set('{t}g', 1).exec()
      expect(results[0]).toBeInstanceOf(Error)
      expect((results[0] as Error).message).toMatch(/not an integer/)
      expect(results[1]).toBe(true)
      await settled(cache)
      expect(await cache.get('{t}f')).toBe(1.5)
    })

    it("another client's write after the pipeline is read again: no increment lost", async () => {
      const cache = await connected()
      await cache.set('f', 1.5)
      await cache.set('seven', 7.5)
      const rkey = cache.makeKey('f')
      const other = cache.makeKey('seven')
      const bytes = (await cache.connection.command(['GET', other], { key: other })) as Buffer
      const pipe = cache.pipeline()
      pipe.incr('f')
      pipe.set('g', 1)
      const executed = pipe.exec()
      // Sent behind the pipeline, before the incr's write-back: another client's write.
      const written = cache.connection.command(['SET', rkey, bytes], { key: rkey })
      expect(await executed).toEqual([8.5, true])
      await written
      await settled(cache)
      expect(await cache.get('f')).toBe(8.5)
    })

    it('a write by this cache right after exec(), in the same tick, stays: the incr came first', async () => {
      const cache = await connected()
      await cache.set('f', 1.5)
      const executed = cache.pipeline().incr('f').exec()
      const set = cache.set('f', 10)
      expect(await executed).toEqual([2.5])
      expect(await set).toBe(true)
      await settled(cache)
      expect(await cache.get('f')).toBe(10)
    })

    it('two pipelines of [incr, touch] in one tick: no increment lost', async () => {
      // An expiry in the future keeps the value: the second fallback's swap fails on the
      // first's sum, and it reads again (it once answered unwritten: both 2.5, and 2.5 left).
      const cache = await connected()
      await cache.set('f', 1.5)
      const a = cache.pipeline().incr('f').touch('f', 100).exec()
      const b = cache.pipeline().incr('f').expire('f', 100).exec()
      expect([await a, await b]).toEqual([
        [2.5, true],
        [3.5, true],
      ])
      await settled(cache)
      expect(await cache.get('f')).toBe(3.5)
    })

    it('incr, then an expiry of 0 (a delete) and an add of the same bytes: the add stands', async () => {
      const cache = await connected()
      await cache.set('f', 1.5)
      expect(await cache.pipeline().incr('f').touch('f', 0).add('f', 1.5).exec()).toEqual([
        2.5,
        true,
        true,
      ])
      await settled(cache)
      expect(await cache.get('f')).toBe(1.5)

      // An incr after the add starts from what the add stored, not from the first one's sum.
      await cache.set('g', 1.5)
      expect(
        await cache.pipeline().incr('g').expire('g', 0).add('g', 1.5).incr('g').exec(),
      ).toEqual([2.5, true, true, 2.5])
      await settled(cache)
      expect(await cache.get('g')).toBe(2.5)
    })

    it('incr, a rename onto its key of the same bytes, incr: the rename stands', async () => {
      const cache = await connected()
      // One slot on a cluster (a hash tag): RENAME names both keys.
      await cache.set('{r}f', 1.5)
      await cache.set('{r}g', 1.5)
      expect(
        await cache.pipeline().incr('{r}f').rename('{r}g', '{r}f').incr('{r}f').exec(),
      ).toEqual([2.5, true, 2.5])
      await settled(cache)
      expect(await cache.get('{r}f')).toBe(2.5)
    })

    it("a pipeline's float incr and a method's of one key, then a failing write: no increment lost", async () => {
      // The pipeline's fallback started from the value its script saw, not from the sum of the
      // fallback before it: its swap failed, and the failing hset (which may have replaced the
      // value) made it answer unwritten.
      const cache = await connected()
      await cache.set('f', 1.5)
      const first = await Promise.all([
        cache.incr('f'),
        cache.pipeline().incr('f').exec(),
        cache.hset('f', 'x', 1).catch(() => 'refused'),
      ])
      expect(first).toEqual([2.5, [3.5], 'refused'])
      await settled(cache)
      expect(await cache.get('f')).toBe(3.5)

      await cache.set('g', 1.5)
      const two = await Promise.all([
        cache.pipeline().incr('g').exec(),
        cache.pipeline().incr('g').exec(),
        cache.lpush('g', 'x').catch(() => 'refused'),
      ])
      expect(two).toEqual([[2.5], [3.5], 'refused'])
      await settled(cache)
      expect(await cache.get('g')).toBe(3.5)

      // The pipeline's call first, the method's after: the answers may come swapped (the
      // pipeline's reply takes longer), the sums both count.
      await cache.set('h', 1.5)
      const [[piped], method, refused] = await Promise.all([
        cache.pipeline().incr('h').exec(),
        cache.incr('h'),
        cache.sadd('h', 'x').catch(() => 'refused'),
      ])
      expect([[piped, method].sort(), refused]).toEqual([[2.5, 3.5], 'refused'])
      await settled(cache)
      expect(await cache.get('h')).toBe(3.5)
    })

    it('float incrs of pipelines and methods around a replacing write answer as one after another', async () => {
      const cache = await connected()
      // Two pipelines, then a set: the second adds to the first one's sum (the set, made after
      // both, once hid that no write came between them).
      await cache.set('f', 1.5)
      expect(
        await Promise.all([
          cache.pipeline().incr('f').exec(),
          cache.pipeline().incr('f').exec(),
          cache.set('f', 9),
        ]),
      ).toEqual([[2.5], [3.5], true])
      await settled(cache)
      expect(await cache.get('f')).toBe(9)

      // A method's, then a pipeline's whose own set comes after its incr: the same.
      await cache.set('g', 1.5)
      expect(
        await Promise.all([cache.incr('g'), cache.pipeline().incr('g').set('g', 9).exec()]),
      ).toEqual([2.5, [3.5, true]])

      // A pipeline's incr and set of the same bytes, then a method's: the method adds to what the
      // set stored, and the pipeline's incr answers its own sum (it once added the method's).
      await cache.set('h', 1.5)
      expect(
        await Promise.all([cache.pipeline().incr('h').set('h', 1.5).exec(), cache.incr('h')]),
      ).toEqual([[2.5, true], 2.5])
      await settled(cache)
      expect(await cache.get('h')).toBe(2.5)
    })

    it('incr, then a SINTERSTORE into its key: the incr answers its sum, the set stays', async () => {
      const cache = await connected()
      await cache.set('{s}f', 1.5)
      await cache.sadd('{s}a', 'x')
      expect(await cache.pipeline().incr('{s}f').sinterstore('{s}f', '{s}a').exec()).toEqual([
        2.5, 1,
      ])
      await settled(cache)
      expect(await cache.smembers('{s}f')).toEqual(['x'])
    })
  },
)

describe('a pipeline with a float incr that fails as a whole', () => {
  let server: RedisServer
  let cache: Cache

  beforeAll(async () => {
    server = await startRedis()
    cache = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('plincr'),
      socketConnectTimeout: 0.5,
      socketTimeout: 0.5,
    })
  })

  afterAll(async () => {
    server?.resume()
    await cache?.close()
    await server?.stop()
  })

  it('leaves no incr under way: writes long after are not noted forever', async () => {
    await cache.set('f', 1.5)
    server.pause()
    try {
      // The read times out, so the connection is known down and exec() is refused at once.
      await cache.get('f').catch(() => {})
      await expect(cache.pipeline().incr('f').exec()).rejects.toThrow(/unreachable/)
    } finally {
      server.resume()
    }
    for (let i = 0; ; i++) {
      if ((await cache.get('f').catch(() => undefined)) === 1.5) break
      expect(i).toBeLessThan(200)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    // Were the incr still under way, these writes would fill the notes (100,000 keys at most),
    // and past them a set made right after a float incr would count as another client's.
    for (let i = 0; i < 11; i++) {
      const entries: Record<string, number> = {}
      for (let j = 0; j < 10_000; j++) entries[`k${i}-${j}`] = j
      await cache.setMany(entries, { timeout: null })
    }
    const incr = cache.incr('f')
    const set = cache.set('f', 10)
    expect([await incr, await set, await cache.get('f')]).toEqual([2.5, true, 10])
  }, 60_000)
})

describe('a float incr in a pipeline, with a local tier', () => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache

  beforeAll(async () => {
    server = await standaloneServer()
    cache = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('plincr'),
      local: { maxEntries: 1000 },
    })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  it('the sum written back is what the next read gets, not the copy the tier held', async () => {
    for (let round = 0; round < 20; round++) {
      await cache.set('f', 1.5)
      // Held by the tier (tracking comes up on first use).
      for (let i = 0; i < 100; i++) {
        const before = cache.localStats()?.hits ?? 0
        expect(await cache.get('f')).toBe(1.5)
        if ((cache.localStats()?.hits ?? 0) > before) break
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      expect(await cache.pipeline().incr('f').touch('f', 100).exec()).toEqual([2.5, true])
      expect(await cache.get('f')).toBe(2.5)
    }
  })
})
