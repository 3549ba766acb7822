// How blocked pops are served, the same on a real server and on memory://: Redis serves list
// waiters only from lists (a string or sorted set renamed onto a waited key leaves them blocked),
// after each command (a pipeline's next command sees the pop), once after a transaction (from
// the key it wrote first), and first come, first served (a wake that finds nothing keeps a
// client's place).
import { type Cache, createCache } from '@cachex/redis'
import { delay, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer, untilBlocked } from './helpers.ts'

/** The call's value, or the name and message of its error. */
function outcome<T>(p: Promise<T>): Promise<{ ok: T } | { err: string; msg: string }> {
  return p.then(
    (ok) => ({ ok }),
    (e: Error) => ({ err: e.constructor.name, msg: e.message }),
  )
}

describe.each(BACKENDS)('%s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    cache = createCache({ location: server.url, keyPrefix: uniquePrefix('bso') })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  describe('a non-list written onto the key of a blocked pop leaves it blocked', () => {
    it('a string renamed onto it', async () => {
      await cache.set('s', 'str')
      const popped = outcome(cache.blpop('r', 1))
      await untilBlocked(cache)
      await cache.rename('s', 'r')
      expect(await popped).toEqual({ ok: null })
      expect(await cache.get('r')).toBe('str')
    })

    it('a sorted set renamed onto it', async () => {
      await cache.zadd('zz', { a: 1 })
      const popped = outcome(cache.brpop(['zr', 'none'], 1))
      await untilBlocked(cache)
      await cache.rename('zz', 'zr')
      expect(await popped).toEqual({ ok: null })
    })

    it('a string moved onto it by incrVersion', async () => {
      await cache.set('v', 'str')
      const popped = outcome(cache.blpop('v', 1, { version: 2 }))
      await untilBlocked(cache)
      await cache.incrVersion('v')
      expect(await popped).toEqual({ ok: null })
    })

    it('the source of a blmove becoming a string', async () => {
      await cache.set('bs', 'str')
      const moved = outcome(cache.blmove('bsrc', 'bdst', 1))
      await untilBlocked(cache)
      await cache.rename('bs', 'bsrc')
      expect(await moved).toEqual({ ok: null })
    })

    it('and is served by a list pushed there later', async () => {
      await cache.set('s2', 'str')
      const popped = outcome(cache.blpop('r2', 5))
      await untilBlocked(cache)
      await cache.rename('s2', 'r2')
      await delay(100)
      await cache.delete('r2')
      await cache.rpush('r2', 'x')
      expect(await popped).toEqual({ ok: ['r2', 'x'] })
    })

    it('but a pop that finds a non-list at once still gets WRONGTYPE', async () => {
      await cache.set('w', 'str')
      const popped = await outcome(cache.blpop(['nothing', 'w'], 1))
      expect(popped).toMatchObject({
        err: 'ResponseError',
        msg: expect.stringContaining('WRONGTYPE'),
      })
    })

    it('and a blmove served while its destination holds a string gets WRONGTYPE, the element stays', async () => {
      await cache.set('dst', 'str')
      const moved = outcome(cache.blmove('src', 'dst', 5))
      await untilBlocked(cache)
      await cache.rpush('src', 'x')
      expect(await moved).toMatchObject({
        err: 'ResponseError',
        msg: expect.stringContaining('WRONGTYPE'),
      })
      expect(await cache.lrange('src', 0, -1)).toEqual(['x'])
    })
  })

  describe('when blocked clients are served', () => {
    it('after a transaction, from the key it pushed to first', async () => {
      const popped = cache.blpop(['k1', 'k2'], 5)
      await untilBlocked(cache)
      await cache.transaction().rpush('k2', 'x').rpush('k1', 'y').exec()
      expect(await popped).toEqual(['k2', 'x'])
      expect(await cache.lrange('k1', 0, -1)).toEqual(['y'])
    })

    it('after each command of a pipeline, before the next one runs', async () => {
      const popped = cache.blpop('p', 5)
      await untilBlocked(cache)
      const replies = await cache.pipeline().rpush('p', 'x').llen('p').exec()
      expect(await popped).toEqual(['p', 'x'])
      expect(replies).toEqual([1, 0])
    })

    it('first come, first served, even after a wake that found nothing', async () => {
      const order: string[] = []
      const a = cache.blpop('f', 5).then((v) => order.push(`A:${v?.[1]}`))
      await untilBlocked(cache, 1)
      const b = cache.blpop(['j', 'f'], 5).then((v) => order.push(`B:${v?.[1]}`))
      await untilBlocked(cache, 2)
      const c = cache.blpop('f', 5).then((v) => order.push(`C:${v?.[1]}`))
      await untilBlocked(cache, 3)
      // j gets an element that is gone again before anyone is served: B keeps its place on f.
      await cache.transaction().rpush('j', 'tmp').lpop('j').exec()
      await delay(50)
      await cache.rpush('f', 1, 2)
      await delay(300)
      await cache.rpush('f', 3)
      await Promise.all([a, b, c])
      // The replies of three connections may come back in any order: each client's value.
      expect(order.sort()).toEqual(['A:1', 'B:2', 'C:3'])
    })

    it('a blocked xread is served from the stream a transaction wrote first', async () => {
      const read = cache.xread<number>({ x1: '$', x2: '$' }, { block: 5000 })
      await untilBlocked(cache)
      await cache
        .transaction()
        .xadd('x2', { n: 2 }, { id: '1-0' })
        .xadd('x1', { n: 1 }, { id: '1-0' })
        .exec()
      expect(await read).toEqual([{ key: 'x2', entries: [{ id: '1-0', fields: { n: 2 } }] }])
    })

    it('a blmove served into a waited key serves that waiter too', async () => {
      const moved = cache.blmove('m1', 'm2', 5)
      await untilBlocked(cache, 1)
      const popped = cache.blpop('m2', 5)
      await untilBlocked(cache, 2)
      await cache.rpush('m1', 'x')
      expect(await moved).toBe('x')
      expect(await popped).toEqual(['m2', 'x'])
      expect(await cache.hasKey('m2')).toBe(false)
    })
  })
})
