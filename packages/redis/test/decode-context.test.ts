// A value the codec cannot read is reported with the user's key (not the Redis key), on every
// path that decodes, with the serializer's own error kept as the cause; and an application's
// pickle classes reach the serializer through createCache's pickleClasses.
import { type Cache, createCache, SerializationError } from '@cachex/redis'
import { standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { raw } from './helpers.ts'

// CPython's pickle.dumps of an object whose __reduce__ is (os.system, ('echo pwned',)), protocol 4.
const EVIL = Buffer.from(
  '80049525000000000000008c05706f736978948c0673797374656d9493948c0a6563686f2070776e656494859452942e',
  'hex',
)
// CPython's pickle.dumps(Money('12.50', 'EUR'), 4) of a plain class in module `shop`.
const MONEY = Buffer.from(
  '8004953c000000000000008c0473686f70948c054d6f6e65799493942981947d94288c06616d6f756e74948c0531322e3530948c0863757272656e6379948c034555529475622e',
  'hex',
)

let server: { url: string; stop(): Promise<void> }
let cache: Cache

beforeAll(async () => {
  server = await standaloneServer()
  cache = createCache({
    location: server.url,
    keyPrefix: uniquePrefix('decode'),
    serializer: 'pickle',
  })
})

afterAll(async () => {
  await cache?.close()
  await server?.stop()
})

async function rejection(promise: Promise<unknown>): Promise<SerializationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(SerializationError)
  return error as SerializationError
}

const bytes = EVIL as unknown as string

describe('a value that cannot be read names the key on every path', () => {
  beforeAll(async () => {
    const k = (key: string) => cache.makeKey(key)
    await raw(cache, 'SET', k('plain'), bytes)
    await raw(cache, 'HSET', k('hash'), 'f', bytes)
    await raw(cache, 'RPUSH', k('list'), bytes, bytes)
    await raw(cache, 'RPUSH', k('list2'), bytes)
    await raw(cache, 'ZADD', k('zset'), '1', bytes)
  })

  it.each<[string, () => Promise<unknown>, string]>([
    ['get', () => cache.get('plain'), "key 'plain'"],
    ['getMany', () => cache.getMany(['missing', 'plain']), "key 'plain'"],
    ['getOrSet', () => cache.getOrSet('plain', 1), "key 'plain'"],
    ['incr (read, add, write back)', () => cache.incr('plain'), "key 'plain'"],
    ['hget', () => cache.hget('hash', 'f'), "key 'hash' field 'f'"],
    ['hgetall', () => cache.hgetall('hash'), "key 'hash' field 'f'"],
    ['hmget', () => cache.hmget('hash', 'x', 'f'), "key 'hash' field 'f'"],
    ['hvals', () => cache.hvals('hash'), "key 'hash'"],
    ['lindex', () => cache.lindex('list', 0), "key 'list'"],
    ['lrange', () => cache.lrange('list', 0, -1), "key 'list'"],
    ['lpop', () => cache.lpop('list'), "key 'list'"],
    ['rpop with a count', () => cache.rpop('list', 1), "key 'list'"],
    ['lmove', () => cache.lmove('list2', 'elsewhere'), "key 'list2'"],
    ['zrange', () => cache.zrange('zset', 0, -1), "key 'zset'"],
    ['zrange with scores', () => cache.zrange('zset', 0, -1, { withScores: true }), "key 'zset'"],
    ['zrangebyscore', () => cache.zrangebyscore('zset', '-inf', '+inf'), "key 'zset'"],
  ])('%s', async (_, call, where) => {
    const error = await rejection(call())
    expect(error.message.startsWith(`cannot read ${where}: `)).toBe(true)
    expect(error.message).toMatch(/refusing to load global posix\.system/)
    expect(error.message).not.toContain(cache.keyPrefix)
    expect((error.cause as Error).message).toMatch(/^pickle: refusing to load global posix\.system/)
  })
})

class Money {
  constructor(
    public amount = '0',
    public currency = '',
  ) {}
}

describe('createCache({ pickleClasses })', () => {
  it('reads and writes an application class, which stays refused without it', async () => {
    const keyPrefix = uniquePrefix('classes')
    const shop = createCache({
      location: server.url,
      keyPrefix,
      serializer: 'pickle',
      pickleClasses: {
        'shop.Money': {
          read: (args, kind) => {
            if (kind !== 'new' || args.length !== 0) throw new Error('unexpected arguments')
            return new Money()
          },
          setState: (value, state) => {
            const { amount, currency } = state as Record<string, unknown>
            if (typeof amount !== 'string' || typeof currency !== 'string') {
              throw new Error('Money needs str fields')
            }
            Object.assign(value as Money, { amount, currency })
          },
          type: Money,
          write: (value) => ({ args: [], state: { ...(value as Money) } }),
        },
      },
    })
    const plain = createCache({ location: server.url, keyPrefix, serializer: 'pickle' })
    try {
      await raw(shop, 'SET', shop.makeKey('price'), MONEY as unknown as string)
      expect(await shop.get('price')).toEqual(new Money('12.50', 'EUR'))
      const error = await rejection(plain.get('price'))
      expect(error.message).toMatch(
        /^cannot read key 'price': .*refusing to load global shop\.Money: .*createCache\(\{ pickleClasses \}\)/,
      )
      // Written back: CPython's bytes.
      await shop.set('again', new Money('12.50', 'EUR'))
      expect(await raw(shop, 'GET', shop.makeKey('again'))).toEqual(MONEY)
    } finally {
      await Promise.all([shop.close(), plain.close()])
    }
  })
})
