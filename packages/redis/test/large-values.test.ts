// Large values (issue 14): a 10 MB value round-trips byte for byte with and without compression,
// and a bulk string that reaches node-redis in many TCP chunks decodes to the same text whether it
// is pure ASCII (where a latin1 read of the bytes is the same text: the fast path of core's
// _utf8.ts) or not (multi-byte characters, some of which straddle the chunk boundaries).
import { type Cache, type CompressorName, createCache } from '@cachex/redis'
import { standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { createClient, RESP_TYPES } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const MB = 1024 * 1024

let server: { url: string; stop(): Promise<void> }
const opened: Cache[] = []

function make(compressor?: CompressorName): Cache {
  const cache = createCache({
    location: server.url,
    keyPrefix: uniquePrefix('large'),
    ...(compressor === undefined ? {} : { compressor }),
  })
  opened.push(cache)
  return cache
}

beforeAll(async () => {
  server = await standaloneServer()
})

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()))
  await server?.stop()
})

/** What Redis holds at the cache's `key`, read through the cache's own client as bytes. */
async function stored(cache: Cache, key: string): Promise<Buffer> {
  const raw = (await cache.connection.client()) as {
    sendCommand(args: string[], options: object): Promise<unknown>
  }
  return (await raw.sendCommand(['GET', cache.makeKey(key)], {
    typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer },
  })) as Buffer
}

/** About `bytes` bytes of ASCII text that no compressor shrinks to nothing. */
function asciiText(bytes: number): string {
  let out = ''
  for (let i = 0; out.length < bytes; i++) out += `row ${i} ${(i * 7919) % 104729};`
  return out.slice(0, bytes)
}

/** About `bytes` bytes of UTF-8 with 2-, 3- and 4-byte characters spread through it. */
function mixedText(bytes: number): string {
  let out = ''
  while (Buffer.byteLength(out) < bytes) out += `${asciiText(997)}é€𝄞`
  return out
}

describe('a 10 MB value', () => {
  const value = {
    ascii: asciiText(6 * MB),
    mixed: mixedText(4 * MB),
  }
  const json = JSON.stringify(value)

  for (const compressor of [undefined, 'zlib', 'lz4'] as const) {
    it(`round-trips intact (${compressor ?? 'no compressor'})`, async () => {
      const cache = make(compressor)
      await cache.set('big', value)
      const got = (await cache.get('big')) as typeof value
      expect(got.ascii.length).toBe(value.ascii.length)
      expect(Buffer.from(JSON.stringify(got)).equals(Buffer.from(json))).toBe(true)
      // What Redis holds is the JSON (compressed or not): read back through a raw client as bytes.
      const bytes = await stored(cache, 'big')
      if (compressor === undefined) expect(bytes.equals(Buffer.from(json))).toBe(true)
      else expect(bytes.length).toBeLessThan(Buffer.byteLength(json))
    })
  }
})

describe('a bulk string in many TCP chunks, read as text by node-redis', () => {
  const cases: [string, string][] = [
    ['pure ASCII', asciiText(3 * MB)],
    ['multi-byte characters throughout', mixedText(3 * MB)],
    ['ASCII but for its last character', `${asciiText(3 * MB)}é`],
    ['ASCII but for its first character', `€${asciiText(3 * MB)}`],
    ['short ASCII (under the fast path)', 'x'.repeat(1000)],
    ['short non-ASCII', 'é'.repeat(600)],
  ]
  for (const [name, text] of cases) {
    it(`decodes ${name} as Buffer#toString does`, async () => {
      const client = createClient({ url: server.url })
      client.on('error', () => {})
      await client.connect()
      try {
        const key = `${uniquePrefix('large')}:text`
        await client.set(key, text)
        const [asText, asBytes] = await Promise.all([
          client.get(key),
          client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).get(key),
        ])
        expect((asBytes as unknown as Buffer).equals(Buffer.from(text))).toBe(true)
        expect(asText === text).toBe(true)
        expect(asText === (asBytes as unknown as Buffer).toString('utf8')).toBe(true)
        await client.del(key)
      } finally {
        client.destroy()
      }
    })
  }
})

describe('a large value of text is sent as its UTF-8 bytes', () => {
  const value = { mixed: mixedText(200 * 1024), n: 2 ** 52 }
  const json = JSON.stringify(value)

  it('by set with an expiry, add, set with xx and setMany, byte for byte as JSON.stringify writes it', async () => {
    const cache = make()
    expect(await cache.set('ttl', value, 60)).toBe(true)
    expect(await cache.add('nx', value)).toBe(true)
    expect(await cache.add('nx', { other: true })).toBe(false)
    expect(await cache.set('xx', value, { xx: true })).toBe(false)
    await cache.set('xx', 1)
    expect(await cache.set('xx', value, { xx: true })).toBe(true)
    await cache.setMany({ many: value, small: 1 })
    await cache.setMany({ 'many-ttl': value, 'small-ttl': 1 }, 60)
    expect(await cache.getMany(['small', 'small-ttl'])).toEqual(
      new Map([
        ['small', 1],
        ['small-ttl', 1],
      ]),
    )
    for (const key of ['ttl', 'nx', 'xx', 'many', 'many-ttl']) {
      expect((await stored(cache, key)).equals(Buffer.from(json))).toBe(true)
      expect(await cache.get(key)).toEqual(value)
    }
    const ttl = await cache.ttl('ttl')
    expect(ttl).toBeGreaterThan(50)
    expect(ttl).toBeLessThanOrEqual(60)
  })

  it('and reads back the same through memory://', async () => {
    const cache = createCache({ location: 'memory://', keyPrefix: uniquePrefix('large') })
    opened.push(cache)
    expect(await cache.set('ttl', value, 60)).toBe(true)
    expect(await cache.add('nx', value)).toBe(true)
    expect(await cache.get('ttl')).toEqual(value)
    expect(await cache.get('nx')).toEqual(value)
  })
})
