import { type Cache, createCache, InvalidArgumentError } from '@cachex/redis'
import { standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { raw, rawPttl } from './helpers.ts'

let server: { url: string; stop(): Promise<void> }
let cache: Cache
const extra: Cache[] = []

function another(keyPrefix: string): Cache {
  const c = createCache({ location: server.url, keyPrefix })
  extra.push(c)
  return c
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = []
  for await (const key of iterable) out.push(key)
  return out
}

const sorted = (keys: string[]) => [...keys].sort()

beforeAll(async () => {
  server = await standaloneServer()
  cache = createCache({ location: server.url, keyPrefix: uniquePrefix('ext') })
})

afterAll(async () => {
  await Promise.all([cache?.close(), ...extra.map((c) => c.close())])
  await server?.stop()
})

beforeEach(async () => {
  await cache.clear()
})

describe('ttl / pttl', () => {
  it('is null without expiry and 0 for a missing key', async () => {
    await cache.set('k', 1, { timeout: null })
    expect(await cache.ttl('k')).toBeNull()
    expect(await cache.pttl('k')).toBeNull()
    expect(await cache.ttl('missing')).toBe(0)
    expect(await cache.pttl('missing')).toBe(0)
  })

  it('gives seconds and milliseconds', async () => {
    await cache.set('k', 1, { timeout: 50 })
    const ttl = await cache.ttl('k')
    expect(ttl).toBeGreaterThanOrEqual(49)
    expect(ttl).toBeLessThanOrEqual(50)
    const pttl = await cache.pttl('k')
    expect(pttl).toBeGreaterThan(48_000)
    expect(pttl).toBeLessThanOrEqual(50_000)
  })
})

describe('expire / pexpire / expireAt / pexpireAt / persist', () => {
  it('expire sets seconds, fractions allowed, and resolves whether the key exists', async () => {
    await cache.set('k', 1, { timeout: null })
    expect(await cache.expire('k', 20)).toBe(true)
    expect(await cache.ttl('k')).toBeGreaterThanOrEqual(19)
    expect(await cache.expire('k', 1.5)).toBe(true)
    const pttl = await cache.pttl('k')
    expect(pttl).toBeGreaterThan(0)
    expect(pttl).toBeLessThanOrEqual(1500)
    expect(await cache.expire('missing', 20)).toBe(false)
    expect(await cache.hasKey('missing')).toBe(false)
  })

  it('expire with 0 deletes the key', async () => {
    await cache.set('k', 1)
    expect(await cache.expire('k', 0)).toBe(true)
    expect(await cache.hasKey('k')).toBe(false)
  })

  it('pexpire sets milliseconds', async () => {
    await cache.set('k', 1, { timeout: null })
    expect(await cache.pexpire('k', 7000)).toBe(true)
    const pttl = await cache.pttl('k')
    expect(pttl).toBeGreaterThan(6000)
    expect(pttl).toBeLessThanOrEqual(7000)
    expect(await cache.pexpire('missing', 7000)).toBe(false)
  })

  it('expireAt takes a Date or Unix seconds', async () => {
    await cache.set('a', 1, { timeout: null })
    await cache.set('b', 1, { timeout: null })
    expect(await cache.expireAt('a', new Date(Date.now() + 60_000))).toBe(true)
    expect(await cache.expireAt('b', Date.now() / 1000 + 120)).toBe(true)
    const a = (await cache.ttl('a')) as number
    const b = (await cache.ttl('b')) as number
    expect(a).toBeGreaterThan(55)
    expect(a).toBeLessThanOrEqual(60)
    expect(b).toBeGreaterThan(115)
    expect(b).toBeLessThanOrEqual(120)
    expect(await cache.expireAt('missing', new Date(Date.now() + 60_000))).toBe(false)
  })

  it('expireAt in the past deletes the key', async () => {
    await cache.set('k', 1)
    expect(await cache.expireAt('k', Math.floor(Date.now() / 1000) - 10)).toBe(true)
    expect(await cache.hasKey('k')).toBe(false)
  })

  it('pexpireAt takes a Date or Unix milliseconds', async () => {
    await cache.set('a', 1, { timeout: null })
    await cache.set('b', 1, { timeout: null })
    expect(await cache.pexpireAt('a', Date.now() + 30_000)).toBe(true)
    expect(await cache.pexpireAt('b', new Date(Date.now() + 90_000))).toBe(true)
    const a = (await cache.pttl('a')) as number
    const b = (await cache.pttl('b')) as number
    expect(a).toBeGreaterThan(25_000)
    expect(a).toBeLessThanOrEqual(30_000)
    expect(b).toBeGreaterThan(85_000)
    expect(b).toBeLessThanOrEqual(90_000)
    expect(await cache.pexpireAt('missing', Date.now() + 30_000)).toBe(false)
  })

  it('persist removes a timeout and resolves whether one was removed', async () => {
    await cache.set('k', 1, { timeout: 30 })
    expect(await cache.persist('k')).toBe(true)
    expect(await cache.ttl('k')).toBeNull()
    expect(await cache.persist('k')).toBe(false)
    expect(await cache.persist('missing')).toBe(false)
  })

  it('bad times reject with InvalidArgumentError and change nothing', async () => {
    await cache.set('k', 1, { timeout: null })
    const bad = '10' as unknown as number
    await expect(cache.expire('k', bad)).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(cache.expire('k', Number.NaN)).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(cache.pexpire('k', bad)).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(cache.pexpire('k', Number.POSITIVE_INFINITY)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    )
    await expect(cache.expireAt('k', bad)).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(cache.expireAt('k', new Date(Number.NaN))).rejects.toBeInstanceOf(
      InvalidArgumentError,
    )
    await expect(cache.pexpireAt('k', bad)).rejects.toBeInstanceOf(InvalidArgumentError)
    expect(await cache.ttl('k')).toBeNull()
  })
})

describe('keys / iterKeys / deletePattern', () => {
  beforeEach(async () => {
    await cache.setMany({ 'user:1': 1, 'user:2': 2, 'user:10': 10, 'post:1': 'p', 'a:b:c': 'x' })
    // Another version of a key must not show up.
    await cache.set('user:3', 3, { version: 2 })
  })

  it('keys gives the user keys matching the pattern', async () => {
    expect(sorted(await cache.keys('*'))).toEqual([
      'a:b:c',
      'post:1',
      'user:1',
      'user:10',
      'user:2',
    ])
    expect(sorted(await cache.keys())).toHaveLength(5)
    expect(sorted(await cache.keys('user:*'))).toEqual(['user:1', 'user:10', 'user:2'])
    expect(sorted(await cache.keys('user:?'))).toEqual(['user:1', 'user:2'])
    expect(sorted(await cache.keys('user:[12]'))).toEqual(['user:1', 'user:2'])
    expect(await cache.keys('a:*')).toEqual(['a:b:c'])
    expect(await cache.keys('nothing*')).toEqual([])
  })

  it('iterKeys yields user keys, in small SCAN batches', async () => {
    expect(sorted(await collect(cache.iterKeys('user:*', { itersize: 1 })))).toEqual([
      'user:1',
      'user:10',
      'user:2',
    ])
    expect(sorted(await collect(cache.iterKeys()))).toEqual([
      'a:b:c',
      'post:1',
      'user:1',
      'user:10',
      'user:2',
    ])
    expect(() => cache.iterKeys('*', { itersize: 0 })).toThrow(InvalidArgumentError)
  })

  it('deletePattern deletes matching keys and resolves how many', async () => {
    expect(await cache.deletePattern('user:*', { itersize: 2 })).toBe(3)
    expect(sorted(await cache.keys('*'))).toEqual(['a:b:c', 'post:1'])
    expect(await cache.get('user:3', undefined, { version: 2 })).toBe(3)
    expect(await cache.deletePattern('user:*')).toBe(0)
    expect(await cache.deletePattern('*')).toBe(2)
    expect(await cache.keys('*')).toEqual([])
  })

  it('a non-string pattern rejects', async () => {
    await expect(cache.keys(1 as unknown as string)).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(cache.deletePattern(null as unknown as string)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    )
  })
})

describe('unicode keys', () => {
  const keys = ['😀', 'emoji:🎉:party', '日本語キー', '中文', 'ключ', 'naïve café']

  it('round-trip through set/get, keys and deletePattern', async () => {
    for (const [i, key] of keys.entries()) await cache.set(key, { i, key })
    for (const [i, key] of keys.entries()) expect(await cache.get(key)).toEqual({ i, key })
    expect(sorted(await cache.keys('*'))).toEqual(sorted(keys))
    expect(await cache.keys('日本*')).toEqual(['日本語キー'])
    expect(await cache.keys('emoji:*')).toEqual(['emoji:🎉:party'])
    expect(Object.fromEntries(await cache.getMany(['中文', 'ключ']))).toEqual({
      中文: { i: 3, key: '中文' },
      ключ: { i: 4, key: 'ключ' },
    })
    expect(await cache.deletePattern('*🎉*')).toBe(1)
    expect(await cache.hasKey('emoji:🎉:party')).toBe(false)
    expect(await cache.delete('😀')).toBe(true)
    expect(sorted(await cache.keys('*'))).toEqual(
      sorted(['日本語キー', '中文', 'ключ', 'naïve café']),
    )
  })

  it('work under a unicode prefix', async () => {
    const uni = another(`${uniquePrefix('uni')}-キャッシュ-🗝`)
    await uni.set('鍵', 'value')
    expect(await uni.get('鍵')).toBe('value')
    expect(await uni.keys('*')).toEqual(['鍵'])
    await uni.clear()
    expect(await uni.keys('*')).toEqual([])
  })
})

describe('glob-special prefixes do not widen patterns', () => {
  // Each pair: a prefix with glob metacharacters, and one its unescaped glob would match.
  it.each([
    ['*', 'a*', 'abc'],
    ['?', 'a?', 'ab'],
    ['[...]', 'a[bc]', 'ab'],
    ['\\', 'a\\b', 'ab'],
  ])('prefix with %s', async (_, special, victim) => {
    const base = uniquePrefix('glob')
    const mine = another(`${base}${special}`)
    const theirs = another(`${base}${victim}`)
    await mine.setMany({ k1: 1, k2: 2 })
    await theirs.setMany({ k1: 'x', k2: 'y', k3: 'z' })
    expect(sorted(await mine.keys('*'))).toEqual(['k1', 'k2'])
    expect(sorted(await theirs.keys('*'))).toEqual(['k1', 'k2', 'k3'])
    expect(await mine.get('k1')).toBe(1)
    expect(await mine.deletePattern('k*')).toBe(2)
    expect(sorted(await theirs.keys('*'))).toEqual(['k1', 'k2', 'k3'])
    await mine.set('again', 1, { version: 3 })
    await mine.clear()
    expect(await mine.hasKey('again', { version: 3 })).toBe(false)
    expect(Object.fromEntries(await theirs.getMany(['k1', 'k2', 'k3']))).toEqual({
      k1: 'x',
      k2: 'y',
      k3: 'z',
    })
  })

  it('a prefix containing colons works with keys()', async () => {
    const base = uniquePrefix('colon')
    const colon = another(`${base}:app:v2`)
    const parent = another(base)
    await colon.setMany({ 'user:1': 1, plain: 2 })
    expect(colon.makeKey('user:1')).toBe(`${base}:app:v2:1:user:1`)
    expect(sorted(await colon.keys('*'))).toEqual(['plain', 'user:1'])
    expect(await colon.keys('user:*')).toEqual(['user:1'])
    expect(sorted(await collect(colon.iterKeys('*')))).toEqual(['plain', 'user:1'])
    // The parent prefix does not see the child's keys as its own (version 1 only).
    await parent.set('mine', 1)
    expect(await parent.keys('*')).toEqual(['mine'])
    expect(await colon.deletePattern('*')).toBe(2)
    expect(await parent.get('mine')).toBe(1)
  })
})

describe('deletePattern over 100,000 keys', () => {
  it('deletes them all and counts them', { timeout: 60_000 }, async () => {
    const big = another(uniquePrefix('big'))
    const keeper = another(uniquePrefix('keep'))
    await keeper.set('survivor', 'yes', { timeout: null })
    const client = createClient({ url: server.url })
    client.on('error', () => {})
    await client.connect()
    try {
      const total = 100_000
      const batch = 10_000
      for (let start = 0; start < total; start += batch) {
        const args: string[] = ['MSET']
        for (let i = start; i < start + batch; i++) args.push(big.makeKey(`item:${i}`), String(i))
        await client.sendCommand(args)
      }
      expect(await big.get('item:99999')).toBe(99999)
      expect(await big.deletePattern('item:*')).toBe(total)
      expect(await big.keys('*')).toEqual([])
      const left = await client.sendCommand([
        'SCAN',
        '0',
        'MATCH',
        `${big.keyPrefix}:*`,
        'COUNT',
        '100000',
      ])
      expect((left as unknown as [string, string[]])[1]).toEqual([])
    } finally {
      await client.close()
    }
    expect(await keeper.get('survivor')).toBe('yes')
  })
})

describe('lock', () => {
  it('takes, reports and releases a lock under the key function', async () => {
    const lock = cache.lock('job', { timeout: 10 })
    expect(lock.name).toBe(cache.makeKey('job'))
    expect(await lock.acquire({ blocking: false })).toBe(true)
    expect(await lock.locked()).toBe(true)
    expect(await lock.owned()).toBe(true)
    const pttl = await rawPttl(cache, 'job')
    expect(pttl).toBeGreaterThan(9000)
    expect(pttl).toBeLessThanOrEqual(10_000)
    // The token is stored raw.
    expect(String(await raw(cache, 'GET', cache.makeKey('job')))).toBe(lock.token)
    const rival = cache.lock('job', { timeout: 10 })
    expect(await rival.acquire({ blocking: false })).toBe(false)
    await lock.release()
    expect(await lock.locked()).toBe(false)
    expect(await rival.acquire({ blocking: false })).toBe(true)
    await rival.release()
  })

  it('withLock runs the function and releases', async () => {
    const lock = cache.lock('with', { timeout: 5 })
    const fn = vi.fn(async () => {
      expect(await lock.owned()).toBe(true)
      return 42
    })
    expect(await lock.withLock(fn)).toBe(42)
    expect(fn).toHaveBeenCalledTimes(1)
    expect(await lock.locked()).toBe(false)
  })
})
