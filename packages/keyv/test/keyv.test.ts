import { execFileSync } from 'node:child_process'
import {
  type Cache,
  ClosedError,
  type CreateCacheOptions,
  createCache,
  InvalidArgumentError,
  pickleSerializer,
} from '@cachex/redis'
import { delay, monitor, startRedis, uniquePrefix } from '@cachex/test-utils'
import { createCache as createCacheManager } from 'cache-manager'
import { Keyv } from 'keyv'
import { describe, expect, it } from 'vitest'
import { createKeyv, createKeyvStore, KeyvCachex } from '../src/index.ts'
import { iterate, testCaches } from './_helpers.ts'

const caches = testCaches()
const { newCache, track } = caches

/** The bytes Redis holds for a user key of `cache`. */
async function rawBytes(cache: Cache, key: string): Promise<Buffer | null> {
  const reply = await cache.connection.command(['GET', cache.makeKey(key)])
  if (reply === null) return null
  return Buffer.isBuffer(reply) ? reply : Buffer.from(String(reply))
}

describe('Keyv with createKeyv(): cachex serializes', () => {
  it('round-trips values through set/get/delete', async () => {
    const keyv = createKeyv(newCache())
    const values: unknown[] = [
      { name: 'Ada', tags: ['a', 'b'], nested: { n: 1.5 } },
      'hello',
      '42',
      42,
      -7,
      2.5,
      true,
      false,
      null,
      [1, 'two', null],
      '',
    ]
    for (const [i, value] of values.entries()) {
      expect(await keyv.set(`k${i}`, value)).toBe(true)
      expect(await keyv.get(`k${i}`)).toEqual(value)
    }
    expect(await keyv.get('missing')).toBeUndefined()
    expect(await keyv.delete('k0')).toBe(true)
    expect(await keyv.delete('k0')).toBe(false)
    expect(await keyv.get('k0')).toBeUndefined()
  })

  it('has / getMany / setMany / deleteMany', async () => {
    const keyv = createKeyv(newCache())
    expect(
      await keyv.setMany([
        { key: 'a', value: 1 },
        { key: 'b', value: { x: 'y' }, ttl: 60_000 },
        { key: 'c', value: 'z', ttl: 30_000 },
      ]),
    ).toEqual([true, true, true])
    expect(await keyv.has('a')).toBe(true)
    expect(await keyv.has('nope')).toBe(false)
    expect(await keyv.has(['a', 'nope', 'c'])).toEqual([true, false, true])
    expect(await keyv.getMany(['a', 'nope', 'b', 'c'])).toEqual([1, undefined, { x: 'y' }, 'z'])
    expect(await keyv.get(['c', 'a'])).toEqual(['z', 1])
    expect(await keyv.deleteMany(['a', 'b', 'nope'])).toBe(true)
    expect(await keyv.deleteMany(['a', 'b'])).toBe(false)
    expect(await keyv.getMany(['a', 'b', 'c'])).toEqual([undefined, undefined, 'z'])
  })

  it('with useKeyPrefix: false, clear() and iterator() cover the bare keys it wrote', async () => {
    const cache = newCache()
    const keyv = createKeyv(cache, { useKeyPrefix: false })
    await keyv.set('a', 1)
    await keyv.set('b', 2)
    expect((await cache.keys('*')).sort()).toEqual(['a', 'b'])
    expect((await iterate(keyv)).sort()).toEqual([
      ['a', 1],
      ['b', 2],
    ])
    await keyv.clear()
    expect(await keyv.get('a')).toBeUndefined()
    expect(await cache.keys('*')).toEqual([])
  })

  it('a store shared by 50,000 Keyvs of their own namespaces is not slowed by their number', async () => {
    // Each key was compared with every namespace the store had been given (and each new one with
    // all before it): 50,000 Keyvs of one set each took 56 s, 20,000 took 8.4 s. Now a Set: about
    // a second. The bound only proves that nothing grows with the square of the namespaces.
    const cache = track(createCache({ location: 'memory://' }))
    const store = createKeyvStore(cache)
    store.setMaxListeners(0)
    const started = performance.now()
    for (let i = 0; i < 50_000; i++) {
      expect(await new Keyv({ store, namespace: `tenant${i}` }).set('k', i)).toBe(true)
    }
    expect(performance.now() - started).toBeLessThan(30_000)
    expect(await new Keyv({ store, namespace: 'tenant7' }).get('k')).toBe(7)
    // A key outside every namespace is still refused.
    const bare = new Keyv({ store, namespace: 'tenant1', useKeyPrefix: false })
    expect(await bare.set('elsewhere', 1)).toBe(false)
  }, 120_000)

  it('a namespace with useKeyPrefix: false is refused, and nothing is stored bare', async () => {
    const cache = newCache()
    expect(() => createKeyv(cache, { namespace: 'a', useKeyPrefix: false })).toThrow(
      InvalidArgumentError,
    )
    // A Keyv of one's own, as @keyv/redis's README sets it: every call is refused, none sent.
    const a = new Keyv({ store: createKeyvStore(cache), namespace: 'a', useKeyPrefix: false })
    const b = new Keyv({ store: createKeyvStore(cache), namespace: 'b', useKeyPrefix: false })
    const errors: unknown[] = []
    a.on('error', (error: unknown) => errors.push(error))
    b.on('error', () => undefined)
    expect(await a.set('x', 'from-a')).toBe(false)
    expect(await b.set('x', 'from-b')).toBe(false)
    expect(await a.setMany([{ key: 'y', value: 1 }])).toEqual([false])
    expect(await a.get('x')).toBeUndefined()
    expect(await a.getMany(['x', 'y'])).toEqual([undefined, undefined])
    expect(await a.has('x')).toBe(false)
    expect(await a.delete('x')).toBe(false)
    expect(await cache.keys('*')).toEqual([])
    expect(errors.length).toBeGreaterThanOrEqual(6)
    for (const error of errors) {
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect(String(error)).toContain("outside its namespace 'a'")
    }
    // Turned off later on a Keyv with a namespace: refused too, not written bare.
    const keyv = createKeyv(cache)
    keyv.on('error', () => undefined)
    keyv.useKeyPrefix = false
    expect(await keyv.set('z', 1)).toBe(false)
    expect(await cache.keys('*')).toEqual([])
    // One store shared by Keyvs of two namespaces (each sets the store's in turn): both work.
    const shared = createKeyvStore(cache)
    const one = new Keyv({ store: shared, namespace: 'one' })
    const two = new Keyv({ store: shared, namespace: 'two' })
    expect(await one.set('k', 1)).toBe(true)
    expect(await two.set('k', 2)).toBe(true)
    expect([await one.get('k'), await two.get('k')]).toEqual([1, 2])
    await one.delete('k')
    await two.delete('k')
    // And with a Keyv without a namespace: its keys are as given, nothing is refused.
    const mixed = createKeyvStore(cache)
    const bare = new Keyv({ store: mixed, namespace: undefined })
    const named = new Keyv({ store: mixed, namespace: 'named' })
    expect(await bare.set('plain', 1)).toBe(true)
    expect(await named.set('k', 2)).toBe(true)
    expect(await bare.get('plain')).toBe(1)
    await bare.delete('plain')
    await named.delete('k')
    expect(await cache.keys('*')).toEqual([])
    // A key that begins with the namespace is inside it, whoever added that.
    expect(await a.set('a:k', 1)).toBe(true)
    expect(await iterate(a)).toEqual([['a:k', 1]])
    await a.clear()
    expect(await cache.keys('*')).toEqual([])
  })

  it('setMany with a key given twice stores its last entry, with its TTL', async () => {
    const keyv = createKeyv(newCache())
    const entries = [
      { key: 'dup', value: 1, ttl: 60_000 },
      { key: 'dup', value: 2 },
      { key: 'dup', value: 3, ttl: 60_000 },
      { key: 'other', value: 4 },
    ]
    expect(await keyv.setMany(entries)).toEqual([true, true, true, true])
    expect(await keyv.get('dup')).toBe(3)
    expect(await keyv.get('other')).toBe(4)
    await keyv.setMany([
      { key: 'dup', value: 5, ttl: 60_000 },
      { key: 'dup', value: 6 },
    ])
    expect(await keyv.get('dup')).toBe(6)
  })

  it('maps Keyv milliseconds to PX exactly, and no TTL to no expiry', async () => {
    const cache = newCache({ timeout: 300 })
    const keyv = createKeyv(cache)
    const watch = await monitor(caches.server.port)
    try {
      await keyv.set('ttl', 'v', 1001)
      const sent = await watch.waitFor((c) => c[0] === 'SET' && c[1] === cache.makeKey('keyv:ttl'))
      expect(sent.slice(3)).toEqual(['PX', '1001'])
    } finally {
      watch.stop()
    }
    // Not cachex's default timeout (300 s): Keyv's "no TTL" never expires.
    await keyv.set('forever', 'v')
    expect(await cache.ttl('keyv:forever')).toBeNull()
    // ttl 0 is "no TTL" in Keyv, a negative one expires at once.
    await keyv.set('zero', 'v', 0)
    expect(await cache.ttl('keyv:zero')).toBeNull()
    await keyv.set('negative', 'v', -5)
    expect(await keyv.get('negative')).toBeUndefined()
    expect(await cache.hasKey('keyv:negative')).toBe(false)
  })

  it('expires values after their TTL, per call and by the Keyv default', async () => {
    const cache = newCache()
    const keyv = createKeyv(cache, { ttl: 150 })
    await keyv.set('default-ttl', 1)
    await keyv.set('own-ttl', 2, 10_000)
    await keyv.setMany([{ key: 'many', value: 3, ttl: 150 }])
    expect(await keyv.get('default-ttl')).toBe(1)
    expect(await cache.pttl('keyv:own-ttl')).toBeGreaterThan(9_000)
    await delay(300)
    expect(await keyv.get('default-ttl')).toBeUndefined()
    expect(await keyv.get('many')).toBeUndefined()
    expect(await keyv.get('own-ttl')).toBe(2)
  })

  it('reports expires in raw reads (what cache-manager ttl() and wrap read)', async () => {
    const keyv = createKeyv(newCache())
    const before = Date.now()
    await keyv.set('r', 'v', 5_000)
    const raw = await keyv.getRaw('r')
    expect(raw?.value).toBe('v')
    expect(raw?.expires).toBeGreaterThan(before + 4_000)
    expect(raw?.expires).toBeLessThanOrEqual(Date.now() + 5_000)
    await keyv.set('forever', 'v')
    expect(await keyv.getRaw('forever')).toEqual({ value: 'v' })
    const [a, b] = await keyv.getManyRaw(['r', 'nope'])
    expect(a?.expires).toBeGreaterThan(before + 4_000)
    expect(b).toBeUndefined()
    // Without expires tracking, reads send no PTTL and carry no expires.
    const lean = createKeyv(newCache(), { expires: false })
    await lean.set('r', 'v', 5_000)
    expect(await lean.getRaw('r')).toEqual({ value: 'v' })
  })

  it('keeps namespaces apart; clear() clears only its own namespace', async () => {
    const cache = newCache()
    const a = createKeyv(cache, { namespace: 'a' })
    const b = createKeyv(cache, { namespace: 'b' })
    await a.set('k', 'from a')
    await b.set('k', 'from b')
    await cache.set('other', 'not keyv')
    expect(await a.get('k')).toBe('from a')
    expect(await b.get('k')).toBe('from b')
    expect(await rawBytes(cache, 'a:k')).not.toBeNull()
    await a.clear()
    expect(await a.get('k')).toBeUndefined()
    expect(await b.get('k')).toBe('from b')
    expect(await cache.get('other')).toBe('not keyv')
  })

  it('a store given several namespaces refuses clear() and iterator(): neither can tell whose', async () => {
    // Keyv sets store.namespace from each Keyv sharing the store (and from keyv.namespace = …),
    // and names no namespace to clear(): a.clear() would delete b's keys, the one set last.
    const cache = newCache()
    const store = createKeyvStore(cache)
    const a = new Keyv({ store, namespace: 'a' })
    const b = new Keyv({ store, namespace: 'b' })
    const errors: unknown[] = []
    a.on('error', (error: unknown) => errors.push(error))
    await a.set('x', 1)
    await b.set('x', 2)
    // Keyv emits what the store's clear() rejects with, and resolves (no throwOnErrors).
    await a.clear()
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(InvalidArgumentError)
    expect(String(errors[0])).toMatch(/clear\(\).*2 namespaces \('a', 'b'\).*store of its own/)
    expect([await a.get('x'), await b.get('x')]).toEqual([1, 2])
    await expect(iterate(a)).rejects.toThrow(/iterator\(\).*store of its own/)
    a.throwOnErrors = true
    await expect(a.clear()).rejects.toBeInstanceOf(InvalidArgumentError)
    expect([await a.get('x'), await b.get('x')]).toEqual([1, 2])
    // A namespaced Keyv and one without: the namespaced clear() would empty the whole cache.
    await cache.set('other', 'not keyv')
    const mixed = createKeyvStore(cache)
    const named = new Keyv({ store: mixed, namespace: 'named', throwOnErrors: true })
    const bare = new Keyv({ store: mixed, namespace: undefined, useKeyPrefix: false })
    bare.on('error', () => undefined)
    await named.set('k', 3)
    await expect(named.clear()).rejects.toThrow(/'named', none/)
    await expect(iterate(bare)).rejects.toBeInstanceOf(InvalidArgumentError)
    expect(await named.get('k')).toBe(3)
    expect(await cache.get('other')).toBe('not keyv')
    // A namespace changed on one Keyv counts too: the store cannot tell it from a second Keyv.
    const renamed = createKeyv(cache, { namespace: 'before', throwOnErrors: true })
    await renamed.set('k', 4)
    renamed.namespace = 'after'
    await expect(renamed.clear()).rejects.toBeInstanceOf(InvalidArgumentError)
    // Two Keyvs of one namespace on one store: clear() and iterator() work as ever.
    const same = createKeyvStore(cache)
    const one = new Keyv({ store: same, namespace: 'same' })
    const two = new Keyv({ store: same, namespace: 'same' })
    await one.set('k', 5)
    expect(await iterate(two)).toEqual([['k', 5]])
    await two.clear()
    expect(await one.get('k')).toBeUndefined()
    expect(await b.get('x')).toBe(2)
    expect(await cache.get('other')).toBe('not keyv')
  })

  it('escapes glob characters of a namespace in clear()', async () => {
    const cache = newCache()
    const star = createKeyv(cache, { namespace: 'n*' })
    const other = createKeyv(cache, { namespace: 'nx' })
    await star.set('k', 1)
    await other.set('k', 2)
    await star.clear()
    expect(await star.get('k')).toBeUndefined()
    expect(await other.get('k')).toBe(2)
  })

  it('without a namespace, uses keys as given and clear() is cache.clear()', async () => {
    const cache = newCache()
    const keyv = createKeyv(cache, { namespace: undefined })
    await keyv.set('plain', { shared: true })
    expect(await cache.get('plain')).toEqual({ shared: true })
    await cache.set('written-by-cache', [1, 2])
    expect(await keyv.get('written-by-cache')).toEqual([1, 2])
    await keyv.clear()
    expect(await cache.keys('*')).toEqual([])
  })

  it('iterates the namespace with Keyv iterator(), across SCAN/MGET batches', async () => {
    const cache = newCache()
    const keyv = createKeyv(cache, { namespace: 'it' })
    const other = createKeyv(cache, { namespace: 'other' })
    const expected = new Map<string, unknown>()
    for (let i = 0; i < 250; i++) expected.set(`key:${i}`, { i })
    await keyv.setMany([...expected].map(([key, value]) => ({ key, value })))
    await other.set('x', 'not mine')
    const seen = await iterate(keyv)
    expect(seen).toHaveLength(250)
    expect(new Map(seen)).toEqual(expected)
  })

  it('stores values as cache.set() does: cache.get() reads them, INCR works on integers', async () => {
    const cache = newCache()
    const keyv = createKeyv(cache)
    await keyv.set('user', { name: 'Ada', langs: ['py', 'ts'] })
    expect(await cache.get('keyv:user')).toEqual({ name: 'Ada', langs: ['py', 'ts'] })
    await cache.set('keyv:from-cache', { written: 'by cachex' })
    expect(await keyv.get('from-cache')).toEqual({ written: 'by cachex' })
    await keyv.set('counter', 41)
    expect((await rawBytes(cache, 'keyv:counter'))?.toString()).toBe('41')
    expect(await cache.incr('keyv:counter')).toBe(42)
    expect(await keyv.get('counter')).toBe(42)
  })

  const FORMATS: Array<[string, CreateCacheOptions<false>]> = [
    ['json', { serializer: 'json' }],
    ['msgpack', { serializer: 'msgpack' }],
    ['pickle', { serializer: pickleSerializer() }],
    ['json + zlib', { serializer: 'json', compressor: 'zlib' }],
    ['msgpack + gzip', { serializer: 'msgpack', compressor: 'gzip' }],
  ]
  for (const [name, options] of FORMATS) {
    it(`writes the bytes cache.set() writes (${name}), so Django reads them`, async () => {
      const cache = newCache(options)
      const keyv = createKeyv(cache, { namespace: undefined })
      const value = { name: 'Ada Lovelace', born: 1815, tags: ['math', 'engines'], ratio: 0.5 }
      await keyv.set('via-keyv', value, 60_000)
      await cache.set('via-cache', value, { timeout: 60 })
      const viaKeyv = await rawBytes(cache, 'via-keyv')
      // gzip puts the current second in its header; compare the other bytes there.
      const comparable = (bytes: Buffer | null) =>
        name.includes('gzip') ? bytes?.subarray(10) : bytes
      expect(comparable(viaKeyv)).toEqual(comparable(await rawBytes(cache, 'via-cache')))
      expect(await cache.get('via-keyv')).toEqual(value)
    })
  }

  it('writes pickle that CPython reads', async () => {
    const cache = newCache({ serializer: pickleSerializer() })
    const keyv = createKeyv(cache, { namespace: 'py' })
    await keyv.set('v', { name: 'Ada', n: [1, 2.5, null, true] })
    const bytes = await rawBytes(cache, 'py:v')
    const printed = execFileSync(
      'python3',
      ['-c', 'import pickle, sys; print(repr(pickle.loads(sys.stdin.buffer.read())))'],
      { input: bytes ?? Buffer.alloc(0) },
    )
    expect(printed.toString().trim()).toBe("{'name': 'Ada', 'n': [1, 2.5, None, True]}")
  })
})

describe('a value of undefined (createKeyv)', () => {
  // No serializer stores undefined (json and pickle refuse it, msgpack reads it back as null):
  // the old value stayed and was served. @keyv/redis answers set() true and get() undefined.
  for (const serializer of ['json', 'pickle', 'msgpack'] as const) {
    it(`deletes the key: set(), setMany() resolve true, get() undefined (${serializer})`, async () => {
      const cache = newCache({ serializer })
      const keyv = createKeyv(cache)
      const errors: unknown[] = []
      keyv.on('error', (error: unknown) => errors.push(error))
      await keyv.setMany(['a', 'b', 'c'].map((key) => ({ key, value: 'old' })))
      expect(await keyv.set('a', undefined)).toBe(true)
      expect(await keyv.set('a', undefined, 60_000)).toBe(true)
      expect(await keyv.get('a')).toBeUndefined()
      expect(
        await keyv.setMany([
          { key: 'b', value: undefined },
          { key: 'c', value: undefined, ttl: 60_000 },
          { key: 'd', value: 'new', ttl: 60_000 },
        ]),
      ).toEqual([true, true, true])
      expect(await keyv.getMany(['a', 'b', 'c', 'd'])).toEqual([
        undefined,
        undefined,
        undefined,
        'new',
      ])
      expect(await cache.keys('*')).toEqual(['keyv:d'])
      expect(errors).toEqual([])
    })
  }

  it('a key given twice ends as its last entry, a value or none', async () => {
    const cache = newCache()
    const keyv = createKeyv(cache)
    await keyv.set('b', 'old')
    await keyv.setMany([
      { key: 'a', value: undefined },
      { key: 'a', value: 'kept' },
      { key: 'b', value: 'dropped', ttl: 60_000 },
      { key: 'b', value: undefined },
    ])
    expect(await keyv.getMany(['a', 'b'])).toEqual(['kept', undefined])
    expect(await cache.keys('*')).toEqual(['keyv:a'])
  })

  it('still checks the TTL, and deletes nothing when one is wrong', async () => {
    const cache = newCache()
    const keyv = createKeyv(cache, { throwOnErrors: true })
    keyv.on('error', () => {})
    await keyv.set('a', 'old')
    const entries = [{ key: 'a', value: undefined, ttl: '1000' as unknown as number }]
    await expect(keyv.set('a', undefined, '1000' as unknown as number)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    )
    await expect(keyv.setMany(entries)).rejects.toBeInstanceOf(InvalidArgumentError)
    expect(await keyv.get('a')).toBe('old')
  })

  it('cache-manager set(key, undefined) leaves no old value to be served', async () => {
    const manager = createCacheManager({ stores: [createKeyv(newCache())] })
    await manager.set('k', 'old')
    await manager.set('k', undefined)
    expect(await manager.get('k')).toBeUndefined()
    await manager.mset([{ key: 'm', value: 'old' }])
    await manager.mset([{ key: 'm', value: undefined }])
    expect(await manager.get('m')).toBeUndefined()
  })
})

describe('keys that are Object.prototype names', () => {
  const NAMES = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString']

  for (const [mode, make] of [
    ['createKeyv', (cache: Cache) => createKeyv(cache)],
    ['createKeyvStore', (cache: Cache) => new Keyv({ store: createKeyvStore(cache) })],
  ] as const) {
    it(`stay keys through set, get, getMany and iterator (${mode})`, async () => {
      const cache = newCache()
      const keyv: Keyv = make(cache)
      for (const [i, name] of NAMES.entries()) await keyv.set(name, { i })
      for (const [i, name] of NAMES.entries()) expect(await keyv.get(name)).toEqual({ i })
      expect(await keyv.getMany(NAMES)).toEqual(NAMES.map((_, i) => ({ i })))
      const seen = await iterate(keyv)
      expect(seen.map(([key]) => key).sort()).toEqual([...NAMES].sort())
      for (const [key, value] of seen) expect(value).toEqual({ i: NAMES.indexOf(key) })
      expect(({} as { i?: unknown }).i).toBeUndefined()
    })
  }

  it('an entry stored under "__proto__" reads back as its value, not as a prototype', async () => {
    const cache = newCache()
    const keyv = createKeyv(cache, { namespace: undefined })
    await cache.set('k', JSON.parse('{"__proto__": {"isAdmin": true}}'))
    const value = (await keyv.get('k')) as Record<string, unknown>
    expect((value as { isAdmin?: unknown }).isAdmin).toBeUndefined()
    expect(Object.keys(value)).toEqual(['__proto__'])
  })
})

describe("Keyv's own serialization (createKeyvStore)", () => {
  it('works as new Keyv({ store }) with every Keyv method', async () => {
    const cache = newCache()
    const store = createKeyvStore(cache)
    const keyv = new Keyv({ store })
    expect(keyv.store).toBe(store)
    await keyv.set('a', { x: 1 })
    await keyv.set('b', 'two', 60_000)
    expect(await keyv.get('a')).toEqual({ x: 1 })
    expect(await keyv.has('b')).toBe(true)
    expect(await keyv.getMany(['a', 'nope', 'b'])).toEqual([{ x: 1 }, undefined, 'two'])
    expect(await keyv.setMany([{ key: 'c', value: 3 }])).toEqual([true])
    expect(await keyv.deleteMany(['a', 'c'])).toBe(true)
    expect(await keyv.get('a')).toBeUndefined()
    expect(await keyv.getRaw('b')).toMatchObject({ value: 'two', expires: expect.any(Number) })
    // Redis holds Keyv's string, with a Redis TTL too.
    expect(typeof (await cache.get('keyv:b'))).toBe('string')
    expect(await cache.pttl('keyv:b')).toBeGreaterThan(50_000)
    await keyv.set('d', 4)
    expect(await iterate(keyv)).toEqual(
      expect.arrayContaining([
        ['b', 'two'],
        ['d', 4],
      ]),
    )
    await keyv.clear()
    expect(await keyv.get('b')).toBeUndefined()
  })

  it('expires values after their TTL', async () => {
    const keyv = new Keyv({ store: createKeyvStore(newCache()) })
    await keyv.set('short', 'v', 100)
    expect(await keyv.get('short')).toBe('v')
    await delay(250)
    expect(await keyv.get('short')).toBeUndefined()
  })

  it('works in a non-serializing Keyv too (entries stored whole)', async () => {
    const keyv = new Keyv({
      store: createKeyvStore(newCache()),
      serialize: undefined,
      deserialize: undefined,
    })
    await keyv.set('a', 'x')
    expect(await keyv.get('a')).toBe('x')
  })

  it("rejects Keyv's serialized strings in serialization: 'cachex' with a clear message", async () => {
    const keyv = new Keyv({
      store: createKeyvStore(newCache(), { serialization: 'cachex' }),
      throwOnErrors: true,
    })
    const failure = keyv.set('a', 1)
    await expect(failure).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(failure).rejects.toThrow(/serialize: undefined/)
  })

  it('checks its arguments', () => {
    expect(() => createKeyvStore(undefined as unknown as Cache)).toThrow(InvalidArgumentError)
    expect(
      () => new KeyvCachex(newCache(), { serialization: 'nope' as unknown as 'keyv' }),
    ).toThrow(InvalidArgumentError)
  })

  it('refuses many-key arguments of the wrong kind with InvalidArgumentError, writing nothing', async () => {
    const cache = newCache()
    const store = new KeyvCachex(cache)
    const calls: Array<() => Promise<unknown>> = [
      () => store.getMany('abc' as never),
      () => store.hasMany(42 as never),
      () => store.deleteMany({} as never),
      () => store.setMany({ key: 'a', value: 1 } as never),
      () => store.setMany([{ key: 1, value: 2 }] as never),
      () => store.setMany([null] as never),
      async () => {
        for await (const _ of store.iterator(42 as never)) break
      },
    ]
    for (const call of calls) await expect(call()).rejects.toBeInstanceOf(InvalidArgumentError)
    expect(await cache.keys('*')).toEqual([])
  })
})

describe('errors and disconnect', () => {
  it("surfaces the cache's typed errors through Keyv", async () => {
    const cache = newCache()
    const keyv = createKeyv(cache, { throwOnErrors: true })
    const errors: unknown[] = []
    keyv.on('error', (error: unknown) => errors.push(error))
    await cache.close()
    await expect(keyv.set('k', 'v')).rejects.toBeInstanceOf(ClosedError)
    expect(errors[0]).toBeInstanceOf(ClosedError)
  })

  for (const mode of ['createKeyv', 'createKeyvStore'] as const) {
    it(`over an ignoreExceptions cache whose server is gone, reports nothing stored (${mode})`, async () => {
      const gone = await startRedis()
      const cache = createCache({
        location: gone.url,
        keyPrefix: uniquePrefix('keyv'),
        ignoreExceptions: true,
        socketConnectTimeout: 0.5,
        socketTimeout: 0.5,
      })
      track(cache)
      const keyv =
        mode === 'createKeyv' ? createKeyv(cache) : new Keyv({ store: createKeyvStore(cache) })
      expect(await keyv.set('k', 'v')).toBe(true)
      await gone.stop()
      expect(await keyv.set('k', 'w')).toBe(false)
      expect(await keyv.set('k', 'w', 5000)).toBe(false)
      expect(await keyv.get('k')).toBeUndefined()
      expect(await keyv.getMany(['k', 'j'])).toEqual([undefined, undefined])
      expect(await keyv.has('k')).toBe(false)
      expect(await keyv.delete('k')).toBe(false)
      expect(await keyv.deleteMany(['k', 'j'])).toBe(false)
      expect(
        await keyv.setMany([
          { key: 'a', value: 1 },
          { key: 'b', value: 2, ttl: 1000 },
        ]),
      ).toEqual([false, false])
      await keyv.clear()
    })
  }

  it('leaves the cache open on disconnect unless closeOnDisconnect', async () => {
    const cache = newCache()
    await createKeyv(cache).disconnect()
    expect(await cache.set('still', 'open')).toBe(true)
    await createKeyv(cache, { closeOnDisconnect: true }).disconnect()
    await expect(cache.get('still')).rejects.toBeInstanceOf(ClosedError)
  })
})

describe('cache-manager v7 over createKeyv()', () => {
  it('get / set with ttl / del / mget / mset / ttl() / clear', async () => {
    const cache = newCache()
    const manager = createCacheManager({ stores: [createKeyv(cache, { namespace: 'cm' })] })
    expect(await manager.set('a', { v: 1 }, 60_000)).toEqual({ v: 1 })
    expect(await manager.get('a')).toEqual({ v: 1 })
    expect(await cache.get('cm:a')).toEqual({ v: 1 })
    const expires = await manager.ttl('a')
    expect(expires).toBeGreaterThan(Date.now() + 50_000)
    await manager.set('short', 'x', 100)
    await manager.mset<number | string>([
      { key: 'm1', value: 1 },
      { key: 'm2', value: 'two', ttl: 60_000 },
    ])
    expect(await manager.mget(['m1', 'nope', 'm2'])).toEqual([1, undefined, 'two'])
    expect(await manager.del('a')).toBe(true)
    expect(await manager.get('a')).toBeUndefined()
    await delay(250)
    expect(await manager.get('short')).toBeUndefined()
    await manager.clear()
    expect(await manager.get('m1')).toBeUndefined()
  })

  it('wrap() calls the factory once, and refreshes ahead with refreshThreshold', async () => {
    const manager = createCacheManager({ stores: [createKeyv(newCache())] })
    let calls = 0
    const load = async () => {
      calls++
      await delay(20)
      return { report: calls }
    }
    const first = await Promise.all([
      manager.wrap('report', load, 60_000),
      manager.wrap('report', load, 60_000),
    ])
    expect(first).toEqual([{ report: 1 }, { report: 1 }])
    expect(await manager.wrap('report', load, 60_000)).toEqual({ report: 1 })
    expect(calls).toBe(1)
    // 1 s TTL, refresh when less than 800 ms remain: after 300 ms the cached value is served and
    // a refresh runs behind it (this needs the `expires` the store reports).
    expect(await manager.wrap('fresh', load, 1_000, 800)).toEqual({ report: 2 })
    await delay(300)
    expect(await manager.wrap('fresh', load, 1_000, 800)).toEqual({ report: 2 })
    await delay(100)
    expect(calls).toBe(3)
    expect(await manager.get('fresh')).toEqual({ report: 3 })
  })

  it("runs over Keyv's own serialization too", async () => {
    const manager = createCacheManager({
      stores: [new Keyv({ store: createKeyvStore(newCache()) })],
    })
    await manager.set('k', [1, 2, 3], 60_000)
    expect(await manager.get('k')).toEqual([1, 2, 3])
    expect(await manager.ttl('k')).toBeGreaterThan(Date.now())
  })
})
