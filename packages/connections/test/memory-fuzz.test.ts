// Differential fuzz of memory://: the same seeded random command sequences sent to a real
// redis-server and to the in-memory connection must get identical replies (bulk strings compared
// as text, errors by message). Commands whose reply is random (SPOP, SRANDMEMBER) or whose order
// Redis leaves unspecified (SMEMBERS, set algebra) are normalized by sorting. Streams get explicit,
// mostly increasing IDs (an ID Redis picks, `*`, differs between two servers: only its shape is
// compared); idle times, which depend on when each server ran a command, are left out.

import { memory, standalone } from '@cachex/connections'
import { type Connection, ResponseError } from '@cachex/core'
import { seededRandom, standaloneServer } from '@cachex/test-utils'
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

const UNORDERED = new Set(['SMEMBERS', 'SDIFF', 'SINTER', 'SUNION', 'HKEYS', 'HVALS'])

function generator(seed: number, streamsOnly = false): () => string[] {
  const rand = seededRandom(seed)
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1))
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)] as T
  const key = () => pick(['k0', 'k1', 'k2', 'k3', 'k4', 'k5'])
  const member = () => pick(['a', 'b', 'c', 'd', 'e', '1', '2', '10', 'é'])
  const num = () => String(pick([0, 1, -1, 2, 7, 42, -13, 1000]))
  const score = () => pick(['1', '2', '2.5', '-1', '0', '1.1', '-inf', '+inf', '3e3', '0.1'])
  const bound = () => pick(['-inf', '+inf', '(1', '2', '(2.5', '0', '1.1', 'x'])
  const value = () => pick(['v', '12', '-3', 'abc', '', '9223372036854775807', '1.5', 'héllo'])
  // Streams: k0…k5 (often another type) and two keys mostly left to streams.
  const skey = () => (streamsOnly ? pick(['s0', 's1']) : pick(['s0', 's1', 's0', 's1', key()]))
  // Long streams (several macro nodes) when only streams are written.
  const length = () => String(streamsOnly ? int(0, pick([60, 500])) : int(0, 30))
  const field = () => pick(['f', 'g', '7', 'h'])
  // Big values close macro nodes early (4 KiB), so that approximate trimming (~) has nodes to drop.
  const svalue = () => (rand() < 0.1 ? 'x'.repeat(int(100, 700)) : value())
  let ms = 1
  const ids: string[] = []
  const newId = () => {
    ms += int(0, 2)
    const id = rand() < 0.2 ? `${ms}-*` : `${ms}-${int(0, 3)}`
    ids.push(id.replace('*', '0'))
    return id
  }
  const oldId = () => (ids.length === 0 ? '0-1' : pick(ids))
  const sid = () => (rand() < 0.7 ? oldId() : pick(['0', '0-0', '1', `${ms}`, 'bad', '-', '+']))
  const sbound = () => pick([sid(), `(${oldId()}`, '-', '+'])
  const group = () => pick(['g1', 'g2', 'g3'])
  const consumer = () => pick(['alice', 'bob', 'carol'])
  // An ID early in the history: MINID then trims a little (long streams).
  const earlyId = () => (streamsOnly ? (ids[int(0, ids.length >> 2)] ?? '0-1') : oldId())
  const trim = () =>
    streamsOnly && rand() < 0.6
      ? []
      : pick([
          [],
          ['MAXLEN', length()],
          ['MAXLEN', '~', length()],
          ['MINID', earlyId()],
          ['MINID', '~', earlyId()],
          ['MAXLEN', '~', length(), 'LIMIT', String(int(0, 300))],
        ])
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
  const streamOps: Array<() => string[]> = [
    () => ['XADD', skey(), ...trim(), newId(), field(), svalue()],
    () => ['XADD', skey(), newId(), field(), svalue(), field(), svalue()],
    () => ['XADD', skey(), 'NOMKSTREAM', rand() < 0.2 ? oldId() : newId(), field(), svalue()],
    () => ['XADD', 'auto', '*', field(), value()],
    () => ['XLEN', skey()],
    () => ['XRANGE', skey(), sbound(), sbound()],
    () => ['XRANGE', skey(), '-', '+', 'COUNT', String(int(-1, 4))],
    () => ['XREVRANGE', skey(), sbound(), sbound(), 'COUNT', String(int(1, 4))],
    () => ['XDEL', skey(), oldId(), sid()],
    () => {
      const how = trim()
      return ['XTRIM', skey(), ...(how.length > 0 ? how : ['MAXLEN', length()])]
    },
    () => ['XREAD', 'COUNT', String(int(1, 3)), 'STREAMS', skey(), skey(), sid(), '$'],
    () => ['XGROUP', 'CREATE', skey(), group(), pick(['0', '$', oldId()])],
    () => ['XGROUP', 'CREATE', skey(), group(), '0', 'MKSTREAM', 'ENTRIESREAD', String(int(0, 3))],
    () => ['XGROUP', 'SETID', skey(), group(), pick(['0', '$', oldId()])],
    () => ['XGROUP', 'DESTROY', skey(), group()],
    () => ['XGROUP', pick(['CREATECONSUMER', 'DELCONSUMER']), skey(), group(), consumer()],
    () => [
      'XREADGROUP',
      'GROUP',
      group(),
      consumer(),
      'COUNT',
      String(int(1, 4)),
      'STREAMS',
      skey(),
      '>',
    ],
    () => ['XREADGROUP', 'GROUP', group(), consumer(), 'NOACK', 'STREAMS', skey(), '>'],
    () => ['XREADGROUP', 'GROUP', group(), consumer(), 'STREAMS', skey(), pick(['0', oldId()])],
    () => ['XACK', skey(), group(), oldId(), oldId()],
    () => ['XPENDING', skey(), group()],
    () => ['XPENDING', skey(), group(), sbound(), sbound(), String(int(0, 5)), consumer()],
    () => ['XPENDING', skey(), group(), 'IDLE', '3600000', '-', '+', '10'],
    () => [
      'XCLAIM',
      skey(),
      group(),
      consumer(),
      pick(['0', '3600000']),
      oldId(),
      oldId(),
      ...pick([[], ['JUSTID'], ['FORCE'], ['RETRYCOUNT', '5'], ['LASTID', oldId()]]),
    ],
    () => ['XAUTOCLAIM', skey(), group(), consumer(), '0', sbound(), 'COUNT', String(int(1, 3))],
    () => ['XINFO', 'STREAM', skey()],
    () => ['XINFO', 'GROUPS', skey()],
    () => ['XINFO', 'CONSUMERS', skey(), group()],
  ]
  // Appends outweigh the rest when only streams are written, so that streams grow.
  const all = streamsOnly
    ? [...streamOps, ...Array.from({ length: 4 }, () => streamOps.slice(0, 3)).flat()]
    : [...ops, ...streamOps]
  return () => pick(all)()
}

/** Idle times in milliseconds (they depend on when each server ran the command): left out. */
function withoutIdle(args: string[], reply: unknown): unknown {
  if (args[0] === 'XADD' && args[2] === '*' && Buffer.isBuffer(reply)) return 'an ID'
  if (!Array.isArray(reply)) return reply
  if (args[0] === 'XPENDING' && args.length > 3) {
    return reply.map((row) => (Array.isArray(row) ? [row[0], row[1], 'idle', row[3]] : row))
  }
  if (args[0] === 'XINFO' && args[1] === 'CONSUMERS') {
    return reply.map((row) => (Array.isArray(row) ? row.slice(0, -1) : row))
  }
  return reply
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
  it.each([
    [1, false],
    [7, false],
    [2024, false],
    [3, true],
    [11, true],
  ])(
    'seed %i (streams only: %s): 1500 random commands get the same replies',
    async (seed, streamsOnly) => {
      await Promise.all([real.flush(), mem.flush()])
      const next = generator(seed, streamsOnly)
      for (let i = 0; i < 1500; i++) {
        const args = next()
        const [expected, actual] = await Promise.all([send(real, args), send(mem, args)])
        const want = normalize(args[0] as string, withoutIdle(args, expected))
        const got = normalize(args[0] as string, withoutIdle(args, actual))
        expect({ i, args, reply: got }).toEqual({ i, args, reply: want })
      }
      // The whole keyspace agrees at the end, type by type.
      const keys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 's0', 's1']
      for (const key of keys) {
        const type = normalize('TYPE', await send(real, ['TYPE', key]))
        expect(normalize('TYPE', await send(mem, ['TYPE', key]))).toEqual(type)
      }
    },
  )
})

describe('memory:// streams against redis-server: macro nodes', () => {
  // Approximate trimming (~) removes whole macro nodes, which close at 100 entries or 4 KiB of
  // listpack: long streams of entries of every size and shape must be trimmed alike, and
  // XINFO STREAM (radix tree keys and nodes included) must agree after each step.
  it.each([5, 99])('seed %i: long streams are trimmed alike', async (seed) => {
    await Promise.all([real.flush(), mem.flush()])
    const rand = seededRandom(seed)
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1))
    const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)] as T
    const value = () =>
      pick([
        () => String(int(-200, 200)),
        () => String(int(-5_000_000, 5_000_000)),
        () => String(int(0, 2 ** 52)),
        () => 'x'.repeat(int(0, 80)),
        () => 'y'.repeat(int(60, 5000)),
        () => '007',
        () => '-0',
      ])()
    const fieldSets = [['f'], ['f', 'g'], ['g', 'f'], ['a', 'b', 'c'], ['12', 'h']]
    const check = async (args: string[]) => {
      const [expected, actual] = await Promise.all([send(real, args), send(mem, args)])
      expect({ args, reply: normalize(args[0] as string, actual) }).toEqual({
        args,
        reply: normalize(args[0] as string, expected),
      })
    }
    let ms = 1
    let seq = 0
    const added: string[] = []
    for (let round = 0; round < 25; round++) {
      const key = pick(['s0', 's1'])
      for (let n = int(20, 250); n > 0; n--) {
        if (rand() < 0.3) {
          ms += pick([1, 2, 1000, 100_000, 2 ** 31])
          seq = pick([0, 0, 5, 70_000])
        } else seq += pick([1, 1, 200])
        const id = `${ms}-${seq}`
        added.push(id)
        const args = ['XADD', key, id, ...pick(fieldSets).flatMap((f) => [f, value()])]
        await Promise.all([send(real, args), send(mem, args)])
      }
      for (let n = int(0, 30); n > 0; n--) await check(['XDEL', key, pick(added)])
      const length = Number(await send(real, ['XLEN', key]))
      const limit = pick([[], [], ['LIMIT', String(int(0, 300))]])
      await check(
        pick([
          ['XTRIM', key, 'MAXLEN', '~', String(int(0, length)), ...limit],
          ['XTRIM', key, 'MINID', '~', pick(added), ...limit],
          ['XTRIM', key, 'MAXLEN', String(int(length >> 1, length))],
          ['XADD', key, 'MAXLEN', '~', String(int(0, length)), ...limit, `${++ms}-0`, 'f', '1'],
        ]),
      )
      await check(['XINFO', 'STREAM', key])
      await check(['XRANGE', key, '-', '+', 'COUNT', '3'])
      await check(['XREVRANGE', key, '+', '-', 'COUNT', '3'])
    }
  })
})
