// A `setMany` with a timeout goes to Redis as scripts of at most 1,000 keys each, sent at once:
// one script of all its keys (300,000 of them) held the server for a second or more, every other
// client waiting on it (answered `BUSY Redis is busy running a script` past
// `busy-reply-threshold`). A small one is still one script.
import { Worker } from 'node:worker_threads'
import {
  type RedisServer,
  redisCall,
  startCluster,
  startRedis,
  type TestCluster,
  uniquePrefix,
} from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache, ResponseError } from '../src/index.ts'

let server: RedisServer
let cache: Cache
const others: Cache[] = []

beforeAll(async () => {
  server = await startRedis()
  // A generous socketTimeout: the 300,000-key setMany takes seconds of server time on a loaded
  // machine, and what is measured is how long the other clients wait, not this call.
  cache = createCache({
    location: server.url,
    keyPrefix: uniquePrefix('chunks'),
    socketTimeout: 60,
  })
  await untilScripted(cache)
  // Every command, on the keys `app:1:ok*` only; and a user whose scripting a test revokes.
  await redisCall(server.url, ['ACL', 'SETUSER', 'part', 'on', '>part-pw', '~app:1:ok*', '+@all'])
  await redisCall(server.url, ['ACL', 'SETUSER', 'revoked', 'on', '>revoked-pw', '~app:*', '+@all'])
}, 60_000)

afterAll(async () => {
  await cache?.close()
  for (const other of others) await other.close()
  await server?.stop()
})

/** A server statistic from `INFO commandstats`: `calls` or `usec_per_call` of `command`. */
async function commandStat(command: string, stat: 'calls' | 'usec_per_call'): Promise<number> {
  const info = String(await redisCall(server.url, ['INFO', 'commandstats']))
  const match = new RegExp(`cmdstat_${command}:.*\\b${stat}=([\\d.]+)`).exec(info)
  return match === null ? 0 : Number(match[1])
}

/** Scripts the server ran: `EVAL` and `EVALSHA` calls. */
async function scriptCalls(): Promise<number> {
  return (await commandStat('eval', 'calls')) + (await commandStat('evalsha', 'calls'))
}

/**
 * Until `cache` sends its `setMany`s with a timeout as scripts (a fresh cache sends a pipeline of
 * `SET … PX`, and asks once it is answered whether its user may run scripts): until one of 20
 * keys (named `prefix` and a number) runs an `MSET` on the server at `url` (the script's; the
 * pipeline has none).
 */
async function untilScripted(cache: Cache, url = server.url, prefix = 'okwarm'): Promise<void> {
  const msets = async () => {
    const info = String(await redisCall(url, ['INFO', 'commandstats']))
    return Number(/cmdstat_mset:calls=(\d+)/.exec(info)?.[1] ?? 0)
  }
  const entries = numbered(prefix, 0, 20)
  for (let i = 0; i < 100; i++) {
    const before = await msets()
    await cache.setMany(entries, 600)
    if ((await msets()) > before) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('the cache never sent its setMany as a script')
}

/**
 * Another client of the server, on a thread of its own (this one's event loop is busy encoding
 * the entries): a `PING` every 10 ms on one connection; `stop()` resolves the longest wait for a
 * reply in milliseconds, and how many replies came.
 */
function pinger(port: number): { stop(): Promise<{ longest: number; pings: number }> } {
  const worker = new Worker(
    `
const { Socket } = require('node:net')
const { parentPort } = require('node:worker_threads')
const socket = new Socket()
let longest = 0, pings = 0, sentAt = 0, stopping = false
const ping = () => { sentAt = performance.now(); socket.write('PING\\r\\n') }
socket.on('data', () => {
  longest = Math.max(longest, performance.now() - sentAt)
  pings++
  if (stopping) { parentPort.postMessage({ longest, pings }); socket.destroy(); return }
  setTimeout(ping, 10)
})
socket.connect(${port}, '127.0.0.1', ping)
parentPort.on('message', () => { stopping = true })
`,
    { eval: true },
  )
  return {
    stop: () =>
      new Promise((resolve, reject) => {
        worker.once('message', (result) => {
          void worker.terminate()
          resolve(result)
        })
        worker.once('error', reject)
        worker.postMessage('stop')
      }),
  }
}

/** `keys` and `expires` of db 0, from `INFO keyspace`. */
async function keyspace(): Promise<{ keys: number; expires: number }> {
  const info = String(await redisCall(server.url, ['INFO', 'keyspace']))
  const match = /db0:keys=(\d+),expires=(\d+)/.exec(info)
  return { keys: Number(match?.[1] ?? 0), expires: Number(match?.[2] ?? 0) }
}

describe('setMany with a timeout: scripts of a bounded number of keys', () => {
  it('300,000 keys: no other client waits long, every key stored with its expiry', async () => {
    const n = 300_000
    const entries: Record<string, number> = {}
    for (let i = 0; i < n; i++) entries[`big${i}`] = i
    const before = await keyspace()
    await redisCall(server.url, ['CONFIG', 'RESETSTAT'])
    const other = pinger(server.port)
    // The pinger's first reply before the call starts.
    await new Promise((resolve) => setTimeout(resolve, 100))
    const failed = await cache.setMany(entries, 600)
    await new Promise((resolve) => setTimeout(resolve, 50))
    const { longest, pings } = await other.stop()
    const scripts = await scriptCalls()
    const usec = Math.max(
      await commandStat('eval', 'usec_per_call'),
      await commandStat('evalsha', 'usec_per_call'),
    )
    const after = await keyspace()
    console.log(JSON.stringify({ longest: Math.round(longest), pings, scripts, usec }))
    // One script of all the keys: 2.1 s, on a loaded machine (the margin is for a busy one: the
    // script counts below are what prove the chunks).
    expect(longest).toBeLessThan(1000)
    expect(failed).toEqual([])
    expect(after.keys - before.keys).toBe(n)
    expect(after.expires).toBe(after.keys)
    expect(String(await redisCall(server.url, ['GET', `${cacheKey('big12345')}`]))).toBe('12345')
    const ttl = Number(await redisCall(server.url, ['PTTL', cacheKey(`big${n - 1}`)]))
    expect(ttl).toBeGreaterThan(500_000)
    expect(ttl).toBeLessThanOrEqual(600_000)
    // Several scripts (1,000 keys each), none holding the server long.
    expect(scripts).toBeGreaterThanOrEqual(n / 1000)
    expect(usec).toBeLessThan(100_000)
  }, 60_000)

  it('100 keys: one script', async () => {
    const entries: Record<string, number> = {}
    for (let i = 0; i < 100; i++) entries[`small${i}`] = i
    await redisCall(server.url, ['CONFIG', 'RESETSTAT'])
    expect(await cache.setMany(entries, 600)).toEqual([])
    expect(await scriptCalls()).toBe(1)
    expect(Number(await redisCall(server.url, ['PTTL', cacheKey('small99')]))).toBeGreaterThan(0)
  })

  it('1,001 keys: two scripts, every key stored', async () => {
    const entries: Record<string, number> = {}
    for (let i = 0; i < 1001; i++) entries[`edge${i}`] = i
    await redisCall(server.url, ['CONFIG', 'RESETSTAT'])
    expect(await cache.setMany(entries, 600)).toEqual([])
    expect(await scriptCalls()).toBe(2)
    const values = await cache.getMany(Object.keys(entries))
    expect(values.size).toBe(1001)
    expect(values.get('edge1000')).toBe(1000)
  })
})

/** Entries `${prefix}${from}` … `${prefix}${to - 1}`, each its number. */
function numbered(prefix: string, from: number, to: number): Record<string, number> {
  const entries: Record<string, number> = {}
  for (let i = from; i < to; i++) entries[`${prefix}${i}`] = i
  return entries
}

/** A cache as the ACL user `user`, with the key prefix `app`; scripts known to run. */
async function cacheAs(user: string, options = {}): Promise<Cache> {
  const location = server.url.replace('redis://', `redis://${user}:${user}-pw@`)
  const other = createCache({ location, keyPrefix: 'app', ...options })
  others.push(other)
  await untilScripted(other)
  return other
}

/** How many of `keys` exist. */
async function existing(keys: string[]): Promise<number> {
  return Number(await redisCall(server.url, ['EXISTS', ...keys]))
}

describe('setMany over several scripts keeps its semantics', () => {
  it('then a deleteMany of its keys, in the same tick: nothing is left', async () => {
    const entries = numbered('order', 0, 2500)
    const [failed, deleted] = await Promise.all([
      cache.setMany(entries, 600),
      cache.deleteMany(Object.keys(entries)),
    ])
    expect(failed).toEqual([])
    expect(deleted).toBe(2500)
    expect(await existing(Object.keys(entries).map(cacheKey))).toBe(0)
  })

  it('scripting revoked: rejects with the NOPERM, nothing stored, a delete after it not undone; the next goes as SET … PX', async () => {
    const revoked = await cacheAs('revoked')
    await redisCall(server.url, ['ACL', 'SETUSER', 'revoked', '-@scripting'])
    try {
      const entries = numbered('rv', 0, 2500)
      const [many, deleted] = await Promise.allSettled([
        revoked.setMany(entries, 600),
        revoked.delete('rv0'),
      ])
      expect(many.status).toBe('rejected')
      const error = (many as PromiseRejectedResult).reason
      expect(error).toBeInstanceOf(ResponseError)
      expect((error as Error).message).toMatch(/^NOPERM .*'eval.*nothing was stored/)
      expect(deleted).toEqual({ status: 'fulfilled', value: false })
      const rkeys = Object.keys(entries).map((key) => `app:1:${key}`)
      expect(await existing(rkeys)).toBe(0)
      expect(await revoked.setMany(entries, 600)).toEqual([])
      expect(await existing(rkeys)).toBe(2500)
      expect(Number(await redisCall(server.url, ['PTTL', 'app:1:rv2499']))).toBeGreaterThan(0)
    } finally {
      await redisCall(server.url, ['ACL', 'SETUSER', 'revoked', '+@scripting'])
    }
  })

  it('keys the ACL forbids in one script of three: the other scripts store theirs; rejects, or under ignoreExceptions resolves the keys not stored', async () => {
    const entries = { ...numbered('ok', 0, 1000), ...numbered('no', 0, 1000) }
    Object.assign(entries, numbered('ok', 1000, 2000))
    const part = await cacheAs('part')
    const rejected = await part.setMany(entries, 600).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(rejected).toBeInstanceOf(ResponseError)
    expect((rejected as Error).message).toMatch(/^NOPERM/)
    expect((rejected as Error).message).not.toMatch(/nothing was stored/)
    const oks = Object.keys(numbered('ok', 0, 2000)).map((key) => `app:1:${key}`)
    expect(await existing(oks)).toBe(2000)
    await redisCall(server.url, ['UNLINK', ...oks])
    const ignoring = await cacheAs('part', { ignoreExceptions: true, logger: { error() {} } })
    const failed = await ignoring.setMany(entries, 600)
    expect(failed).toEqual(Object.keys(numbered('no', 0, 1000)))
    expect(await existing(oks)).toBe(2000)
  })
})

describe('setMany over several scripts, elsewhere', () => {
  it('past maxInFlightBytes: weighed whole, as the one script was, so it runs while the connection is idle', async () => {
    const capped = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('capped'),
      maxInFlightBytes: 1024 * 1024,
    })
    others.push(capped)
    await untilScripted(capped)
    const value = 'v'.repeat(1000)
    const entries: Record<string, string> = {}
    for (let i = 0; i < 3000; i++) entries[`cap${i}`] = value
    expect(await capped.setMany(entries, 600)).toEqual([])
    expect((await capped.getMany(Object.keys(entries))).size).toBe(3000)
  })

  it('memory://: 2,500 keys stored with their expiry', async () => {
    const memory = createCache({ location: 'memory://setmany-script-chunks' })
    others.push(memory)
    const entries = numbered('m', 0, 2500)
    for (let i = 0; i < 3; i++) expect(await memory.setMany(entries, 600)).toEqual([])
    const values = await memory.getMany(Object.keys(entries))
    expect(values.size).toBe(2500)
    expect(values.get('m2499')).toBe(2499)
    expect(await memory.ttl('m2499')).toBeGreaterThan(500)
  })
})

describe('on a cluster', () => {
  let cluster: TestCluster
  let clustered: Cache

  beforeAll(async () => {
    cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
    clustered = createCache({
      client: 'cluster',
      location: [...cluster.seeds],
      keyPrefix: uniquePrefix('chunks'),
    })
  }, 90_000)

  afterAll(async () => {
    await clustered?.close()
    await cluster?.stop()
  })

  it('2,500 keys of one slot: three scripts, every key stored with its expiry', async () => {
    const entries = numbered('{t}k', 0, 2500)
    const node = await cluster.primaryFor(clustered.makeKey('{t}k0'))
    const evals = async () => {
      const info = String(await redisCall(node.url, ['INFO', 'commandstats']))
      return Number(/cmdstat_eval:calls=(\d+)/.exec(info)?.[1] ?? 0)
    }
    await untilScripted(clustered, node.url, '{t}w')
    await redisCall(node.url, ['CONFIG', 'RESETSTAT'])
    expect(await clustered.setMany(entries, 600)).toEqual([])
    expect(await evals()).toBe(3)
    const values = await clustered.getMany(Object.keys(entries))
    expect(values.size).toBe(2500)
    expect(await clustered.ttl('{t}k2499')).toBeGreaterThan(500)
  })

  it('2,500 keys over several slots: a pipeline of SET … PX, every key stored', async () => {
    const entries = numbered('spread', 0, 2500)
    expect(await clustered.setMany(entries, 600)).toEqual([])
    expect((await clustered.getMany(Object.keys(entries))).size).toBe(2500)
  })
})

/** The Redis key of the cache's `key`. */
function cacheKey(key: string): string {
  return cache.makeKey(key)
}
