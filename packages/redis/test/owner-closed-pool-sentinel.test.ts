// The twins of owner-closed-client.test.ts for a node-redis client pool and a RedisSentinel handed
// in as `location`: closed by its owner, the cache does not open it again (reopened, it would keep
// the owner's process alive after its shutdown), and calls reject with a ConnectionError saying so.
import { type Cache, ConnectionError, createCache } from '@cachex/redis'
import {
  delay,
  type RedisServer,
  type SentinelDeployment,
  startRedis,
  startSentinels,
} from '@cachex/test-utils'
import { createClientPool, createSentinel } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let server: RedisServer
let deployment: SentinelDeployment

beforeAll(async () => {
  ;[server, deployment] = await Promise.all([
    startRedis(),
    startSentinels({ replicas: 0, sentinels: 1 }),
  ])
}, 60_000)

afterAll(async () => {
  await Promise.all([server?.stop(), deployment?.stop()])
})

/** Three calls in a row reject with the ConnectionError saying so; the client stays closed. */
async function refusedWhileClosed(
  cache: Cache,
  given: { readonly isOpen: boolean },
): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const error = await cache.get('a').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConnectionError)
    expect((error as Error).message).toMatch(/closed by its owner/)
    await delay(100)
  }
  expect(given.isOpen).toBe(false)
}

/** A client of the user's, of one kind, and a cache over it. */
interface Given {
  readonly isOpen: boolean
  connect(): Promise<unknown>
  close(): Promise<unknown>
  destroy(): unknown
}

interface Kind {
  name: string
  make(): Given
  cacheOver(given: Given): Cache
}

const KINDS: Kind[] = [
  {
    name: 'a client pool',
    make() {
      const given = createClientPool({ url: server.url }, { minimum: 1, maximum: 2 })
      given.on('error', () => {})
      return given
    },
    cacheOver: (given) => createCache({ location: given as never, keyPrefix: 'owner-pool' }),
  },
  {
    name: 'a RedisSentinel',
    make() {
      const given = createSentinel({
        name: deployment.name,
        sentinelRootNodes: deployment.addresses.map(([host, port]) => ({ host, port })),
      })
      given.on('error', () => {})
      return given
    },
    cacheOver: (given) =>
      createCache({
        client: 'sentinel',
        location: given as never,
        sentinels: deployment.addresses.map(([h, p]) => [h, p] as [string, number]),
        keyPrefix: 'owner-sentinel',
      }),
  },
]

describe.each(KINDS)('$name of yours that you closed', (kind) => {
  /** Runs `body` with a new client of this kind and a cache over it; closes both after. */
  async function over(body: (given: Given, cache: Cache) => Promise<void>): Promise<void> {
    const given = kind.make()
    const cache = kind.cacheOver(given)
    try {
      await body(given, cache)
    } finally {
      await cache.close()
      if (given.isOpen) await given.close()
    }
  }

  for (const how of ['close', 'destroy'] as const) {
    it(`(${how}()) is not opened again: calls reject with a ConnectionError saying so`, () =>
      over(async (given, cache) => {
        await given.connect()
        await cache.set('a', 1)
        if (how === 'close') await given.close()
        else await given.destroy()
        await refusedWhileClosed(cache, given)
        await cache.close()
        expect(given.isOpen).toBe(false)
      }))
  }

  it('works again once its owner opens it again', () =>
    over(async (given, cache) => {
      await given.connect()
      await cache.set('b', 2)
      await given.close()
      await expect(cache.get('b')).rejects.toThrow(/closed by its owner/)
      await given.connect()
      expect(await cache.get('b')).toBe(2)
    }))

  it('is opened by the cache when handed in not open yet; not again once its owner closes it', () =>
    over(async (given, cache) => {
      await cache.set('a', 3)
      expect(given.isOpen).toBe(true)
      expect(await cache.get('a')).toBe(3)
      await given.close()
      await refusedWhileClosed(cache, given)
    }))

  it('opened by its owner after it was handed in, is not opened again once closed', () =>
    over(async (given, cache) => {
      await given.connect()
      await cache.set('a', 4)
      await given.close()
      await refusedWhileClosed(cache, given)
    }))
})
