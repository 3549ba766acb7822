// The caches page names the server the cache reaches now: its address is asked each time, so a
// first look while the server was down (null) is not kept once it is back, nor, after a Sentinel
// failover, the old primary's (the address used to be asked once and kept for good).
import { type Cache, createCache } from '@cachex/redis'
import { type RedisServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type AdminServer, Client, startAdmin, TOKEN } from './helpers.ts'

let redis: RedisServer
let cache: Cache
let admin: AdminServer

beforeAll(async () => {
  redis = await startRedis()
  cache = createCache({ location: redis.url, keyPrefix: uniquePrefix('addr') })
  admin = await startAdmin({ caches: { default: cache }, auth: { token: TOKEN }, audit: () => {} })
})

afterAll(async () => {
  await admin?.close()
  await cache?.close()
  await redis?.stop()
})

it('the caches page names the server once it is reachable again (first look while it was down)', async () => {
  await redis.kill()
  const client = new Client(admin.url, TOKEN)
  const down = await client.get('api/caches')
  expect(down.status).toBe(200)
  expect(down.json.caches[0].address).toBeNull()
  await redis.start()
  for (let i = 0; i < 50; i++) {
    try {
      await cache.set('x', 1)
      break
    } catch {
      await new Promise((r) => setTimeout(r, 200))
    }
  }
  const up = await client.get('api/caches')
  expect(up.json.caches[0].address).toBe(`127.0.0.1:${redis.port}/0`)
})
