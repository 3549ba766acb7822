// A pipeline on a `connectionPool` runs its commands in queue order, as it does on one connection:
// node-redis's pool holds one of its clients per command until the reply, so the commands of one
// pipeline sent one by one through the pool ran side by side on up to `maximum` clients, and a
// large write could land after the small write of the same key queued behind it.
import { standalone } from '@cachex/connections'
import { ClosedError, type Connection, ResponseError } from '@cachex/core'
import { type Cache, type CreateCacheOptions, createCache } from '@cachex/redis'
import {
  type RedisServer,
  type SentinelDeployment,
  startRedis,
  startSentinels,
  uniquePrefix,
} from '@cachex/test-utils'
import { createSentinel } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/** A value Redis takes a while to read off the socket: a small command beside it overtakes it. */
const BIG = 'v'.repeat(4 * 1024 * 1024)
/** Rounds per test: a pool that runs a pipeline's commands side by side fails most of them. */
const ROUNDS = 6
/** Four clients, all connected at once: a pipeline finds them idle. */
const POOL = { minimum: 4, maximum: 4 }

const text = (reply: unknown) => (Buffer.isBuffer(reply) ? reply.toString() : reply)
/** A long string as its length, so that a failure prints short. */
const short = (value: unknown) =>
  typeof value === 'string' && value.length > 32 ? `(${value.length} chars)` : value

const opened: Cache[] = []
afterAll(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()))
})

function open(options: CreateCacheOptions): Cache {
  const cache = createCache({ keyPrefix: uniquePrefix('pool-order'), ...options })
  opened.push(cache)
  return cache
}

/** The pipeline checks every topology below runs. */
function pipelineOrder(options: () => CreateCacheOptions) {
  it('a later write of a key in a pipeline stands (a large value, then a small one)', async () => {
    const cache = open(options())
    await cache.set('warm', 1)
    const finals: unknown[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const key = `last:${round}`
      expect(await cache.pipeline().set(key, BIG).set(key, 'final').exec()).toEqual([true, true])
      finals.push(short(await cache.get(key)))
    }
    expect(finals).toEqual(Array.from({ length: ROUNDS }, () => 'final'))
  })

  it('a read in a pipeline sees the write queued before it', async () => {
    const cache = open(options())
    await cache.set('warm', 1)
    const rounds: unknown[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const key = `read:${round}`
      const [stored, read, length] = await cache
        .pipeline()
        .set(key, BIG)
        .get(key)
        .rpush(`list:${round}`, 'x')
        .exec()
      rounds.push([stored, short(read), length])
    }
    expect(rounds).toEqual(Array.from({ length: ROUNDS }, () => [true, short(BIG), 1]))
  })
}

describe('a standalone connectionPool', () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis()
  })
  afterAll(async () => {
    await Promise.all(opened.splice(0).map((cache) => cache.close()))
    await server?.stop()
  })

  pipelineOrder(() => ({ location: server.url, connectionPool: POOL }))

  it('a batch keeps its reply forms, its errors per command and its order', async () => {
    const cache = open({ location: server.url, connectionPool: POOL })
    const connection: Connection = cache.connection
    const key = cache.makeKey('forms')
    await connection.command(['PING'])
    const bytes = await connection.batch([
      ['SET', key, BIG],
      ['LPUSH', key, 'x'],
      ['SET', key, 'small'],
      ['GET', key],
      ['INCRBY', `${key}:n`, '9007199254740993'],
    ])
    expect(text(bytes[0])).toBe('OK')
    expect(bytes[1]).toBeInstanceOf(ResponseError)
    expect((bytes[1] as Error).message).toMatch(/WRONGTYPE/)
    expect(Buffer.isBuffer(bytes[3]) && bytes[3].toString()).toBe('small')
    const asText = await connection.batch([['GET', key]], { text: true })
    expect(asText).toEqual(['small'])
    // Integers as their digits: 2^53 + 1 is not a double.
    const digits = await connection.batch([['INCRBY', `${key}:n`, '0']], { digits: true })
    expect(digits).toEqual(['9007199254740993'])
  })

  it('a batch of many commands on a pool applies them in queue order', async () => {
    const cache = open({ location: server.url, connectionPool: POOL })
    const list = cache.makeKey('ordered')
    await cache.connection.command(['PING'])
    const commands = Array.from({ length: 300 }, (_, i) => [
      'RPUSH',
      list,
      i % 50 === 0 ? `${i}:${BIG.slice(0, 1024 * 1024)}` : String(i),
    ])
    const replies = await cache.connection.batch(commands)
    expect(replies).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
    const stored = (await cache.connection.command(['LRANGE', list, '0', '-1'])) as Buffer[]
    expect(stored.map((item) => item.toString().split(':')[0])).toEqual(
      Array.from({ length: 300 }, (_, i) => String(i)),
    )
  })

  it('a batch on a pool: socketTimeout bounds each command, and the pool works after', async () => {
    const connection = standalone({
      location: server.url,
      socketTimeout: 0.5,
      connectionPool: { minimum: 2, maximum: 2 },
    })
    try {
      await connection.command(['PING'])
      server.pause()
      let replies: unknown[]
      const started = performance.now()
      try {
        replies = await connection.batch([['SET', 'paused', '1'], ['GET', 'paused'], ['PING']])
      } finally {
        server.resume()
      }
      // 0.5 s, with a wide margin for a busy machine.
      expect(performance.now() - started).toBeLessThan(5000)
      expect(replies.map((reply) => (reply as Error).constructor.name)).toEqual([
        'TimeoutError',
        'TimeoutError',
        'TimeoutError',
      ])
      // The timeout reset the pool; a new one opens in the background.
      let after: unknown[] = []
      for (const until = performance.now() + 10_000; performance.now() < until; ) {
        // Rejected at once while the pool is known down.
        after = await connection
          .batch([
            ['SET', 'resumed', '2'],
            ['GET', 'resumed'],
          ])
          .catch((error: Error) => [error])
        if (!after.some((reply) => reply instanceof Error)) break
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      expect(after.map(text)).toEqual(['OK', '2'])
    } finally {
      await connection.close()
    }
  })

  it('close() answers a batch sent before it on a pool', async () => {
    const connection = standalone({ location: server.url, connectionPool: POOL })
    await connection.command(['PING'])
    const key = uniquePrefix('closing')
    const sent = connection.batch([
      ['SET', key, BIG],
      ['STRLEN', key],
    ])
    const closing = connection.close()
    expect(await sent).toEqual([expect.anything(), BIG.length])
    await closing
    await expect(connection.batch([['PING']])).rejects.toBeInstanceOf(ClosedError)
  })
})

describe('Sentinel', () => {
  let deployment: SentinelDeployment
  beforeAll(async () => {
    // No replica: reads run on the primary, with no replication lag to wait out.
    deployment = await startSentinels({ replicas: 0, sentinels: 1 })
  }, 120_000)
  afterAll(async () => {
    await Promise.all(opened.splice(0).map((cache) => cache.close()))
    await deployment?.stop()
  })

  describe('with a connectionPool per node', () => {
    pipelineOrder(() => ({
      client: 'sentinel',
      location: deployment.location,
      sentinels: deployment.addresses,
      connectionPool: POOL,
    }))
  })

  describe('a RedisSentinel of yours with masterPoolSize: 4', () => {
    const sentinels: Array<{ close(): Promise<unknown>; destroy(): unknown }> = []
    afterAll(async () => {
      // The caches first: they leave a sentinel of yours open.
      await Promise.all(opened.splice(0).map((cache) => cache.close()))
      await Promise.allSettled(sentinels.splice(0).map((given) => given.close()))
    })

    it('a pipeline on a freshly opened sentinel: the later write of a key stands', async () => {
      const finals: unknown[] = []
      for (let round = 0; round < ROUNDS; round++) {
        // node-redis's sentinel shares one primary client between the commands in flight once
        // one of them holds it: the race is in the first commands after it opens.
        const given = createSentinel({
          name: deployment.name,
          sentinelRootNodes: deployment.addresses.map(([host, port]) => ({ host, port })),
          masterPoolSize: 4,
          replicaPoolSize: 0,
        }).on('error', () => {})
        sentinels.push(given)
        await given.connect()
        const cache = open({ location: given as never, sentinels: deployment.addresses })
        const key = `given:${round}`
        await cache.pipeline().set(key, BIG).set(key, 'final').exec()
        finals.push(short(await cache.get(key)))
      }
      expect(finals).toEqual(Array.from({ length: ROUNDS }, () => 'final'))
    })
  })
})
