// Differential fuzz of memory://: the same seeded random command sequences sent to a real
// redis-server and to the in-memory connection must get identical replies (bulk strings compared
// as text, errors by message). Commands whose reply is random (SPOP, SRANDMEMBER) or whose order
// Redis leaves unspecified (SMEMBERS, set algebra) are normalized by sorting.

import { memory, standalone } from '@cachex/connections'
import { type Connection, ResponseError } from '@cachex/core'
import { standaloneServer } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let server: { url: string; stop(): Promise<void> }
let real: Connection
let mem: Connection

beforeAll(async () => {
  server = await standaloneServer()
  real = standalone({ location: server.url })
  mem = memory({ location: 'memory://' })
})

afterAll(async () => {
  await Promise.all([real?.close(), mem?.close()])
  await server?.stop()
})

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const UNORDERED = new Set(['SMEMBERS', 'SDIFF', 'SINTER', 'SUNION', 'HKEYS', 'HVALS'])

function generator(seed: number): () => string[] {
  const rand = prng(seed)
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1))
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)] as T
  const key = () => pick(['k0', 'k1', 'k2', 'k3', 'k4', 'k5'])
  const member = () => pick(['a', 'b', 'c', 'd', 'e', '1', '2', '10', 'é'])
  const num = () => String(pick([0, 1, -1, 2, 7, 42, -13, 1000]))
  const score = () => pick(['1', '2', '2.5', '-1', '0', '1.1', '-inf', '+inf', '3e3', '0.1'])
  const bound = () => pick(['-inf', '+inf', '(1', '2', '(2.5', '0', '1.1', 'x'])
  const value = () => pick(['v', '12', '-3', 'abc', '', '9223372036854775807', '1.5', 'héllo'])
  const ops: Array<() => string[]> = [
    () => ['SET', key(), value()],
    () => ['SET', key(), value(), 'PX', String(int(100000, 200000))],
    () => ['SET', key(), value(), pick(['NX', 'XX'])],
    () => ['SET', key(), value(), 'GET'],
    () => ['SET', key(), value(), 'KEEPTTL', 'XX'],
    () => ['GET', key()],
    () => ['MGET', key(), key(), key()],
    () => ['MSET', key(), value(), key(), value()],
    () => ['INCRBY', key(), num()],
    () => ['DEL', key(), key()],
    () => ['UNLINK', key()],
    () => ['EXISTS', key(), key()],
    () => ['PEXPIRE', key(), String(int(100000, 200000))],
    () => ['EXPIRE', key(), String(int(100, 200))],
    () => ['PERSIST', key()],
    () => ['PTTL', key()],
    () => ['TTL', key()],
    () => ['TYPE', key()],
    () => ['RENAME', key(), key()],
    () => ['RENAMENX', key(), key()],
    () => ['HSET', key(), member(), value(), member(), value()],
    () => ['HSETNX', key(), member(), value()],
    () => ['HGET', key(), member()],
    () => ['HMGET', key(), member(), member()],
    () => ['HGETALL', key()],
    () => ['HDEL', key(), member(), member()],
    () => ['HEXISTS', key(), member()],
    () => ['HLEN', key()],
    () => ['HKEYS', key()],
    () => ['HVALS', key()],
    () => ['HINCRBY', key(), member(), num()],
    () => ['LPUSH', key(), member(), member()],
    () => ['RPUSH', key(), member()],
    () => ['LPOP', key()],
    () => ['RPOP', key(), String(int(0, 3))],
    () => ['LLEN', key()],
    () => ['LINDEX', key(), String(int(-4, 4))],
    () => ['LRANGE', key(), String(int(-5, 5)), String(int(-5, 5))],
    () => ['LSET', key(), String(int(-3, 3)), member()],
    () => ['LTRIM', key(), String(int(-5, 5)), String(int(-5, 5))],
    () => ['LPOS', key(), member()],
    () => [
      'LPOS',
      key(),
      member(),
      'RANK',
      String(pick([1, -1, 2, -2])),
      'COUNT',
      String(int(0, 3)),
    ],
    () => ['LMOVE', key(), key(), pick(['LEFT', 'RIGHT']), pick(['LEFT', 'RIGHT'])],
    () => ['LINSERT', key(), pick(['BEFORE', 'AFTER']), member(), member()],
    () => ['LREM', key(), String(int(-2, 2)), member()],
    () => ['SADD', key(), member(), member()],
    () => ['SREM', key(), member()],
    () => ['SMEMBERS', key()],
    () => ['SISMEMBER', key(), member()],
    () => ['SMISMEMBER', key(), member(), member()],
    () => ['SCARD', key()],
    () => ['SMOVE', key(), key(), member()],
    () => ['SDIFF', key(), key()],
    () => ['SINTER', key(), key()],
    () => ['SUNION', key(), key()],
    () => [pick(['SDIFFSTORE', 'SINTERSTORE', 'SUNIONSTORE']), key(), key(), key()],
    () => ['ZADD', key(), score(), member(), score(), member()],
    () => ['ZADD', key(), pick(['NX', 'XX', 'GT', 'LT', 'CH']), score(), member()],
    () => ['ZADD', key(), 'INCR', score(), member()],
    () => ['ZINCRBY', key(), score(), member()],
    () => ['ZSCORE', key(), member()],
    () => ['ZMSCORE', key(), member(), member()],
    () => ['ZCARD', key()],
    () => ['ZCOUNT', key(), bound(), bound()],
    () => ['ZRANGE', key(), String(int(-4, 4)), String(int(-4, 4)), 'WITHSCORES'],
    () => ['ZRANGE', key(), String(int(-4, 4)), String(int(-4, 4)), 'REV'],
    () => ['ZRANGEBYSCORE', key(), bound(), bound(), 'WITHSCORES'],
    () => [
      'ZRANGEBYSCORE',
      key(),
      bound(),
      bound(),
      'LIMIT',
      String(int(0, 2)),
      String(int(-1, 3)),
    ],
    () => ['ZREVRANGEBYSCORE', key(), bound(), bound()],
    () => ['ZRANK', key(), member()],
    () => ['ZREVRANK', key(), member()],
    () => ['ZREM', key(), member(), member()],
    () => ['ZREMRANGEBYRANK', key(), String(int(-3, 3)), String(int(-3, 3))],
    () => ['ZPOPMIN', key(), String(int(0, 3))],
    () => ['ZPOPMAX', key()],
  ]
  return () => pick(ops)()
}

/** A reply in comparable form: bulk strings as text, errors as their message. */
function normalize(command: string, reply: unknown): unknown {
  if (reply instanceof Error) return { error: reply.message }
  if (Buffer.isBuffer(reply)) return reply.toString('utf8')
  if (Array.isArray(reply)) {
    const items = reply.map((item) => normalize(command, item))
    return UNORDERED.has(command) ? items.map((i) => JSON.stringify(i)).sort() : items
  }
  if ((command === 'PTTL' || command === 'TTL') && typeof reply === 'number' && reply >= 0) {
    return 'expiring'
  }
  return reply
}

async function send(connection: Connection, args: string[]): Promise<unknown> {
  try {
    return await connection.command(args)
  } catch (error) {
    if (!(error instanceof ResponseError)) throw error
    return error
  }
}

describe('memory:// against redis-server', () => {
  it.each([1, 7, 2024])('seed %i: 1500 random commands get the same replies', async (seed) => {
    await Promise.all([real.flush(), mem.flush()])
    const next = generator(seed)
    for (let i = 0; i < 1500; i++) {
      const args = next()
      const [expected, actual] = await Promise.all([send(real, args), send(mem, args)])
      const want = normalize(args[0] as string, expected)
      const got = normalize(args[0] as string, actual)
      expect({ i, args, reply: got }).toEqual({ i, args, reply: want })
    }
    // The whole keyspace agrees at the end, type by type.
    const keys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5']
    for (const key of keys) {
      const type = normalize('TYPE', await send(real, ['TYPE', key]))
      expect(normalize('TYPE', await send(mem, ['TYPE', key]))).toEqual(type)
    }
  })
})
