// cachex keeps its own keys under `__cachex:` (locks' fencing counters, getOrSet's stampede
// keys), outside every cache's keyspace: docs/packages/lock.md promises that clear() and
// deletePattern() of a prefixed cache keep the fencing counter. A keyPrefix of `__cachex` or
// `__cachex:…` would put the cache's clear() (`<prefix>:*`) over them, so it is refused.
import { Cache } from '@cachex/core'
import { type RedisServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { caches, configureCaches, createCache, InvalidArgumentError, memory } from '../src/index.ts'

let server: RedisServer

beforeAll(async () => {
  server = await startRedis()
}, 60_000)

afterAll(async () => {
  await server?.stop()
})

afterEach(async () => {
  await caches.close()
})

/** The error `run` throws (synchronously), or a failure when it throws none. */
function thrown(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error('expected an error, none was thrown')
}

const RESERVED = ['__cachex', '__cachex:', '__cachex:fence', '__cachex:lock:app', '__cachex:app']

/** Checks `error` is the refusal of `prefix`, naming the option, the keyspace and what to do. */
function expectRefused(error: unknown, prefix: string): void {
  expect(error, prefix).toBeInstanceOf(InvalidArgumentError)
  const message = (error as Error).message
  expect(message).toMatch(/^keyPrefix /)
  expect(message).toContain(`'${prefix}'`)
  expect(message).toContain('__cachex:')
  expect(message).toMatch(/fencing counters/)
  expect(message).toMatch(/another prefix/)
}

describe('a keyPrefix in cachex’s own __cachex: keyspace', () => {
  it('is refused by createCache() with InvalidArgumentError', () => {
    for (const keyPrefix of RESERVED) {
      expectRefused(
        thrown(() => createCache({ location: server.url, keyPrefix })),
        keyPrefix,
      )
    }
  })

  it('is refused on memory:// and with a client handed in, which stays untouched', () => {
    expectRefused(
      thrown(() => createCache({ location: 'memory://', keyPrefix: '__cachex' })),
      '__cachex',
    )
    const client = createClient({ url: server.url })
    expectRefused(
      thrown(() => createCache({ location: client, keyPrefix: '__cachex:fence' })),
      '__cachex:fence',
    )
    expect(client.isOpen).toBe(false)
  })

  it('is refused by a Cache built directly', () => {
    const connection = memory({ location: 'memory://' })
    for (const keyPrefix of RESERVED) {
      expectRefused(
        thrown(() => new Cache({ connection, keyPrefix })),
        keyPrefix,
      )
    }
  })

  it('is refused whatever the keyFunction (which builds on the prefix)', () => {
    const connection = memory({ location: 'memory://' })
    const keyFunction = (key: string, prefix: string, version: number) =>
      `${prefix}:${key}:${version}`
    expectRefused(
      thrown(() => new Cache({ connection, keyPrefix: '__cachex', keyFunction })),
      '__cachex',
    )
  })

  it('is refused by configureCaches(), naming the alias, before the alias is configured', () => {
    const error = thrown(() =>
      configureCaches({ jobs: { location: server.url, keyPrefix: '__cachex:jobs' } }),
    )
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect((error as Error).message).toMatch(/^configureCaches\(\): the alias 'jobs': keyPrefix /)
    expectRefused((error as Error).cause, '__cachex:jobs')
    expect(caches.aliases()).not.toContain('jobs')
  })

  it('a keyPrefix that is no string is refused, so that none becomes __cachex past the check', () => {
    // biome-ignore lint/suspicious/noExplicitAny: what the types refuse, given anyway
    for (const keyPrefix of [new String('__cachex'), ['x'], 5, {}] as any[]) {
      const error = thrown(() => createCache({ location: 'memory://', keyPrefix }))
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect((error as Error).message).toMatch(/^keyPrefix must be a string, got /)
    }
    // null and undefined: no prefix, as before.
    for (const keyPrefix of [null, undefined] as unknown as string[]) {
      expect(createCache({ location: 'memory://', keyPrefix }).makeKey('k')).toBe(':1:k')
    }
  })

  it('prefixes that only look alike are taken', async () => {
    for (const keyPrefix of ['__cachexx', '__cachex_app', '_cachex', '__CACHEX', 'app:__cachex']) {
      const cache = createCache({ location: server.url, keyPrefix })
      try {
        expect(cache.keyPrefix).toBe(keyPrefix)
        await cache.set('k', 1)
        expect(await cache.get('k')).toBe(1)
      } finally {
        await cache.close()
      }
    }
  })
})

describe('the fencing counter outlives the other caches’ deletions', () => {
  // Every way a cache deletes its keys by pattern, with a prefix next to `__cachex` and without one.
  const wipes: Array<[string, string, (cache: Cache) => Promise<unknown>]> = [
    ['clear()', '__cachexx', (cache) => cache.clear()],
    ['clearAllVersions()', '__cachexx', (cache) => cache.clearAllVersions()],
    ['deletePattern(*)', '__cachexx', (cache) => cache.deletePattern('*')],
    ['clearAllVersions()', '', (cache) => cache.clearAllVersions()],
    ['deletePattern(*)', '', (cache) => cache.deletePattern('*')],
  ]
  for (const [what, prefix, wipe] of wipes) {
    it(`${what} of a cache with keyPrefix '${prefix}' keeps fencing tokens increasing`, async () => {
      const locks = createCache({ location: server.url, keyPrefix: 'app' })
      const other = createCache({ location: server.url, keyPrefix: prefix })
      try {
        const name = uniquePrefix('job')
        const a = locks.lock(name, { timeout: 10 })
        expect(await a.acquire()).toBe(true)
        const first = a.fencingToken as number
        await a.release()
        await wipe(other)
        const b = locks.lock(name, { timeout: 10 })
        expect(await b.acquire()).toBe(true)
        const second = b.fencingToken as number
        await b.release()
        expect(second).toBeGreaterThan(first)
      } finally {
        await other.close()
        await locks.close()
      }
    })
  }
})
