// A value that cannot be encoded is reported with the user's key (not the Redis key, with its
// prefix and version), and the hash or stream field where there is one, on every path that
// encodes: the same error class, `code` and `cause` as the codec's, and nothing stored.
import {
  type Cache,
  CompressionError,
  type Compressor,
  type CreateCacheOptions,
  createCache,
  SerializationError,
} from '@cachex/redis'
import { standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { raw } from './helpers.ts'

const FUNCTION = 'json cannot serialize this value: a function cannot be stored as JSON'
const bad = () => 1

let server: { url: string; stop(): Promise<void> }
const opened: Cache[] = []
let cache: Cache

function open(options: CreateCacheOptions<false> = {}): Cache {
  const opened1 = createCache({
    location: server.url,
    keyPrefix: uniquePrefix('encode'),
    version: 3,
    ...options,
  })
  opened.push(opened1)
  return opened1
}

beforeAll(async () => {
  server = await standaloneServer()
  cache = open()
})

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()))
  await server?.stop()
})

async function rejection(call: () => Promise<unknown>): Promise<Error> {
  let promise: Promise<unknown>
  try {
    promise = call()
  } catch (error) {
    throw new Error(`threw instead of rejecting: ${String(error)}`)
  }
  const error = await promise.then(
    (value) => new Error(`resolved ${String(value)}`),
    (e: unknown) => e as Error,
  )
  return error
}

/** `error` is the codec's SerializationError for a function, with `where` in front. */
function expectFunctionError(error: Error, where: string): void {
  expect(error).toBeInstanceOf(SerializationError)
  expect(error.message).toBe(`${where}: ${FUNCTION}`)
  expect((error as SerializationError).code).toBe('E_SERIALIZATION')
  expect(error.cause).toBeInstanceOf(Error)
  expect((error.cause as Error).message).toBe('a function cannot be stored as JSON')
}

describe('a value that cannot be stored names the key', () => {
  it.each<[string, (c: Cache) => Promise<unknown>, string]>([
    ['set', (c) => c.set('k', bad), "cannot store key 'k'"],
    ['set with a timeout', (c) => c.set('k', bad, 60), "cannot store key 'k'"],
    ['set nx', (c) => c.set('k', bad, { nx: true }), "cannot store key 'k'"],
    ['set with get', (c) => c.set('k', bad, { get: true }), "cannot store key 'k'"],
    ['add', (c) => c.add('k', bad), "cannot store key 'k'"],
    ['setMany', (c) => c.setMany({ a: 1, b: bad, c: 3 }), "cannot store key 'b'"],
    [
      'setMany of a Map, with a timeout',
      (c) =>
        c.setMany(
          new Map<string, unknown>([
            ['a', 1],
            ['b', bad],
          ]),
          60,
        ),
      "cannot store key 'b'",
    ],
    ['getOrSet', (c) => c.getOrSet('k', Promise.resolve(bad)), "cannot store key 'k'"],
    ['getOrSet of a factory', (c) => c.getOrSet('k', () => bad), "cannot store key 'k'"],
    [
      'getOrSet with a distributed lock',
      (c) => c.getOrSet('k', () => bad, { distributed: true }),
      "cannot store key 'k'",
    ],
    ['hset', (c) => c.hset('h', 'f', bad), "cannot store key 'h' field 'f'"],
    ['hset of a mapping', (c) => c.hset('h', { e: 1, f: bad }), "cannot store key 'h' field 'f'"],
    ['hmset', (c) => c.hmset('h', { e: 1, f: bad }), "cannot store key 'h' field 'f'"],
    ['hsetnx', (c) => c.hsetnx('h', 'f', bad), "cannot store key 'h' field 'f'"],
    ['lpush', (c) => c.lpush('l', 1, bad), "cannot store key 'l'"],
    ['rpush', (c) => c.rpush('l', bad), "cannot store key 'l'"],
    ['lset', (c) => c.lset('l', 0, bad), "cannot store key 'l'"],
    ['linsert', (c) => c.linsert('l', 'BEFORE', 1, bad), "cannot store key 'l'"],
    ['sadd', (c) => c.sadd('s', 1, bad), "cannot store key 's'"],
    ['zadd', (c) => c.zadd('z', new Map([[bad, 1]])), "cannot store key 'z'"],
    ['zincrby', (c) => c.zincrby('z', 1, bad), "cannot store key 'z'"],
    ['xadd', (c) => c.xadd('x', { a: 1, f: bad }), "cannot store key 'x' field 'f'"],
  ])('%s', async (_, call, where) => {
    expectFunctionError(await rejection(() => call(cache)), where)
  })

  it.each<[string, (c: Cache) => Promise<unknown>, string]>([
    ['srem', (c) => c.srem('s', bad), "cannot look up a value in key 's'"],
    ['sismember', (c) => c.sismember('s', bad), "cannot look up a value in key 's'"],
    ['smismember', (c) => c.smismember('s', 1, bad), "cannot look up a value in key 's'"],
    ['smove', (c) => c.smove('s', 't', bad), "cannot look up a value in key 's'"],
    ['zrem', (c) => c.zrem('z', bad), "cannot look up a value in key 'z'"],
    ['zscore', (c) => c.zscore('z', bad), "cannot look up a value in key 'z'"],
    ['zmscore', (c) => c.zmscore('z', 1, bad), "cannot look up a value in key 'z'"],
    ['zrank', (c) => c.zrank('z', bad), "cannot look up a value in key 'z'"],
    ['lrem', (c) => c.lrem('l', 0, bad), "cannot look up a value in key 'l'"],
    ['lpos', (c) => c.lpos('l', bad), "cannot look up a value in key 'l'"],
    ['linsert pivot', (c) => c.linsert('l', 'AFTER', bad, 1), "cannot look up a value in key 'l'"],
  ])('a value only looked up: %s', async (_, call, where) => {
    expectFunctionError(await rejection(() => call(cache)), where)
  })

  it('setMany with one bad value stores none of them', async () => {
    const c = open()
    const error = await rejection(() => c.setMany({ a: 1, b: bad, c: 3 }))
    expectFunctionError(error, "cannot store key 'b'")
    expect(await c.getMany(['a', 'b', 'c'])).toEqual(new Map())
    const timed = await rejection(() => c.setMany({ a: 1, c: 3, d: bad }, 60))
    expectFunctionError(timed, "cannot store key 'd'")
    expect(await c.getMany(['a', 'c', 'd'])).toEqual(new Map())
  })

  it('through an in-process tier, and with coalesced reads', async () => {
    for (const c of [open({ local: { maxEntries: 100 } }), open({ coalesceReads: true })]) {
      await c.set('a', 'old')
      expectFunctionError(await rejection(() => c.set('a', bad)), "cannot store key 'a'")
      expectFunctionError(
        await rejection(() => c.setMany({ a: 1, b: bad })),
        "cannot store key 'b'",
      )
      expect(await c.getMany(['a', 'b'])).toEqual(new Map([['a', 'old']]))
    }
  })

  it('the message names the user key, not the Redis key', async () => {
    const c = open({ keyPrefix: 'pfx' })
    const error = await rejection(() => c.set('user:1', bad))
    expect(error.message).toBe(`cannot store key 'user:1': ${FUNCTION}`)
    expect(error.message).not.toContain(c.makeKey('user:1'))
  })

  it('a write listener does not change the message', async () => {
    const c = open()
    c.on('set', () => undefined)
    expectFunctionError(await rejection(() => c.set('k', bad)), "cannot store key 'k'")
    expectFunctionError(await rejection(() => c.add('k', bad)), "cannot store key 'k'")
    expectFunctionError(
      await rejection(() => c.set('k', bad, { get: true })),
      "cannot store key 'k'",
    )
    expectFunctionError(
      await rejection(() => c.setMany({ a: 1, b: bad, c: 3 })),
      "cannot store key 'b'",
    )
    expectFunctionError(await rejection(() => c.getOrSet('k', () => bad)), "cannot store key 'k'")
    expect(await c.getMany(['a', 'c'])).toEqual(new Map())
  })

  it('a refresh of getOrSet that cannot store its value logs the key', async () => {
    const logged: unknown[][] = []
    const c = open({ logger: { error: (...args: unknown[]) => logged.push(args) } })
    const early = { timeout: 60, earlyRecompute: 1e300 }
    expect(
      await c.getOrSet(
        'r',
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 20))
          return 'v1'
        },
        early,
      ),
    ).toBe('v1')
    expect(await c.getOrSet('r', () => bad, early)).toBe('v1')
    // The refresh runs in the background, keeps the value, and logs why.
    for (let i = 0; i < 100 && logged.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const error = logged[0]?.find((a) => a instanceof Error) as Error
    expectFunctionError(error, "cannot store key 'r'")
    expect(await c.get('r')).toBe('v1')
  })

  it('a value past maxValueSize names the key', async () => {
    const c = open({ maxValueSize: 10 })
    const error = await rejection(() => c.setMany({ a: 'short', b: 'x'.repeat(50) }))
    expect(error).toBeInstanceOf(SerializationError)
    expect(error.message).toBe(
      "cannot store key 'b': the serialized value (52 bytes) exceeds maxValueSize (10 bytes)",
    )
    expect(await c.get('a')).toBe(null)
  })

  it('an integer past what Python reads names the key', async () => {
    const error = await rejection(() => cache.set('big', 10n ** 5000n))
    expect(error).toBeInstanceOf(SerializationError)
    expect(error.message).toMatch(/^cannot store key 'big': an integer of more than \d+ digits/)
  })

  it('an incr whose sum Python could not read names the key, and leaves the value', async () => {
    const largest = 10n ** 4300n - 1n
    await cache.set('n', largest)
    const error = await rejection(() => cache.incr('n', 1))
    expect(error).toBeInstanceOf(SerializationError)
    expect(error.message).toMatch(/^cannot store key 'n': an integer of more than 4300 digits/)
    expect(await cache.get('n')).toBe(largest)
  })

  it('a compressor that fails: CompressionError naming the key, its cause kept', async () => {
    const failure = new Error('out of zlib')
    const failing: Compressor = {
      name: 'failing',
      minLength: 4,
      compress: () => {
        throw failure
      },
      decompress: (data) => data,
    }
    const c = open({ compressor: failing })
    const error = await rejection(() => c.hset('h', 'field', 'x'.repeat(100)))
    expect(error).toBeInstanceOf(CompressionError)
    expect(error.message).toBe(
      "cannot store key 'h' field 'field': failing failed to compress a value",
    )
    expect((error as CompressionError).code).toBe('E_COMPRESSION')
    expect(error.cause).toBe(failure)
    const many = await rejection(() => c.setMany({ a: 1, b: 'y'.repeat(100) }))
    expect(many).toBeInstanceOf(CompressionError)
    expect(many.message).toBe("cannot store key 'b': failing failed to compress a value")
    expect(await raw(c, 'EXISTS', c.makeKey('a'))).toBe(0)
  })

  it('ignoreExceptions does not hide an encode error', async () => {
    const c = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('encode-ignore'),
      ignoreExceptions: true,
    })
    opened.push(c as unknown as Cache)
    expectFunctionError(await rejection(() => c.set('k', bad)), "cannot store key 'k'")
  })
})

describe('in a pipeline', () => {
  it('a setMany with one bad value stores none of them', async () => {
    const c = open()
    const [outcome, after] = await c.pipeline().setMany({ a: 1, b: bad }).getMany(['a', 'b']).exec()
    expectFunctionError(outcome as Error, "cannot store key 'b'")
    expect(after).toEqual(new Map())
  })

  it.each<[string, (c: Cache) => Promise<unknown[]>, string]>([
    ['set', (c) => c.pipeline().set('k', bad).exec(), "cannot store key 'k'"],
    [
      'set with get',
      (c) => c.pipeline().set('k', bad, { get: true }).exec(),
      "cannot store key 'k'",
    ],
    ['add', (c) => c.pipeline().add('k', bad).exec(), "cannot store key 'k'"],
    ['setMany', (c) => c.pipeline().setMany({ a: 1, b: bad }).exec(), "cannot store key 'b'"],
    [
      'setMany with a timeout',
      (c) => c.pipeline().setMany({ a: 1, b: 2, c: bad }, 60).exec(),
      "cannot store key 'c'",
    ],
    ['hset', (c) => c.pipeline().hset('h', 'f', bad).exec(), "cannot store key 'h' field 'f'"],
    ['rpush', (c) => c.pipeline().rpush('l', bad).exec(), "cannot store key 'l'"],
    ['sadd', (c) => c.pipeline().sadd('s', bad).exec(), "cannot store key 's'"],
    [
      'zadd',
      (c) =>
        c
          .pipeline()
          .zadd('z', new Map([[bad, 1]]))
          .exec(),
      "cannot store key 'z'",
    ],
  ])('%s', async (_, call, where) => {
    // A queued call that fails takes its place in the results; nothing is sent for it.
    const [outcome] = await call(cache)
    expectFunctionError(outcome as Error, where)
  })
})

describe('nothing written for a value that cannot be encoded', () => {
  it('a pipeline set or add with a timeout of 0 is refused as cache.set is, and deletes nothing', async () => {
    const c = open()
    await c.set('k', 'keep')
    expectFunctionError(await rejection(() => c.set('k', bad, 0)), "cannot store key 'k'")
    const [set, add] = await c.pipeline().set('k', bad, 0).add('j', bad, 0).exec()
    expectFunctionError(set as Error, "cannot store key 'k'")
    expectFunctionError(add as Error, "cannot store key 'j'")
    expect(await c.get('k')).toBe('keep')
  })

  it('getOrSet with earlyRecompute encodes its value once, and stores it with its delta', async () => {
    const c = open()
    let encoded = 0
    const value = {
      toJSON() {
        encoded++
        return { n: 1 }
      },
    }
    expect(await c.getOrSet('once', () => value, { timeout: 60, earlyRecompute: 1 })).toBe(value)
    expect(encoded).toBe(1)
    expect(await c.get('once')).toEqual({ n: 1 })
    const keys = (await c.connection.command(['KEYS', `*${c.makeKey('once')}*`])) as unknown[]
    expect(keys).toHaveLength(2)
  })

  it('getOrSet with earlyRecompute stores no delta for a value it cannot store', async () => {
    const c = open()
    const error = await rejection(() =>
      c.getOrSet('x', () => bad, { timeout: 60, earlyRecompute: 1 }),
    )
    expectFunctionError(error, "cannot store key 'x'")
    const keys = (await c.connection.command(['KEYS', `*${c.makeKey('x')}*`])) as unknown[]
    expect(keys).toEqual([])
  })
})

describe('in a transaction', () => {
  it('exec rejects with the error that names the key, and nothing is stored', async () => {
    const c = open()
    const error = await rejection(() =>
      c.transaction().set('a', 1).hset('h', 'f', bad).setMany({ b: 2 }).exec(),
    )
    expectFunctionError(error, "cannot store key 'h' field 'f'")
    expect(await c.getMany(['a', 'b'])).toEqual(new Map())
    expect(await c.hlen('h')).toBe(0)
  })
})
