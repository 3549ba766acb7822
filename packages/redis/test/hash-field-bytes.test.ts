// Hash fields and stream entry fields that another client wrote as bytes that are not UTF-8: as
// text, each bad byte would read as U+FFFD, so `66 FF` and `66 FE` would get one name (one field
// lost from hgetall's object) that is neither's. Reads that hand field names out refuse them with
// a SerializationError naming the method and key; valid names, U+FFFD included, read as before.
import { type Cache, createCache, SerializationError } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS, type Backend, backendServer, isMemory } from './helpers.ts'

interface BytesClient {
  sendCommand(args: Array<string | Buffer>): Promise<unknown>
}

/** Runs a command with byte arguments as another client would (on `memory://`, the connection). */
async function rawBytes(cache: Cache, ...args: Array<string | Buffer>): Promise<unknown> {
  if (isMemory(cache)) return cache.connection.command(args, { key: String(args[1]) })
  const client = (await cache.connection.client()) as BytesClient
  return client.sendCommand(args)
}

const F_FF = Buffer.from([0x66, 0xff])
const F_FE = Buffer.from([0x66, 0xfe])
/** `f` + U+FFFD: valid UTF-8, the name the two above would both read as. */
const F_REPLACEMENT = Buffer.from([0x66, 0xef, 0xbf, 0xbd])

async function refusal(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(SerializationError)
  return error as Error
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

describe.each(BACKENDS)('%s: field names that are not UTF-8', (backend: Backend) => {
  let server: { url: string; stop(): Promise<void> }
  const caches: Cache[] = []

  beforeAll(async () => {
    server = await backendServer(backend)
  })

  afterAll(async () => {
    for (const cache of caches) await cache.close()
    await server?.stop()
  })

  // json: replies as text (the names are asked again as bytes); msgpack: replies as bytes.
  describe.each(['json', 'msgpack'] as const)('%s cache', (serializer) => {
    let cache: Cache

    beforeAll(() => {
      cache = createCache({ location: server.url, keyPrefix: uniquePrefix('hf'), serializer })
      caches.push(cache)
    })

    it('hgetall and hkeys refuse the hash, naming the method and key, not the bytes', async () => {
      const rkey = cache.makeKey('h')
      await rawBytes(cache, 'HSET', rkey, F_FF, '1', F_FE, '2', F_REPLACEMENT, '3')
      expect(await cache.hlen('h')).toBe(3)
      const all = await refusal(cache.hgetall('h'))
      expect(all.message).toBe(
        "hgetall() on key 'h': a field name is not valid UTF-8, so no string names it (written as bytes by another client)",
      )
      const keys = await refusal(cache.hkeys('h'))
      expect(keys.message).toMatch(/^hkeys\(\) on key 'h': a field name is not valid UTF-8/)
      const scanned = await refusal(collect(cache.hscan('h')))
      expect(scanned.message).toMatch(/^hscan\(\) on key 'h': a field name is not valid UTF-8/)
      // Nothing was lost: the valid field still reads.
      expect(await cache.hget('h', 'f\uFFFD')).toBe(3)
    })

    it('a field named with a real U+FFFD reads as before', async () => {
      const rkey = cache.makeKey('ok')
      await rawBytes(cache, 'HSET', rkey, F_REPLACEMENT, '3', 'plain', '4')
      expect(await cache.hgetall('ok')).toEqual({ 'f\uFFFD': 3, plain: 4 })
      expect((await cache.hkeys('ok')).sort()).toEqual(['f\uFFFD', 'plain'])
      expect(await collect(cache.hscan('ok'))).toHaveLength(2)
    })

    // A pipeline that holds such a read gets all its replies as bytes; the other calls in it
    // read as they would alone.
    it('in a pipeline and a transaction, hgetall, hkeys and xrange refuse such names too', async () => {
      await rawBytes(cache, 'HSET', cache.makeKey('p'), F_FF, '1', F_FE, '2')
      await rawBytes(cache, 'XADD', cache.makeKey('ps'), '1-1', F_FF, '1')
      await cache.set('plain', { n: 1, s: 'é' })
      await cache.hset('fine', 'f\uFFFD', 3)
      for (const batch of [cache.pipeline(), cache.transaction()]) {
        const [all, keys, range, plain, fine, fineKeys] = await batch
          .hgetall('p')
          .hkeys('p')
          .xrange('ps')
          .get('plain')
          .hgetall('fine')
          .hkeys('fine')
          .exec()
        expect(all).toBeInstanceOf(SerializationError)
        expect((all as Error).message).toMatch(/^hgetall\(\) on key 'p': a field name is not/)
        expect(keys).toBeInstanceOf(SerializationError)
        expect((keys as Error).message).toMatch(/^hkeys\(\) on key 'p': a field name is not/)
        expect(range).toBeInstanceOf(SerializationError)
        expect(plain).toEqual({ n: 1, s: 'é' })
        expect(fine).toEqual({ 'f\uFFFD': 3 })
        expect(fineKeys).toEqual(['f\uFFFD'])
      }
      // Without such a read, a pipeline reads as before.
      expect(await cache.pipeline().get('plain').hlen('p').exec()).toEqual([{ n: 1, s: 'é' }, 2])
    })
  })

  // hscan and stream reads ask for their replies as bytes, whether the cache reads text or not.
  describe.each(['json', 'msgpack'] as const)(
    '%s cache: hscan and stream entries',
    (serializer) => {
      let cache: Cache

      beforeAll(() => {
        cache = createCache({
          location: server.url,
          keyPrefix: uniquePrefix('hfs'),
          serializer,
        })
        caches.push(cache)
      })

      it('hscan refuses a field name that is not UTF-8', async () => {
        await rawBytes(cache, 'HSET', cache.makeKey('h'), F_FF, '1', F_FE, '2')
        const error = await refusal(collect(cache.hscan('h')))
        expect(error.message).toMatch(/^hscan\(\) on key 'h': a field name is not valid UTF-8/)
      })

      it('xrange and xread refuse an entry with such a field name', async () => {
        const rkey = cache.makeKey('s')
        await rawBytes(cache, 'XADD', rkey, '1-1', F_FF, '1', F_FE, '2')
        const range = await refusal(cache.xrange('s'))
        expect(range.message).toMatch(/on key 's': a field name is not valid UTF-8/)
        await refusal(cache.xread({ s: '0-0' }))
        // A valid entry still reads.
        await rawBytes(cache, 'XADD', cache.makeKey('t'), '1-1', F_REPLACEMENT, '3')
        expect(await cache.xrange('t')).toEqual([{ id: '1-1', fields: { 'f\uFFFD': 3 } }])
      })
    },
  )
})
