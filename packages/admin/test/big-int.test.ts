// A pickle int of millions of digits (LONG4 of 16 MB, about 16 KB zlib'd: within maxValueSize)
// reads in milliseconds, but its decimal digits take a time that grows with their square (42 s,
// the process frozen). Its key page shows how many digits it has, and its first hex digits, as
// Python refuses str() of an int past 4,300 digits; it offers no editor (JSON would lose it).
import { zlibCompressor } from '@cachex/compressors'
import { type Cache, createCache } from '@cachex/redis'
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type AdminServer, Client, closeAll, keyPath, startAdmin, TOKEN } from './helpers.ts'

let server: RedisServer
let cache: Cache
let admin: AdminServer
beforeAll(async () => {
  server = await startRedis()
  cache = createCache({
    location: server.url,
    keyPrefix: 'bi',
    serializer: 'pickle',
    compressor: 'zlib',
  })
  admin = await startAdmin({
    caches: { bi: cache },
    auth: { token: TOKEN },
    audit: () => undefined,
  })
})
afterAll(async () => {
  await admin?.close()
  await closeAll(cache)
  await server?.stop()
})

/** A pickle (protocol 2) of one int of `bytes` bytes, each 0x5a (LONG4, little-endian). */
function longPickle(bytes: number, negative = false): Buffer {
  const head = Buffer.alloc(5)
  head[0] = 0x8b
  head.writeUInt32LE(bytes, 1)
  const body = Buffer.alloc(bytes, 0x5a)
  // Two's complement: a last (most significant) byte of 0xa5 makes it negative.
  if (negative) body[bytes - 1] = 0xa5
  return Buffer.concat([Buffer.from([0x80, 0x02]), head, body, Buffer.from('.')])
}

it('the key page of a 16 MB pickle int says how many digits it has, without writing them', async () => {
  const stored = zlibCompressor().compress(longPickle(16 * 1024 * 1024)) as Buffer
  await cache.connection.command(['SET', cache.makeKey('big'), stored])
  const page = await new Client(admin.url, TOKEN).get(keyPath('bi', 'big'))
  expect(page.status).toBe(200)
  const tree = page.json.string.tree
  expect(tree.type).toBe('int')
  // Of 134,217,727 bits: 40,403,562 digits (estimated from the bits, so "about").
  expect(tree.value).toMatch(/^an int of about 40,403,56\d digits \(0x5a5a5a5a5a5a5a5a/)
  expect(tree.value.length).toBeLessThan(200)
  // JSON has no such number: no editor is offered.
  expect(page.json.string.json).toBeUndefined()
}, 120_000)

it('an int of up to 4,300 digits is shown whole, and a longer one is not', async () => {
  const digits = '9'.repeat(4300)
  await cache.set('edge', BigInt(digits))
  const edge = await new Client(admin.url, TOKEN).get(keyPath('bi', 'edge'))
  expect(edge.json.string.tree).toEqual({ type: 'int', value: digits })
  // -0x5aa5a5a5…, of 4,335 digits (which the cache would not store itself).
  await cache.connection.command(['SET', cache.makeKey('past'), longPickle(1800, true)])
  const past = await new Client(admin.url, TOKEN).get(keyPath('bi', 'past'))
  expect(past.json.string.tree.value).toMatch(/^an int of about 4,335 digits \(-0x5aa5a5a5/)
})
