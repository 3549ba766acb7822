// The per-call decompression budget: the values one call decodes may decompress to at most
// 4 × maxValueSize bytes in all. `maxValueSize` bounds one value, but a call that reads many
// (lrange, getMany, hgetall, a pipeline…) would otherwise cost n × the limit, and compression
// makes n cheap for whoever writes the data: 64 zlib values of 8 KB decompress to 512 MiB at an
// 8 MiB limit. Past the budget the call rejects with a CompressionError naming the key; exactly at
// it, it reads. Values stored uncompressed are not counted (they are already in memory as the
// reply).
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { deflateSync } from 'node:zlib'
import { type Cache, CompressionError, createCache } from '@cachex/redis'
import { standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS, type Backend, backendServer } from './helpers.ts'

const LIMIT = 1000
const BUDGET = 4 * LIMIT

/** A string whose JSON is `size` bytes (its quotes included), of letter number `i`. */
function sized(i: number, size: number): string {
  return String.fromCharCode(97 + i).repeat(size - 2)
}

/** Five values, compressed when stored, whose JSON adds up to exactly the budget. */
const AT = [LIMIT, LIMIT, LIMIT, LIMIT - 17, 17].map((size, i) => sized(i, size))
/** The same with one byte more: one byte over the budget. */
const OVER = [LIMIT, LIMIT, LIMIT, LIMIT - 16, 17].map((size, i) => sized(i, size))

/** The message of the budget's error at `where` (`key 'l'`, `key 'h' field 'f4'`). */
function overBudget(where: string): string {
  return `cannot read ${where}: zlib: the values of one call would decompress to more than ${BUDGET} bytes (4 × maxValueSize); read them in smaller calls`
}

/** The rejection of `call`, which must reject. */
async function rejection(call: Promise<unknown>): Promise<CompressionError> {
  try {
    await call
  } catch (error) {
    return error as CompressionError
  }
  throw new Error('resolved, expected a rejection')
}

describe.each(BACKENDS)('%s', (backend: Backend) => {
  let server: { url: string; stop(): Promise<void> }
  const opened: Cache[] = []
  function make(options: { maxValueSize?: number | null; compressor?: 'zlib' | 'none' } = {}) {
    const cache = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('budget'),
      compressor: 'zlib',
      maxValueSize: LIMIT,
      ...options,
    })
    opened.push(cache)
    return cache
  }
  beforeAll(async () => {
    server = await backendServer(backend)
  })
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close()))
    await server?.stop()
  })

  it('lrange: exactly at the budget reads, one byte over rejects; each value still reads', async () => {
    const c = make()
    await c.rpush('at', ...AT)
    await c.rpush('over', ...OVER)
    expect(await c.lrange('at', 0, -1)).toEqual(AT)
    const error = await rejection(c.lrange('over', 0, -1))
    expect(error).toBeInstanceOf(CompressionError)
    expect(error.message).toBe(overBudget("key 'over'"))
    // Each call has its own budget, and one value is bounded by maxValueSize alone.
    expect(await c.lrange('over', 0, 3)).toEqual(OVER.slice(0, 4))
    expect(await c.lindex('over', 4)).toBe(OVER[4])
    expect(await c.lrange('at', 0, -1)).toEqual(AT)
  })

  it('getMany: one budget for all its keys', async () => {
    const c = make()
    const at = ['a0', 'a1', 'a2', 'a3', 'a4']
    const over = ['o0', 'o1', 'o2', 'o3', 'o4']
    await c.setMany(Object.fromEntries(at.map((k, i) => [k, AT[i]])))
    await c.setMany(Object.fromEntries(over.map((k, i) => [k, OVER[i]])))
    expect([...(await c.getMany(at)).values()]).toEqual(AT)
    const error = await rejection(c.getMany(over))
    expect(error).toBeInstanceOf(CompressionError)
    expect(error.message).toBe(overBudget("key 'o4'"))
    for (let i = 0; i < 5; i++) expect(await c.get(over[i] as string)).toBe(OVER[i])
    // A key named many times is decoded once, in a getMany and in a pipeline's.
    const many = Array.from({ length: 8 }, () => 'o0')
    expect(await c.getMany(many)).toEqual(new Map([['o0', OVER[0]]]))
    const pipe = c.pipeline()
    pipe.getMany(many)
    expect(await pipe.exec()).toEqual([new Map([['o0', OVER[0]]])])
  })

  it('hgetall, hvals and hmget', async () => {
    const c = make()
    const fields = (values: string[]) => Object.fromEntries(values.map((v, i) => [`f${i}`, v]))
    await c.hset('at', fields(AT))
    await c.hset('over', fields(OVER))
    expect(await c.hgetall('at')).toEqual(fields(AT))
    expect((await c.hvals('at')).sort()).toEqual([...AT].sort())
    expect(await c.hmget('at', 'f0', 'f1', 'f2', 'f3', 'f4')).toEqual(AT)
    const all = await rejection(c.hgetall('over'))
    expect(all).toBeInstanceOf(CompressionError)
    expect(all.message).toMatch(/^cannot read key 'over' field 'f\d': zlib: the values of one call/)
    expect((await rejection(c.hvals('over'))).message).toBe(overBudget("key 'over'"))
    expect((await rejection(c.hmget('over', 'f0', 'f1', 'f2', 'f3', 'f4'))).message).toBe(
      overBudget("key 'over' field 'f4'"),
    )
    expect(await c.hget('over', 'f4')).toBe(OVER[4])
  })

  it('smembers, srandmember and sunion', async () => {
    const c = make()
    await c.sadd('at', ...AT)
    await c.sadd('over', ...OVER.slice(0, 3))
    await c.sadd('over2', ...OVER.slice(3))
    await c.sunionstore('over', 'over', 'over2')
    expect((await c.smembers('at')).sort()).toEqual([...AT].sort())
    expect(((await c.srandmember('at', 5)) as string[]).sort()).toEqual([...AT].sort())
    expect((await rejection(c.smembers('over'))).message).toBe(overBudget("key 'over'"))
    expect((await rejection(c.srandmember('over', 5))).message).toBe(overBudget("key 'over'"))
    expect((await rejection(c.sunion('over2', 'at'))).message).toBe(overBudget("key 'over2'"))
    expect(((await c.sunion('over2')) as string[]).sort()).toEqual(OVER.slice(3).sort())
  })

  it('zrange and zrangebyscore, with and without scores', async () => {
    const c = make()
    await c.zadd('at', Object.fromEntries(AT.map((v, i) => [v, i])))
    await c.zadd('over', Object.fromEntries(OVER.map((v, i) => [v, i])))
    expect(await c.zrange('at', 0, -1)).toEqual(AT)
    expect(await c.zrange('at', 0, -1, { withScores: true })).toEqual(AT.map((v, i) => [v, i]))
    expect(await c.zrangebyscore('at', '-inf', '+inf')).toEqual(AT)
    for (const call of [
      c.zrange('over', 0, -1),
      c.zrange('over', 0, -1, { withScores: true }),
      c.zrevrange('over', 0, -1),
      c.zrangebyscore('over', '-inf', '+inf'),
      c.zrevrangebyscore('over', '+inf', '-inf', { withScores: true }),
    ]) {
      expect((await rejection(call)).message).toBe(overBudget("key 'over'"))
    }
    expect(await c.zrange('over', 4, 4)).toEqual([OVER[4]])
  })

  it('xrange, and xread of two streams under one budget', async () => {
    const c = make()
    for (const v of AT) await c.xadd('at', { v })
    for (const v of OVER.slice(0, 3)) await c.xadd('over', { v })
    for (const v of OVER.slice(3)) await c.xadd('over2', { v })
    expect((await c.xrange('at')).map((e) => e.fields.v)).toEqual(AT)
    const first = await c.xread({ over: '0' })
    expect(first[0]?.entries.map((e) => e.fields.v)).toEqual(OVER.slice(0, 3))
    const error = await rejection(c.xread({ over: '0', over2: '0' }))
    expect(error).toBeInstanceOf(CompressionError)
    expect(error.message).toMatch(
      /^cannot read key 'over2' field 'v': zlib: the values of one call would decompress to more than 4000 bytes \(4 × maxValueSize\); read them in smaller calls \(entry \d+-\d+ of stream 'over2'/,
    )
    expect(error.entryId).toMatch(/^\d+-\d+$/)
  })

  it('scans: one budget per page', async () => {
    const c = make()
    await c.sadd('s', ...OVER)
    await c.hset('h', Object.fromEntries(OVER.map((v, i) => [`f${i}`, v])))
    await c.zadd('z', Object.fromEntries(OVER.map((v, i) => [v, i])))
    const drain = async (items: AsyncIterable<unknown>) => {
      for await (const _ of items) void _
    }
    // One page holds them all: its values are decoded under one budget.
    for (const items of [
      c.sscan('s', { count: 1000 }),
      c.hscan('h', { count: 1000 }),
      c.zscan('z', { count: 1000 }),
    ]) {
      const error = await rejection(drain(items))
      expect(error).toBeInstanceOf(CompressionError)
      expect(error.message).toMatch(
        /^cannot read key '[shz]'(?: field 'f\d')?: zlib: the values of one call/,
      )
    }
  })

  it('pops reject carrying every value removed, the one past the budget as stored bytes', async () => {
    const c = make()
    await c.rpush('l', ...OVER)
    const error = await rejection(c.lpop('l', 5))
    expect(error).toBeInstanceOf(CompressionError)
    expect(error.message).toBe(
      `${overBudget("key 'l'")}; lpop removed 5 values from key 'l' all the same: every one is in this error's removed (as stored bytes where unreadable)`,
    )
    expect(error.removed?.slice(0, 4)).toEqual(OVER.slice(0, 4))
    expect(Buffer.isBuffer(error.removed?.[4])).toBe(true)
    await c.zadd('z', Object.fromEntries(OVER.map((v, i) => [v, i])))
    const pairs = await rejection(c.zpopmin('z', 5))
    expect(pairs.removed?.slice(0, 4)).toEqual(OVER.slice(0, 4).map((v, i) => [v, i]))
    await c.rpush('at', ...AT)
    expect(await c.rpop('at', 5)).toEqual([...AT].reverse())
  })

  it('a pipeline or transaction: one budget for all its calls', async () => {
    const c = make()
    const keys = ['k0', 'k1', 'k2', 'k3', 'k4']
    await c.setMany(Object.fromEntries(keys.map((k, i) => [k, AT[i]])))
    const gets = (pipe: ReturnType<Cache['pipeline']>): Promise<unknown[]> => {
      for (const k of keys) pipe.get(k)
      return pipe.exec()
    }
    expect(await gets(c.pipeline())).toEqual(AT)
    await c.set('k3', OVER[3])
    for (const pipe of [c.pipeline(), c.transaction()]) {
      const results = await gets(pipe)
      expect(results.slice(0, 4)).toEqual(OVER.slice(0, 4))
      expect(results[4]).toBeInstanceOf(CompressionError)
      expect((results[4] as Error).message).toBe(overBudget("key 'k4'"))
    }
    // Calls of many values count against the same budget.
    await c.rpush('l', ...OVER.slice(0, 3))
    const [list, one, two] = await c.pipeline().lrange('l', 0, -1).get('k3').get('k4').exec()
    expect(list).toEqual(OVER.slice(0, 3))
    expect(one).toBe(OVER[3])
    expect((two as Error).message).toBe(overBudget("key 'k4'"))
  })

  it('no budget with maxValueSize: null; values stored uncompressed do not count', async () => {
    const open = make({ maxValueSize: null })
    await open.rpush('l', ...OVER, ...OVER)
    expect(await open.lrange('l', 0, -1)).toEqual([...OVER, ...OVER])
    const keyPrefix = uniquePrefix('budget')
    const plain = createCache({
      location: server.url,
      keyPrefix,
      compressor: 'none',
      maxValueSize: LIMIT,
    })
    const zlib = createCache({
      location: server.url,
      keyPrefix,
      compressor: 'zlib',
      maxValueSize: LIMIT,
    })
    opened.push(plain, zlib)
    await plain.rpush('l', ...OVER, ...OVER)
    // Read raw by the zlib cache (as Django reads them): already in memory as the reply.
    expect(await zlib.lrange('l', 0, -1)).toEqual([...OVER, ...OVER])
  })
})

describe('in a process with a 384 MB heap', () => {
  let server: { url: string; stop(): Promise<void> }
  beforeAll(async () => {
    server = await standaloneServer()
  })
  afterAll(async () => {
    await server?.stop()
  })

  /** Runs the child script with a small heap; resolves its exit code and output. */
  function child(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
    const root = fileURLToPath(new URL('../../..', import.meta.url))
    const script = fileURLToPath(new URL('./_decompression-budget-child.ts', import.meta.url))
    const proc = spawn(
      process.execPath,
      [
        '--max-old-space-size=384',
        '--conditions=@cachex/source',
        '--import',
        'tsx',
        script,
        ...args,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    let err = ''
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk
    })
    proc.stderr.on('data', (chunk: Buffer) => {
      err += chunk
    })
    return new Promise((resolve) => proc.on('exit', (code) => resolve({ code, out, err })))
  }

  it('64 zlib values of 8 KB that decompress to 8 MiB each: the calls reject, the process lives', async () => {
    const prefix = uniquePrefix('budget')
    const client = createClient({ url: server.url })
    await client.connect()
    // JSON of 8 MiB (maxValueSize exactly), stored as about 8 KB of zlib.
    const value = deflateSync(Buffer.from(JSON.stringify('a'.repeat(8 * 1024 * 1024 - 2))))
    expect(value.length).toBeLessThan(10_000)
    for (let i = 0; i < 64; i++) {
      await client.rPush(`${prefix}:1:list`, value)
      await client.hSet(`${prefix}:1:hash`, `f${i}`, value)
      await client.set(`${prefix}:1:k${i}`, value)
    }
    await client.close()
    const { code, out, err } = await child([server.url, prefix])
    const message = (where: string) =>
      `rejected CompressionError: cannot read ${where}: zlib: the values of one call would decompress to more than ${4 * 8 * 1024 * 1024} bytes (4 × maxValueSize); read them in smaller calls`
    expect({ code, err: err.slice(0, 500) }).toEqual({ code: 0, err: '' })
    const lines = out.trim().split('\n')
    expect(lines[0]).toBe(`lrange: ${message("key 'list'")}`)
    expect(lines[1]).toBe(`getMany: ${message("key 'k4'")}`)
    expect(lines[2]).toMatch(
      /^hgetall: rejected CompressionError: cannot read key 'hash' field 'f\d+': zlib: the values of one call/,
    )
    expect(lines.slice(3)).toEqual([
      `get: ${8 * 1024 * 1024 - 2} lindex: ${8 * 1024 * 1024 - 2}`,
      'done',
    ])
  }, 120_000)
})
