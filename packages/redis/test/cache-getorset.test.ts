import { type Cache, createCache } from '@cachex/redis'
import { standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let server: { url: string; stop(): Promise<void> }
let cache: Cache

beforeAll(async () => {
  server = await standaloneServer()
  cache = createCache({ location: server.url, keyPrefix: uniquePrefix('gos') })
})

afterAll(async () => {
  await cache?.close()
  await server?.stop()
})

describe('getOrSet shares one computation per key in a process', () => {
  it('calls the factory once for 50 concurrent callers and gives all the same value', async () => {
    let calls = 0
    const factory = async () => {
      calls++
      await new Promise((r) => setTimeout(r, 50))
      return { n: calls }
    }
    const results = await Promise.all(
      Array.from({ length: 50 }, () => cache.getOrSet('hot', factory, { timeout: 60 })),
    )
    expect(calls).toBe(1)
    for (const r of results) expect(r).toEqual({ n: 1 })
    expect(await cache.get('hot')).toEqual({ n: 1 })
  })

  it('keeps keys apart and computes again once the value is gone', async () => {
    let calls = 0
    const factory = () => ++calls
    const [a, b] = await Promise.all([cache.getOrSet('a1', factory), cache.getOrSet('b1', factory)])
    expect(new Set([a, b])).toEqual(new Set([1, 2]))
    await cache.delete('a1')
    expect(await cache.getOrSet('a1', factory)).toBe(3)
  })

  it('rejects every waiter when the factory fails, and the next call tries again', async () => {
    let calls = 0
    const failing = async () => {
      calls++
      await new Promise((r) => setTimeout(r, 20))
      throw new Error('backend down')
    }
    const settled = await Promise.allSettled(
      Array.from({ length: 10 }, () => cache.getOrSet('flaky', failing)),
    )
    expect(calls).toBe(1)
    expect(settled.every((s) => s.status === 'rejected')).toBe(true)
    expect(await cache.getOrSet('flaky', () => 'ok')).toBe('ok')
  })

  it('shares per version: another version computes on its own', async () => {
    let calls = 0
    const factory = () => ++calls
    const [v1, v2] = await Promise.all([
      cache.getOrSet('ver', factory),
      cache.getOrSet('ver', factory, { version: 2 }),
    ])
    expect(calls).toBe(2)
    expect(await cache.get('ver')).toBe(v1)
    expect(await cache.get('ver', null, { version: 2 })).toBe(v2)
  })
})
