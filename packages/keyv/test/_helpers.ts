// What the Keyv bridge's test files share: a redis-server per file, caches of their own on it.
import { type Cache, type CreateCacheOptions, createCache } from '@cachex/redis'
import { type RedisServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import type { Keyv } from 'keyv'
import { afterAll, beforeAll } from 'vitest'

/** The test file's server, and caches on it that close with it. */
export interface TestCaches {
  /** The server, started before the file's tests. */
  readonly server: RedisServer
  /** A cache of its own (a unique key prefix) on the server. */
  newCache(options?: CreateCacheOptions<false>): Cache
  /** `cache`, closed at the end of the file with the others. */
  track(cache: Cache): Cache
}

/** Starts a redis-server before the calling file's tests and stops it (and its caches) after. */
export function testCaches(): TestCaches {
  let server: RedisServer | undefined
  const opened: Cache[] = []
  beforeAll(async () => {
    server = await startRedis()
  })
  afterAll(async () => {
    for (const cache of opened) await cache.close().catch(() => {})
    await server?.stop()
  })
  const track = (cache: Cache): Cache => {
    opened.push(cache)
    return cache
  }
  const started = (): RedisServer => {
    if (server === undefined) throw new Error('the test server starts in beforeAll')
    return server
  }
  return {
    get server(): RedisServer {
      return started()
    },
    newCache: (options = {}) =>
      track(createCache({ location: started().url, keyPrefix: uniquePrefix('keyv'), ...options })),
    track,
  }
}

/** Every `[key, value]` pair Keyv's `iterator()` yields. */
export async function iterate(keyv: Keyv): Promise<Array<[string, unknown]>> {
  if (keyv.iterator === undefined) throw new Error('Keyv offers no iterator() for this store')
  const items: Array<[string, unknown]> = []
  for await (const item of keyv.iterator(undefined)) items.push(item as [string, unknown])
  return items
}
