// Keys whose names are long: the key routes carry the name in their URL, and Node refuses a
// request whose head passes 16 KiB (431) before the handler runs. The list links a key only when
// its name, percent-encoded, fits in MAX_KEY_URL_CHARS; such a key opens and deletes.
import { type Cache, createCache } from '@cachex/redis'
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { keyUrlChars, MAX_KEY_URL_CHARS } from '../src/_key-url.ts'
import { type AdminServer, Client, closeAll, keyPath, startAdmin, TOKEN } from './helpers.ts'

let server: RedisServer
let cache: Cache
let admin: AdminServer

beforeAll(async () => {
  server = await startRedis()
  cache = createCache({ location: server.url, keyPrefix: 'u' })
  admin = await startAdmin({ caches: { default: cache }, auth: { token: TOKEN } })
})
afterAll(async () => {
  await admin?.close()
  await closeAll(cache)
  await server?.stop()
})

describe('a key whose name is too long for a URL', () => {
  it(`opens up to ${MAX_KEY_URL_CHARS} characters percent-encoded, ASCII or not`, async () => {
    const client = new Client(admin.url, TOKEN)
    const ascii = `long-${'n'.repeat(MAX_KEY_URL_CHARS - 5)}`
    const cjk = `長:${'鍵'.repeat(Math.floor((MAX_KEY_URL_CHARS - 12) / 9))}`
    for (const name of [ascii, cjk]) {
      expect(keyUrlChars(name)).toBe(encodeURIComponent(name).length)
      expect(keyUrlChars(name)).toBeGreaterThan(MAX_KEY_URL_CHARS - 12)
      expect(keyUrlChars(name)).toBeLessThanOrEqual(MAX_KEY_URL_CHARS)
      await cache.set(name, 'v', { timeout: null })
      const page = await client.get(keyPath('default', name, { version: '1' }))
      expect(page.status, page.text.slice(0, 200)).toBe(200)
      const deleted = await client.request('DELETE', keyPath('default', name, { version: '1' }))
      expect(deleted.status, deleted.text.slice(0, 200)).toBe(200)
      expect(await cache.hasKey(name)).toBe(false)
    }
    // The probe's name: listed whole, but over the bound (the UI shows it without a link).
    expect(keyUrlChars(`long:${'n'.repeat(20_000)}`)).toBeGreaterThan(MAX_KEY_URL_CHARS)
    expect(keyUrlChars('鍵'.repeat(1000))).toBe(9000)
    expect(keyUrlChars('a b/😀')).toBe(encodeURIComponent('a b/😀').length)
  })
})
