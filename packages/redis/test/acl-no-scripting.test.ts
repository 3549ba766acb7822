// Writes under an ACL user without scripting (`-@scripting`): a `set` and a `setMany` with an
// expiry are `SET … PX` commands to this user, as in django-redis, however many are called at once.
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache, ResponseError } from '../src/index.ts'

let server: RedisServer

beforeAll(async () => {
  server = await startRedis()
  const admin = createClient({ url: server.url })
  await admin.connect()
  await admin.sendCommand([
    'ACL',
    'SETUSER',
    'plain',
    'on',
    '>plain-pw',
    '~app:*',
    '+@all',
    '-@scripting',
  ])
  // Scripting allowed, but not a command incr's script runs.
  await admin.sendCommand([
    'ACL',
    'SETUSER',
    'noexists',
    'on',
    '>ne-pw',
    '~app:*',
    '+@all',
    '-exists',
  ])
  await admin.close()
})

afterAll(async () => {
  await server?.stop()
})

const url = () => server.url.replace('redis://', 'redis://plain:plain-pw@')

describe('an ACL user without scripting', () => {
  it('sets made right before close() are stored (the script refused once close() began)', async () => {
    const cache = createCache({ location: url(), keyPrefix: 'app' })
    await cache.get('connected') // connected; no script tried yet
    const sets = Promise.allSettled(['c1', 'c2', 'c3'].map((k) => cache.set(k, k, 60)))
    await cache.close()
    expect(await sets).toEqual(['c1', 'c2', 'c3'].map(() => ({ status: 'fulfilled', value: true })))
    const check = createCache({ location: url(), keyPrefix: 'app' })
    try {
      expect(await check.getMany(['c1', 'c2', 'c3'])).toEqual(
        new Map([
          ['c1', 'c1'],
          ['c2', 'c2'],
          ['c3', 'c3'],
        ]),
      )
    } finally {
      await check.close()
    }
  })

  it('sets of one tick, with the default expiry or their own, store with their expiry', async () => {
    const cache = createCache({ location: url(), keyPrefix: 'app' })
    try {
      // Twice: the first batch learns the script is refused, the second goes without it.
      for (const round of [1, 2]) {
        const keys = Array.from({ length: 20 }, (_, i) => `r${round}-${i}`)
        const stored = await Promise.all(
          keys.map((key, i) => (i < 10 ? cache.set(key, i) : cache.set(key, i, 60))),
        )
        expect(stored).toEqual(keys.map(() => true))
        expect([...(await cache.getMany(keys)).values()]).toEqual(keys.map((_, i) => i))
        for (const [i, key] of keys.entries()) {
          const ttl = await cache.ttl(key)
          expect(ttl).toBeGreaterThan(i < 10 ? 200 : 50)
          expect(ttl).toBeLessThanOrEqual(i < 10 ? 300 : 60)
        }
      }
    } finally {
      await cache.close()
    }
  })

  it('setMany with a timeout stores every key with it', async () => {
    const cache = createCache({ location: url(), keyPrefix: 'app' })
    try {
      expect(await cache.setMany({ x: 1, y: 2, z: 3 }, 60)).toEqual([])
      expect(await cache.getMany(['x', 'y', 'z'])).toEqual(
        new Map([
          ['x', 1],
          ['y', 2],
          ['z', 3],
        ]),
      )
      for (const key of ['x', 'y', 'z']) expect(await cache.ttl(key)).toBeGreaterThan(50)
    } finally {
      await cache.close()
    }
  })
})

describe('incr for an ACL user without scripting', () => {
  it('rejects with the NOPERM of its script, whether the key exists or not, and changes nothing', async () => {
    const cache = createCache({ location: url(), keyPrefix: 'app' })
    try {
      await cache.set('n', 5)
      const refused = async (call: Promise<unknown>) => {
        const error = await call.then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(error).toBeInstanceOf(ResponseError)
        expect((error as Error).message).toMatch(/^NOPERM .*'eval/)
      }
      await refused(cache.incr('n'))
      await refused(cache.incr('missing'))
      await refused(cache.decr('missing', 2))
      // Several in one tick, of one key and of several.
      await Promise.all([cache.incr('n'), cache.incr('n'), cache.incr('missing')].map(refused))
      expect(await cache.get('n')).toBe(5)
      expect(await cache.hasKey('missing')).toBe(false)
    } finally {
      await cache.close()
    }
  })
})

describe('an ACL user with scripting but without a command of the incr script (EXISTS)', () => {
  it('incr rejects with what the ACL refused, and changes nothing (no read-add-write instead)', async () => {
    const cache = createCache({
      location: server.url.replace('redis://', 'redis://noexists:ne-pw@'),
      keyPrefix: 'app',
    })
    try {
      await cache.set('e', 5)
      const calls = [
        ['incr', () => cache.incr('e')],
        ['decr', () => cache.decr('e', 2)],
      ] as const
      for (const [method, call] of calls) {
        const error = await call().then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(error).toBeInstanceOf(ResponseError)
        expect((error as Error).message).toMatch(/can't run this command/)
        // Named as called: decr() is not incr() to the user.
        expect((error as Error).message).toMatch(
          new RegExp(`^${method}\\(\\) of key 'e'.*EXISTS, INCRBY and GET`),
        )
      }
      expect(await cache.get('e')).toBe(5)
    } finally {
      await cache.close()
    }
  })
})

describe('hincrby for an ACL user without scripting: no script needed, exact digits', () => {
  const SAFE = Number.MAX_SAFE_INTEGER

  it('hincrby still works, alone and in a pipeline', async () => {
    const cache = createCache({ location: url(), keyPrefix: 'app' })
    try {
      expect(await cache.hincrby('h', 'f')).toBe(1)
      expect(await cache.hincrby('h', 'f', 41)).toBe(42)
      // Several at once.
      expect(await Promise.all([1, 2, 3].map(() => cache.hincrby('h', 'g', 2)))).toEqual([2, 4, 6])
      expect(await cache.pipeline().hincrby('h', 'f', 1).hincrby('h', 'g', -6).exec()).toEqual([
        43, 0,
      ])
      expect(await cache.transaction().hincrby('h', 'f', 1).hget('h', 'f').exec()).toEqual([44, 44])
      // Near and beyond 2^53, read back exactly: no script is needed.
      expect(await cache.hincrby('h', 's', SAFE - 2)).toBe(SAFE - 2)
      expect(await cache.hincrby('h', 's', 12)).toBe(2n ** 53n + 9n)
      const error = await cache.hincrby('h', 'x', 1.5).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(Error)
    } finally {
      await cache.close()
    }
  })

  it('a pipeline is the first to call hincrby: it still works', async () => {
    const cache = createCache({ location: url(), keyPrefix: 'app' })
    try {
      expect(await cache.pipeline().hincrby('p', 'f', 3).hget('p', 'f').exec()).toEqual([3, 3])
      expect(await cache.hincrby('p', 'f', 1)).toBe(4)
    } finally {
      await cache.close()
    }
  })

  it('a transaction is the first to call hincrby: it still works', async () => {
    const cache = createCache({ location: url(), keyPrefix: 'app' })
    try {
      expect(await cache.transaction().hincrby('t', 'f', 3).hget('t', 'f').exec()).toEqual([3, 3])
      expect(await cache.hincrby('t', 'f', 1)).toBe(4)
    } finally {
      await cache.close()
    }
  })
})
