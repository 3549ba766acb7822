// A key deleted from its page (with the revision the page read) goes with UNLINK, inside the
// compare-and-delete script: a big hash, set or zset is freed in the background, not while Redis
// holds every other client (DEL of a 1M-field hash held it 535 ms). Redis counts each object it
// freed so in INFO's lazyfreed_objects (a count, not a time: nothing here depends on speed).
import { type Cache, createCache } from '@cachex/redis'
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type AdminServer, Client, closeAll, keyPath, startAdmin, TOKEN } from './helpers.ts'

let server: RedisServer
let cache: Cache
let admin: AdminServer

beforeAll(async () => {
  server = await startRedis()
  cache = createCache({ location: server.url, keyPrefix: 'unlink' })
  admin = await startAdmin({ caches: { c: cache }, auth: { token: TOKEN }, audit: () => undefined })
})
afterAll(async () => {
  await admin?.close()
  await closeAll(cache)
  await server?.stop()
})

const lazyfreed = async (): Promise<number> => {
  const info = String(await cache.connection.command(['INFO', 'memory'], { text: true }))
  return Number(/lazyfreed_objects:(\d+)/.exec(info)?.[1])
}

it('a big hash deleted from its page, with its revision, is freed in the background', async () => {
  const rkey = cache.makeKey('big')
  const fields: string[] = []
  for (let i = 0; i < 5000; i++) fields.push(`f${i}`, 'v')
  await cache.connection.command(['HSET', rkey, ...fields], { key: rkey })
  const before = await lazyfreed()
  expect(Number.isFinite(before)).toBe(true)
  const client = new Client(admin.url, TOKEN)
  const page = await client.get(keyPath('c', 'big'))
  const deleted = await client.request(
    'DELETE',
    keyPath('c', 'big', { revision: page.json.revision }),
  )
  expect(deleted.status).toBe(200)
  expect(await cache.connection.command(['EXISTS', rkey], { key: rkey })).toBe(0)
  // The background free is counted once it is done.
  await expect.poll(lazyfreed, { timeout: 30_000 }).toBe(before + 1)
})
