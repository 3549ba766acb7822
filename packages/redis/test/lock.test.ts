import { type RedisServer, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache, Lock, LockNotOwnedError } from '../src/index.ts'

let server: RedisServer
let cache: Cache

beforeAll(async () => {
  server = await startRedis()
  cache = createCache({ location: server.url, keyPrefix: 'p' })
})

afterAll(async () => {
  await cache?.close()
  await server?.stop()
})

describe('cache.lock()', () => {
  it('returns a Lock whose key goes through the key function', async () => {
    const lock = cache.lock('k', { timeout: 5 })
    expect(lock).toBeInstanceOf(Lock)
    expect(lock.name).toBe('p:1:k')
    expect(await lock.acquire()).toBe(true)
    const client = cache.connection
    expect(String(await client.command(['GET', 'p:1:k']))).toBe(lock.token)
    const ttl = (await client.command(['PTTL', 'p:1:k'])) as number
    expect(ttl).toBeGreaterThan(4000)
    expect(ttl).toBeLessThanOrEqual(5000)
    // another lock on the same user key is the same Redis lock
    const other = cache.lock('k')
    expect(await other.acquire({ blocking: false })).toBe(false)
    await lock.release()
    expect(await client.command(['EXISTS', 'p:1:k'])).toBe(0)
    expect(await other.acquire({ blocking: false })).toBe(true)
    await other.release()
  })

  it('passes the options through', async () => {
    const lock = cache.lock('opts', {
      timeout: 2,
      sleep: 0.05,
      blocking: false,
      blockingTimeout: 1,
    })
    expect(lock).toMatchObject({ timeout: 2, sleep: 0.05, blocking: false, blockingTimeout: 1 })
  })

  it('keeps locks of different prefixes and versions apart', async () => {
    const other = createCache({ location: server.url, keyPrefix: 'q', version: 2 })
    try {
      const mine = cache.lock('shared')
      const theirs = other.lock('shared')
      expect(theirs.name).toBe('q:2:shared')
      expect(await mine.acquire({ blocking: false })).toBe(true)
      expect(await theirs.acquire({ blocking: false })).toBe(true)
      await mine.release()
      await theirs.release()
    } finally {
      await other.close()
    }
  })

  it('works with await using (acquireLock) and withLock', async () => {
    {
      await using lock = await cache.acquireLock('scoped')
      expect(await lock.owned()).toBe(true)
    }
    expect(await cache.connection.command(['EXISTS', 'p:1:scoped'])).toBe(0)
    expect(await cache.lock('scoped').withLock(() => 7)).toBe(7)
    const expiring = cache.lock('expiring', { timeout: 0.1 })
    await expiring.acquire()
    await new Promise((resolve) => setTimeout(resolve, 250))
    await expect(expiring.release()).rejects.toBeInstanceOf(LockNotOwnedError)
  })
})
