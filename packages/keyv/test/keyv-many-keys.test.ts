// Many keys through the bridge. A read in 'cachex' mode sends a PTTL per key beside the GETs the
// cache gathers into one MGET: a getMany() of 20,000 keys, or 20,000 get()s at once, sent 20,000
// PTTLs, and past the cache's maxInFlightBytes (about 16,000 of them) each was refused — every
// key a miss, and the cache's next calls refused while they drained. A setMany() of entries with
// 20,000 distinct TTLs wrote 20,000 groups at once, and a fifth of them were refused (false).
// And a value read in its last millisecond (PTTL 0) was handed to Keyv without an expiry, as if
// it never expired (cache-manager's ttl() answered undefined).
import { createCache } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { createCache as createCacheManager } from 'cache-manager'
import { expect, it, vi } from 'vitest'
import { createKeyv } from '../src/index.ts'
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

it('a value read in its last millisecond is handed to Keyv expiring now, not never', async () => {
  // memory:// expires by Date.now(): a fake Date stops the clock at the last millisecond.
  vi.useFakeTimers({ toFake: ['Date'] })
  const cache = createCache({ location: `memory://${uniquePrefix('keyv-last-ms')}` })
  try {
    const keyv = createKeyv(cache)
    const manager = createCacheManager({ stores: [keyv] })
    vi.setSystemTime(1_000_000)
    await manager.set('k', 'v', 1000)
    vi.setSystemTime(1_001_000)
    expect(await keyv.getRaw('k')).toEqual({ value: 'v', expires: 1_001_000 })
    expect(await manager.ttl('k')).toBe(1_001_000)
  } finally {
    vi.useRealTimers()
    await cache.close()
  }
})
