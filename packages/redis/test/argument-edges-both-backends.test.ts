// Argument edges where a backend answered wrong, found by comparing Redis and memory:// call by
// call: zrange's `desc: 1` was ignored (while `withScores: 1` was honoured); withLock/withPermit
// given no function took the lock over the network, then threw a bare TypeError; a lock token
// with a lone surrogate was stored as U+FFFD, so owned() said false while the lock was held; and
// memory://'s hscan matched an empty field with `**`, which Redis never does.
import { type RedisServer, redisCall, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache, InvalidArgumentError } from '../src/index.ts'

let server: RedisServer
const made: Cache[] = []

beforeAll(async () => {
  server = await startRedis()
}, 60_000)

afterAll(async () => {
  await Promise.all(made.map((c) => c.close()))
  await server?.stop()
})

function cacheOf(backend: 'redis' | 'memory'): Cache {
  const location = backend === 'redis' ? server.url : 'memory://argument-edges'
  const cache = createCache({ location, keyPrefix: `edges-${made.length}` })
  made.push(cache)
  return cache
}

describe.each(['redis', 'memory'] as const)('%s', (backend) => {
  it('zrange honours a truthy desc as it does a truthy withScores', async () => {
    const cache = cacheOf(backend)
    await cache.zadd('z', { a: 1, b: 2 })
    expect(await cache.zrange('z', 0, -1, { withScores: 1 } as never)).toEqual([
      ['a', 1],
      ['b', 2],
    ])
    expect(await cache.zrange('z', 0, -1, { desc: 1 } as never)).toEqual(['b', 'a'])
    expect(await cache.zrange('z', 0, -1, { desc: 0 } as never)).toEqual(['a', 'b'])
  })

  it('withLock and withPermit given no function: InvalidArgumentError, and the lock never taken', async () => {
    const cache = cacheOf(backend)
    const lock = cache.lock('L', { timeout: 30 })
    await expect(lock.withLock(5 as never)).rejects.toThrow(InvalidArgumentError)
    await expect(lock.withLock(5 as never)).rejects.toThrow(/withLock\(\) takes a function/)
    expect(await cache.hasKey('L')).toBe(false)
    const semaphore = cache.semaphore('S', { limit: 1, timeout: 30 })
    await expect(semaphore.withPermit('x' as never)).rejects.toThrow(InvalidArgumentError)
    await expect(semaphore.withPermit('x' as never)).rejects.toThrow(
      /withPermit\(\) takes a function/,
    )
    // The permit was never taken: it is free for another holder at once.
    expect(await semaphore.acquire({ blocking: false })).toBe(true)
    await semaphore.release()
  })

  it('a lock token that is not well-formed UTF-16 is refused before anything is sent', async () => {
    const cache = cacheOf(backend)
    const lock = cache.lock('T', { timeout: 30 })
    await expect(lock.acquire({ blocking: false, token: 'a\ud800' })).rejects.toThrow(
      InvalidArgumentError,
    )
    expect(await cache.hasKey('T')).toBe(false)
    // A well-formed one, astral characters included, is taken and owned.
    expect(await lock.acquire({ blocking: false, token: 'a\ud83d\ude00' })).toBe(true)
    expect(await lock.owned()).toBe(true)
    await lock.release()
  })

  it('hscan with an all-star pattern never matches an empty field (fields are raw bytes)', async () => {
    const cache = cacheOf(backend)
    await cache.hmset('h', { '': 1, a: 2 })
    for (const match of ['**', '***']) {
      const fields: string[] = []
      for await (const [field] of cache.hscan('h', { match })) fields.push(field)
      expect(fields).toEqual(['a'])
    }
    // `*` alone matches everything, the empty field too, on both.
    const all: string[] = []
    for await (const [field] of cache.hscan('h', { match: '*' })) all.push(field)
    expect(all.sort()).toEqual(['', 'a'])
  })
})

it('Redis itself: HSCAN MATCH ** leaves out the empty field (what memory:// follows)', async () => {
  await redisCall(server.url, ['HSET', 'raw-h', '', '1', 'a', '2'])
  const reply = (await redisCall(server.url, ['HSCAN', 'raw-h', '0', 'MATCH', '**'])) as [
    unknown,
    unknown[],
  ]
  expect(reply[1].map(String)).toEqual(['a', '2'])
})
