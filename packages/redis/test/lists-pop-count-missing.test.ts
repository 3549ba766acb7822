// `lpop` / `rpop` with a count on a missing key (or an emptied one) resolve `[]`, as
// django-cachex's Redis backend returns (`list(vals) if vals else []`), not Redis's nil: a caller
// that asked for a count gets an array, whatever the key holds. Without a count: `null`.
import { type Cache, createCache } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer } from './helpers.ts'

describe.each(BACKENDS)('%s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    cache = createCache({ location: server.url, keyPrefix: uniquePrefix('popcount') })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  beforeEach(async () => {
    await cache.clear()
  })

  it('a count on a missing key resolves [] (lpop and rpop)', async () => {
    expect(await cache.lpop('missing', 2)).toEqual([])
    expect(await cache.rpop('missing', 2)).toEqual([])
    expect(await cache.lpop('missing', 1)).toEqual([])
  })

  it('a count on a list just emptied resolves []; without a count, null', async () => {
    await cache.rpush('l', 'a')
    expect(await cache.rpop('l', 5)).toEqual(['a'])
    expect(await cache.lpop('l', 2)).toEqual([])
    expect(await cache.lpop('l')).toBeNull()
    expect(await cache.rpop('l')).toBeNull()
  })

  it('a count of 0 resolves [] and leaves the list', async () => {
    await cache.rpush('l', 'a', 'b')
    expect(await cache.lpop('l', 0)).toEqual([])
    expect(await cache.rpop('missing', 0)).toEqual([])
    expect(await cache.lrange('l', 0, -1)).toEqual(['a', 'b'])
  })

  it('in a pipeline too', async () => {
    const replies = await cache
      .pipeline()
      .lpop('missing', 3)
      .rpop('missing', 3)
      .rpop('missing')
      .exec()
    expect(replies).toEqual([[], [], null])
  })
})
