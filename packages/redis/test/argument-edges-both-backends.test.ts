// Argument edges where a backend answered wrong, found by comparing Redis and memory:// call by
// call: zrange's `desc: 1` was ignored (while `withScores: 1` was honoured; now both, and every
// per-call boolean option, refuse what is not a boolean: `{ nx: 'false' }` was read as NX); withLock/withPermit
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
  it("per-call boolean options refuse a non-boolean (nx: 'false' is not NX, desc: 1 not REV)", async () => {
    const cache = cacheOf(backend)
    await cache.set('k', 1)
    await cache.zadd('z', { a: 1, b: 2 })
    const refused: Array<[() => Promise<unknown>, RegExp]> = [
      [
        () => cache.set('k', 2, { nx: 'false' as never }),
        /set\(\): nx must be a boolean, got the string 'false'/,
      ],
      [() => cache.set('k', 2, { xx: 1 as never }), /set\(\): xx must be a boolean, got 1/],
      [() => cache.set('k', 2, 60, { get: 'true' as never }), /set\(\): get must be a boolean/],
      [
        () => cache.zrange('z', 0, -1, { withScores: 'false' as never }),
        /zrange\(\): withScores must be a boolean/,
      ],
      [
        () => cache.zrange('z', 0, -1, { desc: 1 as never }),
        /zrange\(\): desc must be a boolean, got 1/,
      ],
      [() => cache.zrevrange('z', 0, -1, { withScores: 0 as never }), /zrevrange\(\): withScores/],
      [
        () => cache.zrangebyscore('z', '-inf', '+inf', { withScores: 'yes' as never }),
        /zrangebyscore\(\): withScores/,
      ],
      [() => cache.zadd('z', { c: 3 }, { nx: 'false' as never }), /zadd\(\): nx must be a boolean/],
      [
        () => cache.zadd('z', { c: 3 }, { ch: null as never }),
        /zadd\(\): ch must be a boolean, got null/,
      ],
      [() => cache.zadd('z', { a: 5 }, { gt: 'false' as never }), /zadd\(\): gt/],
      [() => cache.zadd('z', { a: 5 }, { incr: 1 as never }), /zadd\(\): incr/],
    ]
    for (const [call, message] of refused) {
      await expect(call()).rejects.toThrow(InvalidArgumentError)
      await expect(call()).rejects.toThrow(message)
    }
    // Nothing was written: not the set under NX, not the zadd members.
    expect(await cache.get('k')).toBe(1)
    expect(await cache.zrange('z', 0, -1, { withScores: true })).toEqual([
      ['a', 1],
      ['b', 2],
    ])
    // The booleans themselves, and false, work as before.
    expect(await cache.zrange('z', 0, -1, { desc: true })).toEqual(['b', 'a'])
    expect(await cache.zrange('z', 0, -1, { desc: false, withScores: false })).toEqual(['a', 'b'])
    expect(await cache.set('k', 3, { nx: false, xx: true })).toBe(true)
  })

  it('getOrSet, lock and semaphore boolean options name the method and the value they got', async () => {
    const cache = cacheOf(backend)
    let computed = 0
    const factory = () => {
      computed++
      return 'v'
    }
    const held = cache.lock('L', { timeout: 10 })
    expect(await held.acquire()).toBe(true)
    const refused: Array<[() => Promise<unknown>, RegExp]> = [
      [
        () => cache.getOrSet('g', factory, { distributed: 'false' as never }),
        /^getOrSet\(\): distributed must be a boolean, got the string 'false'$/,
      ],
      [
        () => cache.getOrSet('g', factory, 60, { distributed: 1 as never }),
        /^getOrSet\(\): distributed must be a boolean, got 1$/,
      ],
      [
        () => cache.getOrSet('g', factory, { earlyRecompute: '1' as never }),
        /^getOrSet\(\): earlyRecompute must be .*, got the string '1'$/,
      ],
      [
        async () => cache.lock('L2', { blocking: 'false' as never }),
        /^lock\(\): blocking must be a boolean, got the string 'false'$/,
      ],
      [
        () => cache.acquireLock('L2', { blocking: 0 as never }),
        /^lock\(\): blocking must be a boolean, got 0$/,
      ],
      [
        () => cache.lock('L2').acquire({ blocking: 'no' as never }),
        /^lock\.acquire\(\): blocking must be a boolean, got the string 'no'$/,
      ],
      [
        () => held.extend(1, { replaceTtl: 'true' as never }),
        /^lock\.extend\(\): replaceTtl must be a boolean, got the string 'true'$/,
      ],
      [
        async () => cache.semaphore('S', { limit: 2, blocking: 'false' as never }),
        /^semaphore\(\): blocking must be a boolean, got the string 'false'$/,
      ],
      [
        () => cache.semaphore('S', { limit: 2 }).acquire({ blocking: 1 as never }),
        /^semaphore\.acquire\(\): blocking must be a boolean, got 1$/,
      ],
    ]
    for (const [call, message] of refused) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect((error as Error).message).toMatch(message)
    }
    expect(computed).toBe(0)
    expect(await cache.get('g')).toBeNull()
    expect(await cache.hasKey('L2')).toBe(false)
    // null stays redis-py's None: the lock's (or semaphore's) own setting, replaceTtl false.
    expect(
      await cache.lock('L', { blocking: null as never, blockingTimeout: 0.01 }).acquire(),
    ).toBe(false)
    expect(await held.extend(1, { replaceTtl: null as never })).toBe(true)
    const permit = cache.semaphore('S', { limit: 1, blocking: null as never })
    expect(await permit.acquire({ blocking: null as never })).toBe(true)
    await permit.release()
    await held.release()
    expect(await cache.getOrSet('g', factory, { distributed: false })).toBe('v')
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
