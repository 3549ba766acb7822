// set(key, value, { get: true }): SET … GET, the old value decoded (django-cachex's get=True).
import { type Cache, createCache, InvalidArgumentError, ResponseError } from '@cachex/redis'
import { standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'

let server: { url: string; stop(): Promise<void> }
let cache: Cache
let local: Cache

beforeAll(async () => {
  server = await standaloneServer()
  const keyPrefix = uniquePrefix('setget')
  cache = createCache({ location: server.url, keyPrefix })
  local = createCache({ location: server.url, keyPrefix, local: { maxEntries: 100 } })
})

afterAll(async () => {
  await cache?.close()
  await local?.close()
  await server?.stop()
})

beforeEach(async () => {
  await cache.clear()
})

describe('set with get: true', () => {
  it('stores the value and resolves the old one, decoded; null for a new key', async () => {
    expect(await cache.set('k', { v: 1 }, { get: true })).toBeNull()
    expect(await cache.set('k', { v: 2 }, { get: true })).toEqual({ v: 1 })
    expect(await cache.get('k')).toEqual({ v: 2 })
    // Integers stored as digits come back as numbers, as with get.
    await cache.set('n', 5)
    expect(await cache.set('n', 6, 60, { get: true })).toBe(5)
    expect(await cache.ttl('n')).toBeGreaterThan(50)
  })

  it('with nx / xx: the old value either way, the write only where the condition holds', async () => {
    await cache.set('k', 'old')
    expect(await cache.set('k', 'new', { nx: true, get: true })).toBe('old')
    expect(await cache.get('k')).toBe('old')
    expect(await cache.set('fresh', 'x', { xx: true, get: true })).toBeNull()
    expect(await cache.hasKey('fresh')).toBe(false)
    expect(await cache.set('k', 'newer', { xx: true, get: true })).toBe('old')
    expect(await cache.get('k')).toBe('newer')
  })

  it('a timeout ≤ 0 deletes the key (GETDEL) and resolves what it held; with nx, leaves it', async () => {
    await cache.set('k', 'v')
    expect(await cache.set('k', 'ignored', { timeout: 0, nx: true, get: true })).toBe('v')
    expect(await cache.get('k')).toBe('v')
    expect(await cache.set('k', 'ignored', 0, { get: true })).toBe('v')
    expect(await cache.hasKey('k')).toBe(false)
  })

  it('versions, and a key of another type rejects naming it', async () => {
    await cache.set('k', 'v1')
    expect(await cache.set('k', 'v2', { version: 2, get: true })).toBeNull()
    expect(await cache.get('k')).toBe('v1')
    await cache.hset('h', 'f', 1)
    const error = await cache.set('h', 1, { get: true }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ResponseError)
    expect(await cache.hget('h', 'f')).toBe(1)
    await expect(cache.set('k', 1, { get: 'yes' } as never)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    )
  })

  it('through a local tier: the tier never serves the value replaced', async () => {
    for (let i = 0; i < 20; i++) {
      await local.set('t', `v${i}`)
      expect(await local.get('t')).toBe(`v${i}`)
      expect(await local.get('t')).toBe(`v${i}`)
      expect(await local.set('t', `w${i}`, { get: true })).toBe(`v${i}`)
      expect(await local.get('t')).toBe(`w${i}`)
    }
  })
})
