// `getOrSet(key, value)` of a plain value is one `SET … NX GET`: a Redis that refuses writes
// (`maxmemory` with `noeviction`, `min-replicas-to-write` without replicas) refused the whole
// command, its read included, so a stored key rejected — or, under `ignoreExceptions`, answered
// the default while Redis held another value. A refused write runs nothing: the key is read. An
// ACL user who may read but not write is refused (`NOPERM`) before anything runs, the same way.
import { type Cache, createCache, ResponseError } from '@cachex/redis'
import { type RedisServer, redisCall, startRedis, uniquePrefix } from '@cachex/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

let server: RedisServer
const caches: Cache[] = []

beforeAll(async () => {
  server = await startRedis()
})

afterEach(async () => {
  await redisCall(server.url, ['CONFIG', 'SET', 'maxmemory', '0'])
  await redisCall(server.url, ['CONFIG', 'SET', 'min-replicas-to-write', '0'])
})

afterAll(async () => {
  await Promise.all(caches.map((cache) => cache.close()))
  await server?.stop()
})

function open(options: { ignoreExceptions?: boolean; local?: object } = {}): Cache {
  const cache = createCache({
    location: server.url,
    keyPrefix: uniquePrefix('refused'),
    ...options,
  })
  caches.push(cache)
  return cache
}

const REFUSALS = [
  ['OOM', ['CONFIG', 'SET', 'maxmemory', '1'], /^OOM /],
  ['NOREPLICAS', ['CONFIG', 'SET', 'min-replicas-to-write', '1'], /^NOREPLICAS /],
] as const

describe.each(REFUSALS)('getOrSet of a plain value while Redis answers %s', (_, refuse, reply) => {
  it.each([
    ['a cache', {}],
    ['a cache ignoring exceptions', { ignoreExceptions: true }],
    ['a cache with a local tier', { local: { maxEntries: 100 } }],
  ])('%s answers the stored value of a key', async (_, options) => {
    const cache = open(options)
    await cache.set('k', 'stored')
    await redisCall(server.url, [...refuse])
    expect(await cache.getOrSet('k', 'default')).toBe('stored')
    expect(await cache.getOrSet('k', 'default', 60)).toBe('stored')
  })

  it('a missing key still gets the refusal, or the value under ignoreExceptions', async () => {
    const cache = open()
    const quiet = open({ ignoreExceptions: true })
    await redisCall(server.url, [...refuse])
    const error = await cache.getOrSet('missing', 'default').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ResponseError)
    expect((error as Error).message).toMatch(reply)
    expect(await quiet.getOrSet('missing', 'default')).toBe('default')
    expect(await cache.hasKey('missing')).toBe(false)
  })
})

describe('getOrSet of a plain value for an ACL user who may read but not write (NOPERM)', () => {
  function reader(options: { ignoreExceptions?: boolean; local?: object }, prefix: string): Cache {
    const url = server.url.replace('redis://', 'redis://reader:reader-pw@')
    const cache = createCache({ location: url, keyPrefix: prefix, ...options })
    caches.push(cache)
    return cache
  }

  beforeAll(async () => {
    await redisCall(server.url, [
      ...['ACL', 'SETUSER', 'reader', 'on', '>reader-pw', '~*', '&*', '+@read', '+@connection'],
      ...['+info', '+client', '+ping'],
    ])
  })

  it.each([
    ['a cache', {}],
    ['a cache ignoring exceptions', { ignoreExceptions: true }],
    ['a cache with a local tier', { local: { maxEntries: 100 } }],
  ])('%s answers the stored value of a key', async (_, options) => {
    const prefix = uniquePrefix('reader')
    const writer = createCache({ location: server.url, keyPrefix: prefix })
    caches.push(writer)
    await writer.set('k', 'stored')
    const cache = reader(options, prefix)
    expect(await cache.getOrSet('k', 'default')).toBe('stored')
    expect(await cache.getOrSet('k', 'default', 60)).toBe('stored')
  })

  it('a missing key still gets the refusal, or the value under ignoreExceptions', async () => {
    const prefix = uniquePrefix('reader')
    const cache = reader({}, prefix)
    const error = await cache.getOrSet('missing', 'default').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ResponseError)
    expect((error as Error).message).toMatch(/^NOPERM /)
    expect(await reader({ ignoreExceptions: true }, prefix).getOrSet('missing', 'v')).toBe('v')
    expect(await cache.hasKey('missing')).toBe(false)
  })
})
