// django-cachex's per-key versions on the family calls of two keys or more: `versionSrc` /
// `versionDst` on smove, lmove and blmove (as on rename), `versionDest` / `versionKeys` on the
// set stores.
import { type Cache, createCache, InvalidArgumentError } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer } from './helpers.ts'

describe.each(BACKENDS)('%s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    cache = createCache({ location: server.url, keyPrefix: uniquePrefix('versions') })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  it('smove from one version to another', async () => {
    await cache.sadd('s', 'a', 'b') // version 1
    expect(await cache.smove('s', 's', 'a', { versionSrc: 1, versionDst: 2 })).toBe(true)
    expect(await cache.smembers('s')).toEqual(['b'])
    expect(await cache.smembers('s', { version: 2 })).toEqual(['a'])
    // `version` for both, one of them overridden
    expect(await cache.smove('s', 's', 'a', { version: 2, versionDst: 3 })).toBe(true)
    expect(await cache.smembers('s', { version: 3 })).toEqual(['a'])
  })

  it('lmove and blmove from one version to another', async () => {
    await cache.rpush('q', 'j1', 'j2')
    expect(await cache.lmove('q', 'q', 'LEFT', 'RIGHT', { versionDst: 2 })).toBe('j1')
    expect(await cache.blmove('q', 'done', 1, 'LEFT', 'RIGHT', { versionDst: 5 })).toBe('j2')
    expect(await cache.lrange('q', 0, -1, { version: 2 })).toEqual(['j1'])
    expect(await cache.lrange('done', 0, -1, { version: 5 })).toEqual(['j2'])
    expect(await cache.lmove('q', 'q', 'LEFT', 'LEFT', { versionSrc: 2 })).toBe('j1')
    expect(await cache.lrange('q', 0, -1)).toEqual(['j1'])
  })

  it('sdiffstore / sinterstore / sunionstore: the destination and the sources each at a version', async () => {
    await cache.sadd('a', 1, 2, 3)
    await cache.sadd('b', 2)
    expect(await cache.sdiffstore('d', 'a', 'b', { versionDest: 7 })).toBe(2)
    expect((await cache.smembers('d', { version: 7 })).sort()).toEqual([1, 3])
    expect(await cache.sinterstore('i', 'd', 'a', { versionKeys: 7 })).toBe(0) // a@7 is empty
    expect(await cache.sunionstore('u', 'd', { versionKeys: 7, versionDest: 8 })).toBe(2)
    expect((await cache.smembers('u', { version: 8 })).sort()).toEqual([1, 3])
    expect(await cache.sunionstore('u2', 'a', 'b', { version: 1 })).toBe(3)
  })

  it('refuses an option the call does not take', async () => {
    await expect(cache.smove('s', 't', 'a', { versionDest: 2 } as never)).rejects.toThrow(
      InvalidArgumentError,
    )
    await expect(cache.sdiffstore('d', 'a', { versionSrc: 2 } as never)).rejects.toThrow(
      /sdiffstore\(\) does not take the option 'versionSrc'/,
    )
    await expect(cache.lmove('q', 'q', 'LEFT', 'RIGHT', { versionDst: 1.5 })).rejects.toThrow(
      InvalidArgumentError,
    )
  })
})
