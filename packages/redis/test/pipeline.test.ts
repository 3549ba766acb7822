// cache.pipeline() and cache.transaction(): the cache's methods queued and sent in one round trip
// (one MULTI … EXEC), one result per call, in order, each as the method would resolve it.
import {
  type ClusterNode,
  type RedisServer,
  startCluster,
  startRedis,
  type TestCluster,
  uniquePrefix,
} from '@cachex/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, expectTypeOf, it, vi } from 'vitest'
import {
  type Cache,
  ConnectionError,
  type CreateCacheOptions,
  CrossSlotError,
  createCache,
  InvalidArgumentError,
  KeyNotFoundError,
  keySlot,
  ResponseError,
  SerializationError,
} from '../src/index.ts'
import { raw } from './helpers.ts'

let server: RedisServer
const open: Cache[] = []

function cacheFor(options: CreateCacheOptions = {}): Cache {
  const cache = createCache({ location: server.url, keyPrefix: uniquePrefix('pl'), ...options })
  open.push(cache)
  return cache
}

/** Counts the connection's sends while `fn` runs. */
async function sends(cache: Cache, fn: () => Promise<unknown>) {
  const connection = cache.connection
  const batch = vi.spyOn(connection, 'batch')
  const command = vi.spyOn(connection, 'command')
  try {
    await fn()
    return { batch: batch.mock.calls.length, command: command.mock.calls.length }
  } finally {
    batch.mockRestore()
    command.mockRestore()
  }
}

beforeAll(async () => {
  server = await startRedis()
})

afterEach(async () => {
  for (const cache of open.splice(0)) await cache.close()
})

afterAll(async () => {
  await server?.stop()
})

describe('pipeline()', () => {
  it('resolves one result per call, in order, as each method would', async () => {
    const cache = cacheFor()
    await cache.set('counter', 41)
    const results = await cache
      .pipeline()
      .set('user', { name: 'Ada' })
      .get('user')
      .get('missing', 'dflt')
      .add('user', 'other')
      .incr('counter')
      .decr('counter', 2)
      .hasKey('user')
      .delete('nothing')
      .setMany({ a: 1, b: [2] }, 60)
      .getMany(['a', 'b', 'c'])
      .deleteMany(['a', 'c'])
      .ttl('b')
      .pttl('missing')
      .expire('b', 100)
      .persist('b')
      .ttl('b')
      .touch('user', null)
      .exec()
    expect(results).toEqual([
      true,
      { name: 'Ada' },
      'dflt',
      false,
      42,
      40,
      true,
      false,
      [],
      new Map<string, unknown>([
        ['a', 1],
        ['b', [2]],
      ]),
      1,
      60,
      0,
      true,
      true,
      null,
      true,
    ])
    expect(await cache.get('user')).toEqual({ name: 'Ada' })
  })

  it('sends everything in one batch, nothing else', async () => {
    const cache = cacheFor()
    await cache.set('k', 1)
    const counts = await sends(cache, () =>
      cache
        .pipeline()
        .get('k')
        .set('j', 2, { nx: true })
        .incr('k')
        .hset('h', 'f', 'v')
        .zadd('z', { m: 1 })
        .rpush('l', 'x', 'y')
        .sadd('s', 'a')
        .exec(),
    )
    expect(counts).toEqual({ batch: 1, command: 0 })
  })

  it('runs the families with keys versioned and values decoded', async () => {
    const cache = cacheFor()
    const results = await cache
      .pipeline()
      .hset('h', { a: 1, b: { x: 2 } }, { version: 2 })
      .hget('h', 'b', { version: 2 })
      .hgetall('h', { version: 2 })
      .hget('h', 'b')
      .zadd('z', { one: 1, two: 2 })
      .zrange('z', 0, -1, { withScores: true })
      .zscore('z', 'two')
      .rpush('l', 'x', { y: 1 })
      .lrange('l', 0, -1)
      .llen('l')
      .sadd('s', 'a', 'b')
      .sismember('s', 'a')
      .scard('s')
      .xadd('st', { f: 'v' }, { id: '1-1' })
      .xlen('st')
      .type('h', { version: 2 })
      .type('nothing')
      .exec()
    expect(results).toEqual([
      2,
      { x: 2 },
      { a: 1, b: { x: 2 } },
      null,
      2,
      [
        ['one', 1],
        ['two', 2],
      ],
      2,
      2,
      ['x', { y: 1 }],
      2,
      2,
      true,
      2,
      '1-1',
      1,
      'hash',
      null,
    ])
    expect(await raw(cache, 'EXISTS', cache.makeKey('h', 2))).toBe(1)
  })

  it('gives a failed call its error and the others their results', async () => {
    const cache = cacheFor()
    await cache.rpush('list', 'x')
    await raw(cache, 'SET', cache.makeKey('garbage'), 'not json {')
    const results = await cache
      .pipeline()
      .set('a', 1)
      .hget('list', 'f')
      .get('garbage')
      .incr('missing')
      .incr('list')
      .rename('nothing', 'b')
      .get('a')
      .exec()
    expect(results[0]).toBe(true)
    expect(results[1]).toBeInstanceOf(ResponseError)
    expect((results[1] as Error).message).toMatch(/^hget\(\) on key 'list': it holds a list/)
    expect(results[2]).toBeInstanceOf(SerializationError)
    expect((results[2] as Error).message).toContain("key 'garbage'")
    expect(results[3]).toBeInstanceOf(KeyNotFoundError)
    expect(results[4]).toBeInstanceOf(ResponseError)
    expect((results[4] as Error).message).toMatch(/^incr\(\) on key 'list'/)
    expect(results[5]).toBeInstanceOf(KeyNotFoundError)
    expect(results[6]).toBe(1)
  })

  it('fails a call with bad arguments in its slot, without sending it', async () => {
    const cache = cacheFor()
    const results = await cache
      .pipeline()
      .set('a', 1, { nx: true, xx: true })
      .get('a')
      .xread({ st: '0' }, { block: 10 })
      .exec()
    expect(results[0]).toBeInstanceOf(InvalidArgumentError)
    expect(results[1]).toBeNull()
    expect(results[2]).toBeInstanceOf(InvalidArgumentError)
    expect((results[2] as Error).message).toMatch(/cannot be pipelined/)
  })

  it('resolves the method results of an empty pipeline and of calls with nothing to send', async () => {
    const cache = cacheFor()
    expect(await cache.pipeline().exec()).toEqual([])
    expect(await cache.pipeline().getMany([]).setMany({}).deleteMany([]).exec()).toEqual([
      new Map(),
      [],
      0,
    ])
  })

  it('applies timeouts ≤ 0 as the methods do', async () => {
    const cache = cacheFor()
    await cache.set('a', 1)
    const results = await cache.pipeline().set('a', 2, 0).add('b', 1, 0).get('a').exec()
    expect(results).toEqual([true, true, null])
  })

  it('set with get: true resolves the old value, decoded, as the method does', async () => {
    const cache = cacheFor()
    await cache.set('a', { v: 1 })
    await cache.set('z', 'gone')
    const results = await cache
      .pipeline()
      .set('a', { v: 2 }, { get: true })
      .set('new', 1, 60, { get: true })
      .set('a', 'ignored', { nx: true, get: true })
      .set('z', 'x', 0, { get: true })
      .get('a')
      .exec()
    expect(results).toEqual([{ v: 1 }, null, { v: 2 }, 'gone', { v: 2 }])
    expect(await cache.hasKey('z')).toBe(false)
    expect(await cache.ttl('new')).toBeGreaterThan(50)
  })

  it('falls back to read-add-write for a float, outside a transaction', async () => {
    const cache = cacheFor()
    await cache.set('f', 1.5)
    expect(await cache.pipeline().incr('f').exec()).toEqual([2.5])
  })

  it('is sent once', async () => {
    const cache = cacheFor()
    const pipe = cache.pipeline().get('a')
    await pipe.exec()
    await expect(pipe.exec()).rejects.toThrow(InvalidArgumentError)
    expect(() => pipe.get('b')).toThrow(InvalidArgumentError)
  })

  it('rejects exec() when nothing could be sent; ignoreExceptions resolves the fallbacks', async () => {
    const down = createCache({
      location: 'redis://127.0.0.1:1',
      socketConnectTimeout: 0.2,
    })
    open.push(down)
    await expect(down.pipeline().get('a').set('b', 1).exec()).rejects.toThrow(ConnectionError)
    const ignoring = createCache({
      location: 'redis://127.0.0.1:1',
      socketConnectTimeout: 0.2,
      ignoreExceptions: true,
    })
    open.push(ignoring)
    expect(await ignoring.pipeline().get('a', 'd').set('b', 1).incr('c').hlen('h').exec()).toEqual([
      'd',
      false,
      null,
      0,
    ])
  })

  it('under ignoreExceptions, an entry Redis refuses resolves its fallback', async () => {
    const cache = cacheFor({ ignoreExceptions: true })
    await cache.rpush('list', 'x')
    const results = await cache.pipeline().hlen('list').get('list').llen('list').exec()
    expect(results).toEqual([0, null, 1])
  })

  it('types the results from the calls', async () => {
    const cache = cacheFor()
    const results = await cache.pipeline().set('a', 1).hlen('h').ttl('a').exec()
    expectTypeOf(results).toEqualTypeOf<
      [
        boolean | import('../src/index.ts').CachexError,
        number | import('../src/index.ts').CachexError,
        number | null | import('../src/index.ts').CachexError,
      ]
    >()
    expect(results).toEqual([true, 0, 300])
  })
})

describe('pipeline() with a local tier', () => {
  it('a pipelined write drops the local copy', async () => {
    const cache = cacheFor({ local: {} })
    await cache.set('k', 'old')
    expect(await cache.get('k')).toBe('old')
    expect(await cache.get('k')).toBe('old')
    const [stored] = await cache.pipeline().set('k', 'new').exec()
    expect(stored).toBe(true)
    expect(await cache.get('k')).toBe('new')
    await cache.pipeline().delete('k').exec()
    expect(await cache.get('k')).toBeNull()
    await cache.set('k2', 'v')
    expect(await cache.get('k2')).toBe('v')
    await cache.pipeline().rename('k2', 'k').exec()
    expect(await cache.get('k')).toBe('v')
    expect(await cache.get('k2')).toBeNull()
  })
})

describe('transaction()', () => {
  it('runs the calls as MULTI … EXEC', async () => {
    const cache = cacheFor()
    const results = await cache
      .transaction()
      .set('a', 1)
      .incr('a')
      .get('a')
      .hset('h', 'f', 'v')
      .exec()
    expect(results).toEqual([true, 2, 2, 1])
    const stats = String(await raw(cache, 'INFO', 'commandstats'))
    expect(stats).toMatch(/cmdstat_multi:calls=[1-9]/)
    expect(stats).toMatch(/cmdstat_exec:calls=[1-9]/)
  })

  it('gives a command that fails at EXEC its error; the others run', async () => {
    const cache = cacheFor()
    await cache.rpush('list', 'x')
    const results = await cache.transaction().set('a', 1).hlen('list').incr('a').exec()
    expect(results[0]).toBe(true)
    expect(results[1]).toBeInstanceOf(ResponseError)
    expect((results[1] as Error).message).toMatch(/^hlen\(\) on key 'list'/)
    expect(results[2]).toBe(2)
  })

  it('sends nothing when a call fails before sending (bad arguments)', async () => {
    const cache = cacheFor()
    const transaction = cache.transaction().set('a', 1).sadd('s').set('b', { big: 1n })
    await expect(transaction.exec()).rejects.toThrow(InvalidArgumentError)
    expect(await cache.get('a')).toBeNull()
  })

  it('runs nothing when Redis refuses a command while queueing', async () => {
    const cache = cacheFor()
    const key = cache.makeKey('a')
    // GET without its key: refused while queueing, so EXEC runs nothing.
    const transaction = cache.connection.transaction?.([['SET', key, '1'], ['GET']])
    await expect(transaction).rejects.toThrow(ResponseError)
    await expect(transaction).rejects.toThrow(/wrong number of arguments/)
    expect(await raw(cache, 'EXISTS', key)).toBe(0)
  })
})

/** A value whose stored bytes are not UTF-8 with msgpack or a compressor (text and a repeat). */
const BINARY = { n: 1, text: 'é€😀', rows: 'x'.repeat(200) }

/** The values a transaction reads, each as the method alone reads it. */
async function readsInTransaction(cache: Cache, tag = ''): Promise<void> {
  const [key, hash, list] = [`${tag}k`, `${tag}h`, `${tag}l`]
  await cache.set(key, BINARY)
  await cache.hset(hash, 'f', BINARY)
  await cache.rpush(list, BINARY, 2)
  const results = await cache
    .transaction()
    .get(key)
    .hgetall(hash)
    .lrange(list, 0, -1)
    .getMany([key])
    .exec()
  expect(results).toEqual([BINARY, { f: BINARY }, [BINARY, 2], new Map([[key, BINARY]])])
  expect(await cache.pipeline().get(key).exec()).toEqual([BINARY])
}

// node-redis's own multi() decodes EXEC's reply as text whatever the type mapping: a compressed
// or MessagePack value came back as lossy text, and its read failed.
describe('transaction() with values stored as bytes', () => {
  it.each([
    ['msgpack', { serializer: 'msgpack' }],
    ['json + zlib', { compressor: 'zlib' }],
    [
      'msgpack + lz4, a connection pool',
      { serializer: 'msgpack', compressor: 'lz4', connectionPool: { minimum: 1, maximum: 2 } },
    ],
    ['json, text replies', {}],
  ] as const)('%s: reads them as the methods do', async (_, options) => {
    await readsInTransaction(cacheFor(options as CreateCacheOptions))
  })
})

describe('on a cluster', () => {
  let cluster: TestCluster
  let cache: Cache

  beforeAll(async () => {
    cluster = await startCluster()
    cache = createCache({
      client: 'cluster',
      location: [...cluster.seeds],
      keyPrefix: uniquePrefix('plc'),
    })
  }, 60_000)

  afterAll(async () => {
    await cache?.close()
    await cluster?.stop()
  })

  it('sends each entry to its node and keeps the order', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `key-${i}`)
    const pipe = cache.pipeline()
    for (const key of keys) pipe.set(key, key.toUpperCase())
    for (const key of keys) pipe.get(key)
    pipe.getMany(keys).deleteMany(keys.slice(0, 10)).hset('h', 'f', 1).hget('h', 'f')
    // Queued in a loop, the calls are not in the pipeline's type: the results are unknown[].
    const results: unknown[] = await pipe.exec()
    expect(results.slice(0, 30)).toEqual(keys.map(() => true))
    expect(results.slice(30, 60)).toEqual(keys.map((k) => k.toUpperCase()))
    expect(results[60]).toEqual(new Map(keys.map((k) => [k, k.toUpperCase()])))
    expect(results.slice(61)).toEqual([10, 1, 1])
  })

  it('runs a transaction in one slot', async () => {
    const results = await cache
      .transaction()
      .set('{u1}:a', 1)
      .incr('{u1}:a')
      .hset('{u1}:h', 'f', 'v')
      .get('{u1}:a')
      .exec()
    expect(results).toEqual([true, 2, 1, 2])
  })

  it('routes stream group and info commands by their key, not their subcommand', async () => {
    // XGROUP CREATE key …, XINFO STREAM key: routed by 'CREATE' and 'STREAM', these would be
    // taken for keys in other slots than the stream's, and the transaction refused.
    const results = await cache
      .transaction()
      .xadd('{s}:st', { n: 1 }, { id: '1-0' })
      .xgroupCreate('{s}:st', 'g', { id: '0' })
      .xinfoStream('{s}:st')
      .xgroupDestroy('{s}:st', 'g')
      .xlen('{s}:st')
      .exec()
    expect(results[0]).toBe('1-0')
    expect(results[1]).toBe(true)
    expect(results[2]).toMatchObject({ length: 1, groups: 1 })
    expect(results.slice(3)).toEqual([true, 1])
  })

  it('reads values stored as bytes in a transaction (msgpack, zlib)', async () => {
    for (const options of [{ serializer: 'msgpack' }, { compressor: 'zlib' }] as const) {
      const binary = createCache({
        client: 'cluster',
        location: [...cluster.seeds],
        keyPrefix: uniquePrefix('plb'),
        ...options,
      })
      try {
        await readsInTransaction(binary, '{t}')
      } finally {
        await binary.close()
      }
    }
  })

  /** A primary that does not serve `rkey`'s slot now. */
  async function otherPrimary(rkey: string): Promise<ClusterNode> {
    const from = await cluster.primaryFor(rkey)
    const to = (await cluster.primaries()).find((node) => node.port !== from.port)
    if (to === undefined) throw new Error('a cluster of one primary')
    return to
  }

  it('follows MOVED with the whole transaction when its slot moved', async () => {
    const key = '{moving}:a'
    await cache.set(key, 1)
    const rkey = cache.makeKey(key)
    const to = await otherPrimary(rkey)
    await cluster.moveSlot(keySlot(rkey), to)
    const results = await cache.transaction().incr(key).get(key).exec()
    expect(results).toEqual([2, 2])
  })

  it('follows ASK with the whole transaction while its slot is being moved', async () => {
    const key = '{asked}:a'
    await cache.set(key, 5)
    const rkey = cache.makeKey(key)
    const to = await otherPrimary(rkey)
    const move = await cluster.beginSlotMove(keySlot(rkey), to)
    try {
      await move.migrate([rkey])
      // The map still names the old owner, which answers ASK for a key it no longer has.
      expect(await cache.transaction().incr(key).get(key).exec()).toEqual([6, 6])
    } finally {
      await move.finish()
    }
    expect(await cache.get(key)).toBe(6)
  })

  it('refuses a transaction across slots before sending it', async () => {
    const transaction = cache.transaction().set('a', 1).set('b', 2)
    await expect(transaction.exec()).rejects.toThrow(CrossSlotError)
    expect(await cache.get('a')).toBeNull()
  })
})

// A call that queues no command (`hmget` of no field): it resolved its value as it was queued, so
// a transaction holding it is sent in the tick of exec(), as any other (docs/pipelines.md).
describe.each(['redis', 'memory'] as const)('%s: a call with nothing to send', (backend) => {
  type Queued = ReturnType<Cache['transaction']>
  const CALLS: Array<[string, (pipe: Queued) => unknown, unknown]> = [
    ['hmget', (pipe) => pipe.hmget('h'), []],
    ['hmset', (pipe) => pipe.hmset('h', {}), true],
    ['hset', (pipe) => pipe.hset('h', {}), 0],
    ['hdel', (pipe) => pipe.hdel('h'), 0],
    ['zrem', (pipe) => pipe.zrem('z'), 0],
    ['zmscore', (pipe) => pipe.zmscore('z'), []],
    ['xack', (pipe) => pipe.xack('s', 'g'), 0],
    ['xdel', (pipe) => pipe.xdel('s'), 0],
  ]

  function fresh(options: CreateCacheOptions = {}): Cache {
    const location = backend === 'redis' ? server.url : `memory://${uniquePrefix('nothing')}`
    return createCache({ location, keyPrefix: uniquePrefix('nothing'), ...options })
  }

  it.each(CALLS)(
    'transaction with %s: a set made after exec() goes after it',
    async (_, call, value) => {
      const cache = fresh()
      open.push(cache)
      const transaction = cache.transaction()
      call(transaction)
      const done = transaction.set('k', 'tx').exec()
      const after = cache.set('k', 'after')
      expect(await done).toEqual([value, true])
      expect(await after).toBe(true)
      expect(await cache.get('k')).toBe('after')
    },
  )

  it.each(CALLS)(
    'transaction with %s: close() right after exec() answers it',
    async (_, call, value) => {
      const cache = fresh()
      await cache.set('warm', 1)
      const transaction = cache.transaction()
      call(transaction)
      const done = transaction
        .set('k', 'tx')
        .exec()
        .catch((e: unknown) => e)
      await cache.close()
      expect(await done).toEqual([value, true])
    },
  )

  it('a pipeline with such a call: a set made after exec() goes after it', async () => {
    const cache = fresh()
    open.push(cache)
    const done = cache.pipeline().hmget('h').xdel('s').set('k', 'pipe').exec()
    const after = cache.set('k', 'after')
    expect(await done).toEqual([[], 0, true])
    expect(await after).toBe(true)
    expect(await cache.get('k')).toBe('after')
  })

  it('such a call with bad arguments still rejects the transaction, nothing sent', async () => {
    const cache = fresh()
    open.push(cache)
    const failing: Array<(pipe: Queued) => unknown> = [
      (pipe) => pipe.hmget('h', { versoin: 2 } as never),
      (pipe) => pipe.hmset('h', {}, { versoin: 2 } as never),
      (pipe) => pipe.xack('s', ''),
      (pipe) => pipe.xdel('s', { versoin: 2 } as never),
    ]
    for (const call of failing) {
      const transaction = cache.transaction()
      transaction.set('a', 1)
      call(transaction)
      await expect(transaction.exec()).rejects.toBeInstanceOf(InvalidArgumentError)
    }
    expect(await cache.get('a')).toBeNull()
  })
})

// memory:// has no local tier (no client-side tracking).
describe('redis: a call with nothing to send, with a local tier', () => {
  it('a get made right after exec() sees the write', async () => {
    const cache = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('nothing'),
      local: {},
    })
    open.push(cache)
    await cache.set('k', 'old')
    expect(await cache.get('k')).toBe('old')
    expect(await cache.get('k')).toBe('old')
    const done = cache.transaction().hmget('h').set('k', 'new').exec()
    const read = cache.get('k')
    expect(await done).toEqual([[], true])
    expect(await read).toBe('new')
  })
})
