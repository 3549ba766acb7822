import { type Cache, ClosedError, InvalidArgumentError, SerializationError } from '@cachex/redis'
import { Keyv } from 'keyv'
import { describe, expect, it } from 'vitest'
import { createKeyv, createKeyvStore, KeyvCachex } from '../src/index.ts'
import { iterate, testCaches } from './_helpers.ts'

const caches = testCaches()
const { newCache } = caches

/** Writes `bytes` under the user key `key` of `cache`, past its serializer. */
async function rawSet(cache: Cache, key: string, bytes: Buffer | string): Promise<void> {
  await cache.connection.command(['SET', cache.makeKey(key), bytes])
}

/** The milliseconds Redis says the user key `key` of `cache` has left (-1: none, -2: absent). */
async function pttl(cache: Cache, key: string): Promise<number> {
  return Number(await cache.connection.command(['PTTL', cache.makeKey(key)]))
}

/** The errors `keyv` emits from now on. */
function errorsOf(keyv: Keyv): unknown[] {
  const errors: unknown[] = []
  keyv.on('error', (error: unknown) => errors.push(error))
  return errors
}

/** A Keyv over `cache` built either way the package offers. */
function keyvOf(mode: 'createKeyv' | 'createKeyvStore', cache: Cache, throwOnErrors = false): Keyv {
  return mode === 'createKeyv'
    ? createKeyv(cache, { throwOnErrors })
    : new Keyv({ store: createKeyvStore(cache, { throwOnErrors }), throwOnErrors })
}

describe('read errors', () => {
  for (const mode of ['createKeyv', 'createKeyvStore'] as const) {
    it(`an undecodable value is an 'error' event and a miss (${mode})`, async () => {
      const cache = newCache({ serializer: 'json' })
      const keyv = keyvOf(mode, cache)
      const errors = errorsOf(keyv)
      await rawSet(cache, 'keyv:bad', Buffer.from([0xff, 0xfe]))
      expect(await keyv.get('bad')).toBeUndefined()
      expect(errors).toHaveLength(1)
      expect(errors[0]).toBeInstanceOf(SerializationError)
    })

    it(`reads on a closed cache emit the error and answer empty, without throwOnErrors (${mode})`, async () => {
      const cache = newCache()
      const keyv = keyvOf(mode, cache)
      const errors = errorsOf(keyv)
      await cache.close()
      expect(await keyv.get('k')).toBeUndefined()
      expect(await keyv.getRaw('k')).toBeUndefined()
      expect(await keyv.getMany(['k', 'j'])).toEqual([undefined, undefined])
      expect(await keyv.getManyRaw(['k', 'j'])).toEqual([undefined, undefined])
      expect(await keyv.has('k')).toBe(false)
      expect(await keyv.has(['k', 'j'])).toEqual([false, false])
      expect(errors).toHaveLength(6)
      for (const error of errors) expect(error).toBeInstanceOf(ClosedError)
    })

    it(`reads on a closed cache reject with throwOnErrors, and emit once (${mode})`, async () => {
      const cache = newCache()
      const keyv = keyvOf(mode, cache, true)
      const errors = errorsOf(keyv)
      await cache.close()
      await expect(keyv.get('k')).rejects.toBeInstanceOf(ClosedError)
      await expect(keyv.getRaw('k')).rejects.toBeInstanceOf(ClosedError)
      await expect(keyv.getMany(['k', 'j'])).rejects.toBeInstanceOf(ClosedError)
      await expect(keyv.has('k')).rejects.toBeInstanceOf(ClosedError)
      await expect(keyv.has(['k', 'j'])).rejects.toBeInstanceOf(ClosedError)
      expect(errors).toHaveLength(5)
    })
  }

  it("createKeyv()'s store follows Keyv's throwOnErrors when it changes", async () => {
    const cache = newCache()
    const keyv = createKeyv(cache)
    errorsOf(keyv)
    await cache.close()
    expect(await keyv.get('k')).toBeUndefined()
    keyv.throwOnErrors = true
    await expect(keyv.get('k')).rejects.toBeInstanceOf(ClosedError)
    expect((keyv.store as KeyvCachex).throwOnErrors).toBe(true)
  })

  it('a store nobody listens to answers empty instead of throwing the event', async () => {
    const cache = newCache()
    const store = createKeyvStore(cache)
    await cache.close()
    expect(await store.get('k')).toBeUndefined()
    expect(await store.getMany(['k'])).toEqual([undefined])
    expect(await store.has('k')).toBe(false)
  })
})

describe('setMany partial failure', () => {
  it('an out-of-range TTL refuses the whole call before anything is written', async () => {
    const cache = newCache()
    const keyv = createKeyv(cache)
    const errors = errorsOf(keyv)
    const result = await keyv.setMany([
      { key: 'good', value: 1, ttl: 60_000 },
      { key: 'good2', value: 2 },
      { key: 'bad', value: 3, ttl: 1e20 },
    ])
    expect(result).toEqual([false, false, false])
    expect(await cache.keys('*')).toEqual([])
    expect(errors[0]).toBeInstanceOf(InvalidArgumentError)
  })

  it('a value that cannot be serialized fails its TTL group only, and says so per entry', async () => {
    const cache = newCache({ serializer: 'json' })
    const keyv = createKeyv(cache)
    const errors = errorsOf(keyv)
    const circular: Record<string, unknown> = {}
    circular.self = circular
    const result = await keyv.setMany([
      { key: 'good', value: 1, ttl: 60_000 },
      { key: 'bad', value: circular },
      { key: 'good2', value: 2, ttl: 30_000 },
    ])
    expect(result).toEqual([true, false, true])
    expect(await cache.hasKey('keyv:good')).toBe(true)
    expect(await cache.hasKey('keyv:bad')).toBe(false)
    expect(await cache.hasKey('keyv:good2')).toBe(true)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(SerializationError)
  })

  it('with throwOnErrors, rejects with the failed group’s error once every group settled', async () => {
    const cache = newCache({ serializer: 'json' })
    const keyv = createKeyv(cache, { throwOnErrors: true })
    const errors = errorsOf(keyv)
    const circular: Record<string, unknown> = {}
    circular.self = circular
    await expect(
      keyv.setMany([
        { key: 'good', value: 1, ttl: 60_000 },
        { key: 'bad', value: circular },
      ]),
    ).rejects.toBeInstanceOf(SerializationError)
    expect(await cache.hasKey('keyv:good')).toBe(true)
    expect(errors).toHaveLength(1)
  })
})

describe('namespaces', () => {
  for (const namespace of [undefined, '']) {
    it(`createKeyv(cache, { namespace: ${JSON.stringify(namespace)} }) iterates the keys as given`, async () => {
      const cache = newCache()
      const keyv = createKeyv(cache, { namespace })
      await keyv.set('plain', 1)
      await keyv.set('user:1', 2)
      expect((await cache.keys('*')).sort()).toEqual(['plain', 'user:1'])
      expect((await iterate(keyv)).sort()).toEqual([
        ['plain', 1],
        ['user:1', 2],
      ])
      expect(await keyv.get('user:1')).toBe(2)
    })
  }
})

describe("namespaces that contain ':'", () => {
  // Keyv stores key k of namespace ns as 'ns:k': namespace 'a:b' key 'k' and namespace 'a' key
  // 'b:k' would be one Redis key, and clear() of 'a' ('a:*') would delete 'a:b''s entries.
  it('are refused where the store is given one, before anything is written', async () => {
    const cache = newCache()
    expect(() => createKeyv(cache, { namespace: 'a:b' })).toThrow(InvalidArgumentError)
    expect(() => new Keyv({ store: createKeyvStore(cache), namespace: 'a:b' })).toThrow(
      InvalidArgumentError,
    )
    expect(() => new Keyv(createKeyvStore(cache), { namespace: 'app:v2' })).toThrow(/':'/)
    const keyv = createKeyv(cache, { namespace: 'a' })
    expect(() => {
      keyv.namespace = 'a:b'
    }).toThrow(InvalidArgumentError)
    const store = createKeyvStore(cache)
    expect(() => {
      store.namespace = 'x:'
    }).toThrow(InvalidArgumentError)
    expect(store.namespace).toBeUndefined()
    await expect(store.iterator('a:b').next()).rejects.toBeInstanceOf(InvalidArgumentError)
    expect(await cache.keys('*')).toEqual([])
  })

  it('a namespace and one that starts with it stay apart', async () => {
    const cache = newCache()
    const a = createKeyv(cache, { namespace: 'a' })
    const ab = createKeyv(cache, { namespace: 'a-b' })
    await ab.set('k', 'from a-b')
    await a.set('own', 'from a')
    expect(await iterate(a)).toEqual([['own', 'from a']])
    await a.clear()
    expect(await ab.get('k')).toBe('from a-b')
  })
})

/** CPython 3's pickles (`pickle.dumps(…, protocol=5)`) of `(1, 'a')` and of a `datetime`. */
const PICKLED_TUPLE = Buffer.from('80059509000000000000004b018c01619486942e', 'hex')
const PICKLED_DATETIME = Buffer.from(
  '8005952a000000000000008c086461746574696d65948c086461746574696d65949394430a07e80102030405' +
    '00000094859452942e',
  'hex',
)

/** Values under a `'keyv'` store's namespace that Keyv did not write there, and who wrote them. */
const FOREIGN: Array<[string, (cache: Cache, key: string) => Promise<unknown>]> = [
  [
    'an integer cache.incr() counted',
    async (cache, key) => {
      await cache.set(key, 1)
      await cache.incr(key)
    },
  ],
  ['a plain string', (cache, key) => cache.set(key, 'plain string')],
  ['an object cache.set() stored', (cache, key) => cache.set(key, { a: 1 })],
  ['a JSON null', (cache, key) => cache.set(key, 'null')],
  ['a JSON array', (cache, key) => cache.set(key, '[1,2]')],
  ['broken JSON', (cache, key) => cache.set(key, '{"value":')],
  ["Django's pickle of a tuple", (cache, key) => rawSet(cache, key, PICKLED_TUPLE)],
  ["Django's pickle of a datetime", (cache, key) => rawSet(cache, key, PICKLED_DATETIME)],
]

describe("values Keyv did not write, read by a 'keyv' store", () => {
  for (const [what, write] of FOREIGN) {
    it(`${what}: an error event and a miss, left out of iterator()`, async () => {
      const cache = newCache({ serializer: 'pickle' })
      const keyv = new Keyv({ store: createKeyvStore(cache) })
      const errors = errorsOf(keyv)
      await keyv.set('good', 'fine')
      await write(cache, 'keyv:foreign')
      const key = 'foreign'
      expect(await keyv.get(key)).toBeUndefined()
      expect(await keyv.getRaw(key)).toBeUndefined()
      expect(await keyv.getMany([key, 'good'])).toEqual([undefined, 'fine'])
      expect(await iterate(keyv)).toEqual([['good', 'fine']])
      expect(errors).toHaveLength(4)
      for (const error of errors) expect(error).toBeInstanceOf(SerializationError)
      expect(String(errors[0])).toContain(`keyv:${key}`)
    })
  }

  it('with throwOnErrors, such a value rejects reads and the iteration', async () => {
    const cache = newCache()
    const keyv = keyvOf('createKeyvStore', cache, true)
    const errors = errorsOf(keyv)
    await keyv.set('good', 'fine')
    await cache.set('keyv:foreign', 'plain string')
    await expect(keyv.get('foreign')).rejects.toBeInstanceOf(SerializationError)
    await expect(keyv.getMany(['good', 'foreign'])).rejects.toBeInstanceOf(SerializationError)
    await expect(iterate(keyv)).rejects.toBeInstanceOf(SerializationError)
    expect(errors).toHaveLength(3)
  })

  it('in a Keyv that does not serialize, entries are read and anything else is not', async () => {
    const cache = newCache()
    const keyv = new Keyv({
      store: createKeyvStore(cache),
      serialize: undefined,
      deserialize: undefined,
    })
    const errors = errorsOf(keyv)
    await keyv.set('a', { x: 1 })
    await keyv.set('b', 'two', 60_000)
    await cache.set('keyv:c', 3)
    expect(await keyv.getMany(['a', 'b', 'c'])).toEqual([{ x: 1 }, 'two', undefined])
    expect((await iterate(keyv)).sort()).toEqual([
      ['a', { x: 1 }],
      ['b', 'two'],
    ])
    expect(errors).toHaveLength(2)
    for (const error of errors) expect(error).toBeInstanceOf(SerializationError)
  })
})

describe('iterator over undecodable values', () => {
  it('skips an undecodable value with an error event and yields the rest of its batch', async () => {
    const cache = newCache()
    const keyv = createKeyv(cache, { namespace: 'ns' })
    const errors = errorsOf(keyv)
    // 150 good keys: the bad one shares a batch with good ones whatever order SCAN gives.
    await keyv.setMany(Array.from({ length: 150 }, (_, i) => ({ key: `k${i}`, value: i })))
    await rawSet(cache, 'ns:bad', Buffer.from([0xff]))
    const items = await iterate(keyv)
    expect(items).toHaveLength(150)
    expect(items.map(([, value]) => value).sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 150 }, (_, i) => i),
    )
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(SerializationError)
  })

  it('with throwOnErrors, an undecodable value rejects the iteration', async () => {
    const cache = newCache()
    const keyv = createKeyv(cache, { namespace: 'ns', throwOnErrors: true })
    errorsOf(keyv)
    await keyv.set('good', 1)
    await rawSet(cache, 'ns:bad', Buffer.from([0xff]))
    await expect(iterate(keyv)).rejects.toBeInstanceOf(SerializationError)
  })

  it('a read the server refuses (NOPERM) rejects the iteration rather than ending it early', async () => {
    const admin = newCache()
    await admin.connection.command([
      'ACL',
      'SETUSER',
      'scanner',
      'on',
      '>scan-pw',
      '~*',
      '+@all',
      '-mget',
      '-get',
    ])
    const cache = newCache({ location: `redis://scanner:scan-pw@127.0.0.1:${caches.server.port}` })
    const keyv = createKeyv(cache, { namespace: 'ns' })
    errorsOf(keyv)
    await keyv.setMany(Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: i })))
    await expect(iterate(keyv)).rejects.toThrow(/NOPERM/)
  })

  it('a key of another type in a batch with an undecodable value is left out, as MGET leaves it', async () => {
    const cache = newCache()
    const keyv = createKeyv(cache, { namespace: 'ns' })
    const errors = errorsOf(keyv)
    await keyv.setMany(Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: i })))
    await rawSet(cache, 'ns:bad', Buffer.from([0xff]))
    await cache.connection.command(['HSET', cache.makeKey('ns:hash'), 'f', 'v'])
    const items = await iterate(keyv)
    expect(items).toHaveLength(20)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(SerializationError)
  })

  it('a closed cache rejects the iteration rather than ending it early', async () => {
    const cache = newCache()
    const keyv = createKeyv(cache, { namespace: 'ns' })
    errorsOf(keyv)
    await keyv.set('good', 1)
    await cache.close()
    await expect(iterate(keyv)).rejects.toBeInstanceOf(ClosedError)
  })
})

describe('TTLs that are not numbers', () => {
  it("a string TTL ('1000', as read from an env var) is refused, and nothing is written", async () => {
    const cache = newCache()
    const keyv = createKeyv(cache, { throwOnErrors: true })
    errorsOf(keyv)
    await expect(keyv.set('s', 'v', '1000' as unknown as number)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    )
    await expect(
      keyv.setMany([
        { key: 'a', value: 1 },
        { key: 's', value: 'v', ttl: '1000' as unknown as number },
      ]),
    ).rejects.toBeInstanceOf(InvalidArgumentError)
    expect(await cache.keys('*')).toEqual([])
  })

  it('undefined, null, NaN and Infinity never expire; other non-numbers are refused', async () => {
    const cache = newCache()
    const store = new KeyvCachex(cache, { serialization: 'cachex' })
    for (const [name, ttl] of [
      ['undefined', undefined],
      ['null', null],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
    ] as const) {
      expect(await store.set(name, { value: 1 }, ttl as number | undefined)).toBe(true)
      expect(await pttl(cache, name)).toBe(-1)
    }
    for (const ttl of ['1000', true, {}, 10n]) {
      await expect(store.set('x', { value: 1 }, ttl as unknown as number)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
    }
    expect(await cache.hasKey('x')).toBe(false)
  })
})
