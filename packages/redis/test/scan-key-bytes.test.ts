// Keys whose names are not UTF-8, written by another client: a scan must not turn them into the
// name of another key. Decoded, the byte 0xff reads as U+FFFD, which is the name of a real key
// here: deletePattern and clear once deleted that key and left the one they matched.
import { type Cache, createCache } from '@cachex/redis'
import { standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let server: { url: string; stop(): Promise<void> }
const opened: Cache[] = []

beforeAll(async () => {
  server = await standaloneServer()
})

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()))
  await server?.stop()
})

describe.each([
  ['redis', () => server.url],
  ['memory://', () => `memory://${uniquePrefix('scanbytes')}`],
])('keys that are not UTF-8 (%s)', (_name, location) => {
  /** A cache, the Redis key of `u:` + 0xff in it, and the key `u:` + U+FFFD that it decodes to. */
  async function setUp(): Promise<{ cache: Cache; bad: Buffer; lookalike: string }> {
    const cache = createCache({ location: location(), keyPrefix: uniquePrefix('bytes') })
    opened.push(cache)
    const prefix = cache.makeKey('u:')
    const bad = Buffer.concat([Buffer.from(prefix), Buffer.from([0xff])])
    const lookalike = `${prefix}\ufffd`
    await cache.connection.command(['SET', bad, '1'], { key: bad })
    await cache.connection.command(['SET', lookalike, '2'], { key: lookalike })
    return { cache, bad, lookalike }
  }

  async function exists(cache: Cache, key: Buffer | string): Promise<unknown> {
    return cache.connection.command(['EXISTS', key], { key })
  }

  it('deletePattern deletes the key it matched, not the key its name decodes to', async () => {
    const { cache, bad, lookalike } = await setUp()
    // `u:?` matches one byte: the 0xff key, not U+FFFD (three bytes in UTF-8).
    expect(await cache.deletePattern('u:?')).toBe(1)
    expect(await exists(cache, bad)).toBe(0)
    expect(await exists(cache, lookalike)).toBe(1)
    expect(await cache.get('u:\ufffd')).toBe(2)
  })

  it('clear deletes both', async () => {
    const { cache, bad, lookalike } = await setUp()
    await cache.clear()
    expect(await exists(cache, bad)).toBe(0)
    expect(await exists(cache, lookalike)).toBe(0)
  })

  it('keys and iterKeys leave out a name no string can name', async () => {
    const { cache } = await setUp()
    expect(await cache.keys('u:*')).toEqual(['u:\ufffd'])
    const walked: string[] = []
    for await (const key of cache.iterKeys('u:*')) walked.push(key)
    expect(walked).toEqual(['u:\ufffd'])
  })

  it('the connection yields the exact bytes of such a key', async () => {
    const { cache, bad, lookalike } = await setUp()
    const seen: Array<string | Buffer> = []
    for await (const batch of cache.connection.scan(cache.makePattern('u:*'), 100)) {
      seen.push(...batch)
    }
    expect(seen.filter((k) => typeof k === 'string')).toEqual([lookalike])
    const bytes = seen.filter((k): k is Buffer => Buffer.isBuffer(k))
    expect(bytes.map((b) => b.equals(bad))).toEqual([true])
  })
})
