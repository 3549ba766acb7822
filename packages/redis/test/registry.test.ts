// The registry is module-global state: every registry test lives in this one file, in order.
import {
  ClosedError,
  caches,
  configureCaches,
  getRedisConnection,
  InvalidArgumentError,
} from '@cachex/redis'
import { freePort, standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

interface NodeRedis {
  sendCommand(args: string[]): Promise<unknown>
  get(key: string): Promise<string | null>
}

let server: { url: string; stop(): Promise<void> }
const prefixA = uniquePrefix('reg-a')
const prefixB = uniquePrefix('reg-b')

beforeAll(async () => {
  server = await standaloneServer()
})

afterAll(async () => {
  await caches.close()
  await server?.stop()
})

describe('caches registry', () => {
  it('before configureCaches, get throws a clear error', () => {
    expect(() => caches.get()).toThrow(InvalidArgumentError)
    expect(() => caches.get()).toThrow(/no caches are configured.*configureCaches/)
    expect(caches.aliases()).toEqual([])
  })

  it('refuses a non-object configuration', () => {
    expect(() => configureCaches(null as unknown as Record<string, never>)).toThrow(
      InvalidArgumentError,
    )
  })

  it('creates one cache per alias, with its options and the globals', async () => {
    const logged: string[] = []
    configureCaches(
      {
        default: { location: server.url, keyPrefix: prefixA },
        other: { location: server.url, keyPrefix: prefixB, timeout: 60, version: 3 },
      },
      { scanItersize: 2, logger: { error: (m: string) => logged.push(m) } },
    )
    expect(caches.aliases()).toEqual(['default', 'other'])
    const a = caches.get()
    expect(caches.get('default')).toBe(a)
    expect(caches.get()).toBe(a)
    const b = caches.get('other')
    expect(b).not.toBe(a)
    expect(caches.get('other')).toBe(b)
    expect(a.keyPrefix).toBe(prefixA)
    expect(b.keyPrefix).toBe(prefixB)
    expect(b.version).toBe(3)
    expect(b.defaultTimeout).toBe(60)

    await a.set('k', 'from a')
    await b.set('k', 'from b')
    expect(await a.get('k')).toBe('from a')
    expect(await b.get('k')).toBe('from b')
    const ttl = await b.ttl('k')
    expect(ttl).toBeGreaterThan(58)
    expect(ttl).toBeLessThanOrEqual(60)
    // scanItersize from the globals: keys() still finds everything across small batches.
    await a.setMany({ x1: 1, x2: 2, x3: 3, x4: 4, x5: 5 })
    expect((await a.keys('x*')).sort()).toEqual(['x1', 'x2', 'x3', 'x4', 'x5'])
  })

  it('an unknown alias throws, naming the configured ones', () => {
    expect(() => caches.get('nope')).toThrow(InvalidArgumentError)
    expect(() => caches.get('nope')).toThrow(/'nope' is not configured.*default, other/)
  })

  it('getRedisConnection resolves a working node-redis client', async () => {
    const client = (await getRedisConnection()) as NodeRedis
    expect(await client.sendCommand(['PING'])).toBe('PONG')
    expect(await client.get(caches.get().makeKey('k'))).toBe('"from a"')
    const other = (await getRedisConnection('other', { write: false })) as NodeRedis
    expect(await other.get(caches.get('other').makeKey('k'))).toBe('"from b"')
  })

  it('getRedisConnection of an unknown alias rejects', async () => {
    await expect(getRedisConnection('nope')).rejects.toBeInstanceOf(InvalidArgumentError)
  })

  it('configureCaches while caches are in use throws', () => {
    expect(() => configureCaches({ default: { location: server.url } })).toThrow(
      /call caches.close\(\) first/,
    )
    // The old configuration is still in force.
    expect(caches.get().keyPrefix).toBe(prefixA)
  })

  it('caches.close() closes every cache; then a new configuration works', async () => {
    const before = caches.get()
    await caches.close()
    await expect(before.get('k')).rejects.toBeInstanceOf(ClosedError)

    const deadPort = await freePort()
    const prefixC = uniquePrefix('reg-c')
    configureCaches(
      {
        default: { location: server.url, keyPrefix: prefixC, ignoreExceptions: false },
        flaky: { location: `redis://127.0.0.1:${deadPort}`, socketConnectTimeout: 0.3 },
      },
      { ignoreExceptions: true },
    )
    const after = caches.get()
    expect(after).not.toBe(before)
    expect(after.keyPrefix).toBe(prefixC)
    expect(await after.get('k')).toBeNull()
    await after.set('k', 'new')
    expect(await after.get('k')).toBe('new')
    // The global ignoreExceptions applies where the alias does not set it.
    expect(await caches.get('flaky').get('k', 'fallback')).toBe('fallback')
    const client = (await getRedisConnection()) as NodeRedis
    expect(await client.get(after.makeKey('k'))).toBe('"new"')
    // Keys written under the first configuration are still there.
    expect(await client.get(`${prefixA}:1:k`)).toBe('"from a"')
  })
})
