// Pops and moves of a value the cache cannot read (over its maxValueSize, written by a cache
// without the limit): Redis has removed it, with the readable values popped alongside, before the
// reply is decoded. The call rejects with the decoding error, which carries every value removed
// (`removed`), so that nothing is lost; a move says that the value was moved all the same.
import { type Cache, CompressionError, createCache, SerializationError } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS, type Backend, backendServer } from './helpers.ts'

const LIMIT = 10_000
const over = 'b'.repeat(LIMIT - 1)
/** What the unlimited JSON cache stores for `over`. */
const overBytes = Buffer.from(JSON.stringify(over))

/** The rejection of `call`, which must reject. */
async function rejection(call: Promise<unknown>): Promise<SerializationError & CompressionError> {
  try {
    await call
  } catch (error) {
    return error as SerializationError & CompressionError
  }
  throw new Error('resolved, expected a rejection')
}

describe.each(BACKENDS)('%s', (backend: Backend) => {
  let server: { url: string; stop(): Promise<void> }
  const opened: Cache[] = []
  /** A cache with the limit, and one without it, on the same keys. */
  function pair(options: { compressor?: 'zlib' } = {}): [Cache, Cache] {
    const keyPrefix = uniquePrefix('pop')
    const limited = createCache({
      location: server.url,
      keyPrefix,
      maxValueSize: LIMIT,
      ...options,
    })
    const open = createCache({ location: server.url, keyPrefix, maxValueSize: null, ...options })
    opened.push(limited, open)
    return [limited, open]
  }
  beforeAll(async () => {
    server = await backendServer(backend)
  })
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close()))
    await server?.stop()
  })

  it('lpop / rpop with a count: the error carries every value removed, in order', async () => {
    const [c, open] = pair()
    await open.rpush('l', 'good1', over, { good: 2 }, 'rest', 'end')
    const error = await rejection(c.lpop('l', 3))
    expect(error).toBeInstanceOf(SerializationError)
    expect(error.message).toBe(
      `cannot read key 'l': a stored value of ${LIMIT + 1} bytes exceeds maxValueSize (${LIMIT} bytes); lpop removed 3 values from key 'l' all the same: every one is in this error's removed (as stored bytes where unreadable)`,
    )
    expect(error.removed).toEqual(['good1', overBytes, { good: 2 }])
    expect(await c.lrange('l', 0, -1)).toEqual(['rest', 'end'])
    await open.rpush('l', over)
    const last = await rejection(c.rpop('l', 2))
    expect(last.removed).toEqual([overBytes, 'end'])
    expect(last.message).toMatch(/rpop removed 2 values from key 'l'/)
    expect(await c.lrange('l', 0, -1)).toEqual(['rest'])
  })

  it('lpop / rpop of one value, and blpop / brpop', async () => {
    const [c, open] = pair()
    await open.rpush('l', over, over, over, over)
    expect((await rejection(c.lpop('l'))).removed).toEqual([overBytes])
    const right = await rejection(c.rpop('l'))
    expect(right.removed).toEqual([overBytes])
    expect(right.message).toMatch(/rpop removed 1 value from key 'l'/)
    const blocking = await rejection(c.blpop(['empty', 'l'], 1))
    expect(blocking).toBeInstanceOf(SerializationError)
    expect(blocking.message).toMatch(/^cannot read key 'l': .*; blpop removed 1 value from key 'l'/)
    expect(blocking.removed).toEqual([overBytes])
    expect((await rejection(c.brpop('l', 1))).removed).toEqual([overBytes])
    expect(await c.llen('l')).toBe(0)
  })

  it('spop with and without a count', async () => {
    const [c, open] = pair()
    await open.sadd('s', over, 'good')
    const error = await rejection(c.spop('s', 2))
    expect(error).toBeInstanceOf(SerializationError)
    expect(error.message).toMatch(/spop removed 2 values from key 's'/)
    expect(error.removed).toHaveLength(2)
    expect(error.removed).toEqual(expect.arrayContaining(['good', overBytes]))
    expect(await c.scard('s')).toBe(0)
    await open.sadd('s', over)
    expect((await rejection(c.spop('s'))).removed).toEqual([overBytes])
  })

  it('zpopmin / zpopmax: [member, score] pairs', async () => {
    const [c, open] = pair()
    await open.zadd('z', { good: 1, [over]: 2, top: 3 })
    const error = await rejection(c.zpopmin('z', 2))
    expect(error).toBeInstanceOf(SerializationError)
    expect(error.message).toMatch(/zpopmin removed 2 values from key 'z'/)
    expect(error.removed).toEqual([
      ['good', 1],
      [overBytes, 2],
    ])
    await open.zadd('z', { [over]: 5 })
    expect((await rejection(c.zpopmax('z'))).removed).toEqual([[overBytes, 5]])
    expect(await c.zrange('z', 0, -1, { withScores: true })).toEqual([['top', 3]])
  })

  it('lmove / blmove: the value is moved, and the error says so', async () => {
    const [c, open] = pair()
    await open.rpush('src', over, over)
    const error = await rejection(c.lmove('src', 'dst'))
    expect(error).toBeInstanceOf(SerializationError)
    expect(error.message).toMatch(
      /^cannot read key 'src': .*; lmove moved the value to key 'dst' all the same$/,
    )
    expect(error.removed).toBeUndefined()
    const blocking = await rejection(c.blmove('src', 'dst', 1))
    expect(blocking.message).toMatch(/blmove moved the value to key 'dst' all the same$/)
    expect(await c.llen('src')).toBe(0)
    expect(await open.lrange('dst', 0, -1)).toEqual([over, over])
  })

  it('a value over the limit once decompressed: a CompressionError with the stored bytes', async () => {
    const [c, open] = pair({ compressor: 'zlib' })
    await open.rpush('l', 'good', over)
    const [, stored] = (await open.connection.command(['LRANGE', c.makeKey('l'), '0', '-1'], {
      key: c.makeKey('l'),
      readonly: true,
    })) as Buffer[]
    const error = await rejection(c.rpop('l', 5))
    expect(error).toBeInstanceOf(CompressionError)
    expect(error.message).toMatch(/rpop removed 2 values from key 'l'/)
    expect(error.removed).toEqual([stored, 'good'])
  })

  it('set with get: true over an old value it cannot read: stored all the same, the error carries the old bytes', async () => {
    const [c, open] = pair()
    // Over maxValueSize, and bytes that are not UTF-8 (which a reply read as text cannot hold).
    const notUtf8 = Buffer.from([0x80, 0xff, 0xfe, 0x7b])
    const olds: [string, Buffer, unknown][] = [
      ['over', overBytes, SerializationError],
      ['binary', notUtf8, SerializationError],
    ]
    for (const [name, oldBytes, type] of olds) {
      const store = (key: string) =>
        c.connection.command(['SET', c.makeKey(key), oldBytes], { key: c.makeKey(key) })
      await store(name)
      const error = await rejection(c.set(name, 'new', { get: true }))
      expect(error).toBeInstanceOf(type)
      expect(error.message).toMatch(
        new RegExp(
          `^cannot read key '${name}': .*; set stored the new value at key '${name}' all the same: the old value is in this error's removed \\(as stored bytes\\)$`,
        ),
      )
      expect(error.removed).toEqual([oldBytes])
      expect(await c.get(name)).toBe('new')
      // xx: stored (there was a value); with a timeout.
      await store(name)
      const xx = await rejection(c.set(name, 'newer', 60, { xx: true, get: true }))
      expect(xx.removed).toEqual([oldBytes])
      expect(await c.get(name)).toBe('newer')
      expect(await c.ttl(name)).toBeGreaterThan(50)
      // A timeout of 0: GETDEL, the key deleted all the same.
      await store(name)
      const deleted = await rejection(c.set(name, 'ignored', { timeout: 0, get: true }))
      expect(deleted).toBeInstanceOf(type)
      expect(deleted.message).toMatch(
        /; set deleted key '[a-z]+' all the same \(a timeout ≤ 0\): the old value is in this error's removed \(as stored bytes\)$/,
      )
      expect(deleted.removed).toEqual([oldBytes])
      expect(await c.hasKey(name)).toBe(false)
      // nx: nothing written (there was a value), so nothing removed: the decoding error alone.
      await store(name)
      const kept = await rejection(c.set(name, 'no', { nx: true, get: true }))
      expect(kept).toBeInstanceOf(type)
      expect(kept.message).not.toMatch(/all the same/)
      expect(kept.removed).toBeUndefined()
      const keptToo = await rejection(c.set(name, 'no', { timeout: 0, nx: true, get: true }))
      expect(keptToo.removed).toBeUndefined()
      expect(
        await open.connection.command(['GET', c.makeKey(name)], { key: c.makeKey(name) }),
      ).toEqual(oldBytes)
      // In a pipeline, as the method: the error in the call's slot.
      const [piped, after] = await c.pipeline().set(name, 'piped', { get: true }).get(name).exec()
      expect(after).toBe('piped')
      expect(piped).toBeInstanceOf(type)
      expect((piped as SerializationError).message).toMatch(
        /set stored the new value at key '[a-z]+' all the same/,
      )
      expect((piped as SerializationError).removed).toEqual([oldBytes])
      expect(await c.get(name)).toBe('piped')
    }
  })

  it('values that all read resolve as before, in a pipeline too', async () => {
    const [c] = pair()
    await c.rpush('l', 'a', { b: 1 }, 3)
    await c.set('k', 'é')
    expect(await c.pipeline().lpop('l', 2).get('k').rpop('l').exec()).toEqual([
      ['a', { b: 1 }],
      'é',
      3,
    ])
  })
})
