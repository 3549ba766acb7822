// Many keys through the bridge. A read in 'cachex' mode sends a PTTL per key beside the GETs the
// cache gathers into one MGET: a getMany() of 20,000 keys, or 20,000 get()s at once, sent 20,000
// PTTLs, and past the cache's maxInFlightBytes (about 16,000 of them) each was refused — every
// key a miss, and the cache's next calls refused while they drained. A setMany() of entries with
// 20,000 distinct TTLs wrote 20,000 groups at once, and a fifth of them were refused (false).
// And a value read in its last millisecond (PTTL 0) was handed to Keyv without an expiry, as if
// it never expired (cache-manager's ttl() answered undefined): it is a miss, which deletes nothing.
// A getMany that fails leaves no PTTL queued behind it, and a key it reads in two batches is
// answered with one batch's value and that batch's expiry.
import { type Cache, createCache } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { createCache as createCacheManager } from 'cache-manager'
import { expect, it, vi } from 'vitest'
import { createKeyv, createKeyvStore } from '../src/index.ts'
import { testCaches } from './_helpers.ts'

const { newCache } = testCaches()

const N = 20_000
const keys = Array.from({ length: N }, (_, i) => `k${i}`)

/** A Keyv on a cache of its own, and the errors it reports. */
function keyvWithErrors() {
  const cache = newCache()
  const keyv = createKeyv(cache)
  const errors: string[] = []
  keyv.on('error', (error: Error) => errors.push(`${error.name}: ${error.message.slice(0, 80)}`))
  return { cache, keyv, errors }
}

it('getMany of 20,000 keys finds every one, with its expiry, and the next call goes through', async () => {
  const { cache, keyv, errors } = keyvWithErrors()
  expect(
    (await keyv.setMany(keys.map((key, i) => ({ key, value: i, ttl: 600_000 })))).every(Boolean),
  ).toBe(true)
  const found = await keyv.getMany(keys)
  expect(errors).toEqual([])
  expect(found.filter((value) => value !== undefined)).toHaveLength(N)
  expect(found[12_345]).toBe(12_345)
  const raw = await keyv.getManyRaw(keys.slice(-3))
  for (const entry of raw) expect(entry?.expires).toBeGreaterThan(Date.now())
  await expect(cache.set('other', 1)).resolves.toBe(true)
})

it("cache-manager's mget of 20,000 keys finds every one", async () => {
  const { keyv, errors } = keyvWithErrors()
  const manager = createCacheManager({ stores: [keyv] })
  await manager.mset(keys.map((key, i) => ({ key, value: i })))
  const found = await manager.mget(keys)
  expect(errors).toEqual([])
  expect(found.filter((value: unknown) => value !== undefined)).toHaveLength(N)
})

it('20,000 get()s at once find every value', async () => {
  const { keyv, errors } = keyvWithErrors()
  await keyv.setMany(keys.map((key, i) => ({ key, value: i })))
  const found = await Promise.all(keys.map((key) => keyv.get(key)))
  expect(errors).toEqual([])
  expect(found.filter((value) => value !== undefined)).toHaveLength(N)
})

it('setMany of 20,000 entries of distinct TTLs stores every one', async () => {
  const { cache, keyv, errors } = keyvWithErrors()
  const stored = await keyv.setMany(keys.map((key, i) => ({ key, value: i, ttl: 600_000 + i })))
  expect(errors).toEqual([])
  expect(stored.filter(Boolean)).toHaveLength(N)
  expect(await keyv.get('k19999')).toBe(19_999)
  // Each with its own TTL (Keyv's key is namespaced: `keyv:k7`).
  const pttl = await cache.pttl('keyv:k7')
  expect(pttl).toBeGreaterThan(590_000)
  expect(pttl).toBeLessThanOrEqual(600_007)
})

it('a value read in its last millisecond is a miss, not a value that never expires', async () => {
  // memory:// expires by Date.now(): a fake Date stops the clock at the last millisecond.
  vi.useFakeTimers({ toFake: ['Date'] })
  const cache = createCache({ location: `memory://${uniquePrefix('keyv-last-ms')}` })
  try {
    const keyv = createKeyv(cache)
    vi.setSystemTime(1_000_000)
    await keyv.set('k', 'v', 1000)
    vi.setSystemTime(1_001_000)
    expect(await keyv.getRaw('k')).toBe(undefined)
    expect(await keyv.getMany(['k'])).toEqual([undefined])
    // Keyv deleted nothing: the key is Redis's to expire (it could hold a value written since).
    expect(await cache.hasKey('keyv:k')).toBe(true)
  } finally {
    vi.useRealTimers()
    await cache.close()
  }
})

it('a getMany that fails leaves no PTTL behind it', async () => {
  // Values of 600 bytes that zlib shrinks: 1,000 of them pass the call's decompression budget
  // (4 × maxValueSize), so the first MGET fails.
  const cache = newCache({ compressor: 'zlib', maxValueSize: 1024 })
  const keyv = createKeyv(cache)
  const errors: string[] = []
  keyv.on('error', (error: Error) => errors.push(error.name))
  const many = keys.slice(0, 3000)
  await keyv.setMany(many.map((key) => ({ key, value: key.padEnd(600, 'x') })))
  const pttls = async () => {
    const text = String(await cache.connection.command(['INFO', 'commandstats']))
    return Number(/cmdstat_pttl:calls=(\d+)/.exec(text)?.[1] ?? 0)
  }
  const before = await pttls()
  expect((await keyv.getMany(many)).every((value) => value === undefined)).toBe(true)
  expect(errors).toEqual(['CompressionError'])
  // Its first 1,000 keys' PTTLs, answered before it settled; none of the rest were sent.
  const after = await pttls()
  expect(after - before).toBe(1000)
  expect(await keyv.get('k7')).toBe('k7'.padEnd(600, 'x'))
  expect((await pttls()) - after).toBe(1)
})

it('a key read in two batches, rewritten between them, carries the expiry of the value given', async () => {
  const cache = newCache()
  await cache.set('keyv:dup', 'old', 600)
  // The cache as the store sees it: once the first batch is read, 'dup' is rewritten without
  // an expiry, before the second batch leaves.
  let batches = 0
  const rewriting = new Proxy(cache, {
    get(target, name) {
      const value = Reflect.get(target, name, target)
      if (name !== 'getMany') return typeof value === 'function' ? value.bind(target) : value
      return async (...args: unknown[]) => {
        const found = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)
        if (batches++ === 0) await target.set('keyv:dup', 'new', null)
        return found
      }
    },
  })
  const store = createKeyvStore(rewriting as Cache, { serialization: 'cachex' })
  const many = ['dup', ...keys.slice(0, 999), 'dup'].map((key) => `keyv:${key}`)
  const entries = await store.getMany(many)
  expect(batches).toBe(2)
  expect(entries[1000]).toEqual({ value: 'new' })
  expect(entries[0]).toEqual(entries[1000])
})
