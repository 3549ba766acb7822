// Values a read cannot hand back, and what they must not take with them: a string nested deeper
// than Keyv's deserializer can parse, a batch with one value the cache cannot decode, and a Keyv
// that does not serialize writing entries without an expiry.
import { type Cache, CompressionError, SerializationError } from '@cachex/redis'
import { monitor } from '@cachex/test-utils'
import { createCache as createCacheManager } from 'cache-manager'
import { Keyv } from 'keyv'
import { describe, expect, it } from 'vitest'
import { createKeyv, createKeyvStore } from '../src/index.ts'
import { iterate, testCaches } from './_helpers.ts'

const caches = testCaches()
const { newCache } = caches

/** Keyv's JSON entry of an array nested `depth` levels deep: 6 KB at 3,000 levels. */
function nested(depth: number): string {
  return `{"value":${'['.repeat(depth)}${']'.repeat(depth)}}`
}

/** The errors `keyv` emits from now on. */
function errorsOf(keyv: Keyv): unknown[] {
  const errors: unknown[] = []
  keyv.on('error', (error: unknown) => errors.push(error))
  return errors
}

/** Writes `bytes` under the user key `key` of `cache`, past its serializer. */
async function rawSet(cache: Cache, key: string, bytes: Buffer | string): Promise<void> {
  await cache.connection.command(['SET', cache.makeKey(key), bytes])
}

describe("a 'keyv' store's value nested deeper than Keyv's deserializer parses", () => {
  // Keyv's deserializer (@keyv/serialize) is JSON.parse with a reviver, whose walk recurses:
  // 3,000 levels exhaust Node's stack (RangeError), where a plain JSON.parse does not.
  it('is an error event and a miss for get, getMany and wrap(), and left out of iterator()', async () => {
    const cache = newCache()
    const keyv = new Keyv({ store: createKeyvStore(cache), namespace: 'n' })
    const errors = errorsOf(keyv)
    await keyv.set('good', 'ok')
    // Any writer of the cache (cache.set, another app) can leave this string.
    await cache.set('n:deep', nested(3_000))
    expect(await keyv.get('deep')).toBeUndefined()
    expect(await keyv.getMany(['good', 'deep'])).toEqual(['ok', undefined])
    expect(await iterate(keyv)).toEqual([['good', 'ok']])
    const manager = createCacheManager({ stores: [keyv] })
    expect(await manager.wrap('deep', async () => 'fresh')).toBe('fresh')
    expect(await keyv.get('deep')).toBe('fresh')
    expect(errors).toHaveLength(4)
    for (const error of errors) expect(error).toBeInstanceOf(SerializationError)
  })

  it('rejects with a SerializationError under throwOnErrors', async () => {
    const cache = newCache()
    const keyv = new Keyv({
      store: createKeyvStore(cache, { throwOnErrors: true }),
      namespace: 'n',
      throwOnErrors: true,
    })
    const errors = errorsOf(keyv)
    await cache.set('n:deep', nested(3_000))
    await expect(keyv.get('deep')).rejects.toBeInstanceOf(SerializationError)
    expect(errors).toHaveLength(1)
  })

  it('a deep value Keyv itself can read back is still read', async () => {
    const cache = newCache()
    const keyv = new Keyv({ store: createKeyvStore(cache), namespace: 'n' })
    const errors = errorsOf(keyv)
    let value: unknown[] = []
    for (let i = 0; i < 1_500; i++) value = [value]
    expect(await keyv.set('deep', value)).toBe(true)
    expect(await keyv.get('deep')).toEqual(value)
    expect(await keyv.getMany(['deep'])).toEqual([value])
    expect(errors).toEqual([])
  })
})

describe("a 'keyv' store in a Keyv that does not serialize, entries without a TTL", () => {
  // Keyv hands such a store { value, expires: undefined }; pickle refuses undefined.
  for (const serializer of ['pickle', 'json', 'msgpack'] as const) {
    it(`are stored and read back (${serializer})`, async () => {
      const cache = newCache({ serializer })
      const keyv = new Keyv({
        store: createKeyvStore(cache),
        serialize: undefined,
        deserialize: undefined,
      })
      const errors = errorsOf(keyv)
      expect(await keyv.set('with-ttl', 1, 60_000)).toBe(true)
      expect(await keyv.set('no-ttl', { x: 1 })).toBe(true)
      expect(await keyv.setMany([{ key: 'many', value: 'm' }])).toEqual([true])
      expect(errors).toEqual([])
      expect(await keyv.get('no-ttl')).toEqual({ x: 1 })
      expect(await keyv.get('with-ttl')).toBe(1)
      expect(await keyv.getMany(['no-ttl', 'many'])).toEqual([{ x: 1 }, 'm'])
      expect(await keyv.getRaw('no-ttl')).toEqual({ value: { x: 1 } })
      expect((await iterate(keyv)).sort()).toEqual([
        ['many', 'm'],
        ['no-ttl', { x: 1 }],
        ['with-ttl', 1],
      ])
      expect(errors).toEqual([])
    })
  }
})

describe('getMany with one value the cache cannot decode', () => {
  for (const mode of ['createKeyv', 'createKeyvStore'] as const) {
    it(`answers the other keys, and a miss with an error event for that one (${mode})`, async () => {
      const cache = newCache()
      const keyv =
        mode === 'createKeyv'
          ? createKeyv(cache, { namespace: 'n' })
          : new Keyv({ store: createKeyvStore(cache), namespace: 'n' })
      const errors = errorsOf(keyv)
      await keyv.setMany([
        { key: 'a', value: 1 },
        { key: 'b', value: 2, ttl: 60_000 },
      ])
      // Another app (or a bad deploy) left bytes the cache cannot decode under one key.
      await rawSet(cache, 'n:bad', '{not json')
      expect(await keyv.getMany(['a', 'bad', 'b', 'nope'])).toEqual([1, undefined, 2, undefined])
      expect(errors).toHaveLength(1)
      expect(errors[0]).toBeInstanceOf(SerializationError)
      expect(String(errors[0])).toContain('n:bad')
    })
  }

  it("answers the other keys through cache-manager's mget", async () => {
    const cache = newCache()
    const manager = createCacheManager({ stores: [createKeyv(cache, { namespace: 'n' })] })
    await manager.mset([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ])
    await rawSet(cache, 'n:bad', Buffer.from([0xff, 0xfe]))
    expect(await manager.mget(['a', 'bad', 'b'])).toEqual([1, undefined, 2])
  })

  it('keeps the expiry of the other keys (createKeyv reads their PTTL)', async () => {
    const cache = newCache()
    const keyv = createKeyv(cache, { namespace: 'n' })
    errorsOf(keyv)
    await keyv.set('a', 1, 60_000)
    await rawSet(cache, 'n:bad', '{not json')
    const [a] = await keyv.getManyRaw(['a', 'bad'])
    expect(a?.value).toBe(1)
    expect(a?.expires).toBeGreaterThan(Date.now() + 50_000)
  })

  it('with throwOnErrors, rejects with the error, emitted once', async () => {
    const cache = newCache()
    const keyv = createKeyv(cache, { namespace: 'n', throwOnErrors: true })
    const errors = errorsOf(keyv)
    await keyv.set('a', 1)
    await rawSet(cache, 'n:bad', '{not json')
    await expect(keyv.getMany(['a', 'bad'])).rejects.toBeInstanceOf(SerializationError)
    expect(errors).toHaveLength(1)
  })

  it('a key of another type among them is a miss, as MGET reads it', async () => {
    const cache = newCache()
    const keyv = createKeyv(cache, { namespace: 'n' })
    const errors = errorsOf(keyv)
    await keyv.set('a', 1)
    await rawSet(cache, 'n:bad', '{not json')
    await cache.connection.command(['HSET', cache.makeKey('n:hash'), 'f', 'v'])
    expect(await keyv.getMany(['hash', 'bad', 'a'])).toEqual([undefined, undefined, 1])
    expect(errors).toHaveLength(1)
  })

  it('a batch that decodes is still one MGET, and nothing else', async () => {
    const cache = newCache()
    const keyv = new Keyv({ store: createKeyvStore(cache), namespace: 'n' })
    await keyv.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ])
    const watch = await monitor(caches.server.port)
    try {
      expect(await keyv.getMany(['a', 'b'])).toEqual([1, 2])
      await cache.connection.command(['ECHO', 'done'])
      await watch.waitFor((c) => c[0] === 'ECHO')
      const reads = watch.commands.filter((c) => ['GET', 'MGET', 'PTTL'].includes(c[0] ?? ''))
      expect(reads.map((c) => c[0])).toEqual(['MGET'])
    } finally {
      watch.stop()
    }
  })
})

describe('values that together decompress past what one call may read (4 × maxValueSize)', () => {
  // 20 values of 9 KB, each under maxValueSize (10 KB), stored compressed: the cache refuses to
  // read them in one call, and reading them one call each must not step around that limit.
  const maxValueSize = 10_000
  const keys = Array.from({ length: 20 }, (_, i) => `k${i}`)

  async function filled(): Promise<{ cache: Cache; keyv: Keyv; errors: unknown[] }> {
    const cache = newCache({ compressor: 'zlib', maxValueSize })
    const keyv = new Keyv({ store: createKeyvStore(cache), namespace: 'n' })
    for (const key of keys) await keyv.set(key, 'x'.repeat(9_000))
    return { cache, keyv, errors: errorsOf(keyv) }
  }

  it('getMany is one error event and all misses, as the cache refuses it', async () => {
    const { cache, keyv, errors } = await filled()
    await expect(cache.getMany(keys.map((key) => `n:${key}`))).rejects.toBeInstanceOf(
      CompressionError,
    )
    const values = await keyv.getMany(keys)
    expect(values).toEqual(keys.map(() => undefined))
    expect(errors).toHaveLength(1)
    expect(String(errors[0])).toMatch(/values of one call would decompress to more than 40000/)
  })

  it('iterator() yields every one, read one after another', async () => {
    const { keyv, errors } = await filled()
    const seen = await iterate(keyv)
    expect(seen.map(([key]) => key).sort()).toEqual([...keys].sort())
    expect(seen.every(([, value]) => value === 'x'.repeat(9_000))).toBe(true)
    expect(errors).toEqual([])
  })
})
