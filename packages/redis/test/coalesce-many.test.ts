// Coalesced getMany (`coalesceReads`): a getMany of one tick that reads the same keys as the
// getMany just before it shares its MGET; each caller decodes its own answer.
import {
  type RedisServer,
  startCluster,
  startRedis,
  type TestCluster,
  uniquePrefix,
} from '@cachex/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  Cache,
  type CreateCacheOptions,
  createCache,
  defineSerializer,
  keySlot,
  SerializationError,
} from '../src/index.ts'
import { commandsDuring, raw } from './helpers.ts'

let server: RedisServer
const open: Cache[] = []

function cacheFor(options: CreateCacheOptions = {}): Cache {
  const cache = createCache({ location: server.url, keyPrefix: uniquePrefix('cm'), ...options })
  open.push(cache)
  return cache
}

/** The MGETs and GETs the server ran while `fn` ran. */
function reads(cache: Cache, fn: () => Promise<unknown>): Promise<string[][]> {
  return commandsDuring(server.port, ['GET', 'MGET'], fn, (args) => raw(cache, ...args))
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

const keys = Array.from({ length: 20 }, (_, i) => `k${i}`)
const expected = new Map(keys.map((k, i) => [k, { i }]))

describe('coalesced getMany on one server', () => {
  it('sends the getManys of one tick on the same keys as one MGET per 128 callers, each caller its own Map and values', async () => {
    const cache = cacheFor()
    await cache.setMany(Object.fromEntries(expected))
    let results: Map<string, unknown>[] = []
    const commands = await reads(cache, async () => {
      results = await Promise.all(Array.from({ length: 200 }, () => cache.getMany(keys)))
    })
    // 128 callers at most share one MGET (each counts in maxInFlightBytes): 200 are two.
    const mget = ['MGET', ...keys.map((k) => cache.makeKey(k))]
    expect(commands).toEqual([mget, mget])
    for (const found of results) expect(found).toEqual(expected)
    // No two callers share a Map or a value: one caller's change is not another's.
    expect(new Set(results).size).toBe(200)
    expect(new Set(results.map((found) => found.get('k0'))).size).toBe(200)
  })

  it('compares only with the getMany just before: other keys, order or versions send their own MGET', async () => {
    const cache = cacheFor()
    await cache.setMany({ a: 'A', b: 'B' })
    await cache.set('a', 'A2', { version: 2 })
    let results: unknown[] = []
    const commands = await reads(cache, async () => {
      results = await Promise.all([
        cache.getMany(['a', 'b']),
        cache.getMany(['a', 'b']),
        cache.getMany(['b', 'a']),
        cache.getMany(['a', 'b']),
        cache.getMany(['a']),
        cache.getMany(['a'], { version: 2 }),
        cache.getMany(['a'], { version: 2 }),
      ])
    })
    expect(results.map((found) => [...(found as Map<string, unknown>)])).toEqual([
      [
        ['a', 'A'],
        ['b', 'B'],
      ],
      [
        ['a', 'A'],
        ['b', 'B'],
      ],
      [
        ['b', 'B'],
        ['a', 'A'],
      ],
      [
        ['a', 'A'],
        ['b', 'B'],
      ],
      [['a', 'A']],
      [['a', 'A2']],
      [['a', 'A2']],
    ])
    const [a, b, a2] = [cache.makeKey('a'), cache.makeKey('b'), cache.makeKey('a', 2)]
    expect(commands).toEqual([
      ['MGET', a, b],
      ['MGET', b, a],
      ['MGET', a, b],
      ['MGET', a],
      ['MGET', a2],
    ])
  })

  it('a call made between two getManys of the same keys in one tick is not overtaken, nor skipped', async () => {
    const cache = cacheFor()
    await cache.setMany({ x: 'old', y: 'y' })
    // A coalesced write, a command sent at once, and a coalesced get between two getManys.
    const [before, , afterSet] = await Promise.all([
      cache.getMany(['x', 'y']),
      cache.set('x', 'new'),
      cache.getMany(['x', 'y']),
    ])
    expect(before.get('x')).toBe('old')
    expect(afterSet.get('x')).toBe('new')
    const [stillThere, , afterDelete] = await Promise.all([
      cache.getMany(['x', 'y']),
      cache.delete('x'),
      cache.getMany(['x', 'y']),
    ])
    expect([...stillThere.keys()]).toEqual(['x', 'y'])
    expect([...afterDelete.keys()]).toEqual(['y'])
    let results: unknown[] = []
    const commands = await reads(cache, async () => {
      results = await Promise.all([cache.getMany(['y']), cache.get('y'), cache.getMany(['y'])])
    })
    expect(results).toEqual([new Map([['y', 'y']]), 'y', new Map([['y', 'y']])])
    const y = cache.makeKey('y')
    expect(commands).toEqual([
      ['MGET', y],
      ['GET', y],
      ['MGET', y],
    ])
  })

  it('callers of one MGET do not share bytes: msgpack bin, a serializer returning them, one working in place', async () => {
    const bytes = defineSerializer({
      name: 'bytes',
      serialize: (value: unknown) => Buffer.from(value as Buffer),
      deserialize: (data: Buffer) => data,
    })
    for (const serializer of ['msgpack', bytes] as const) {
      const cache = cacheFor({ serializer })
      await cache.setMany({ bin: Buffer.from('hello'), other: Buffer.from('o') })
      const [first, second] = (await Promise.all([
        cache.getMany(['bin', 'other']),
        cache.getMany(['bin', 'other']),
      ])) as Map<string, Uint8Array>[]
      ;(first?.get('bin') as Uint8Array)[0] = 0x4a // one caller changes what it got
      expect(Buffer.from(second?.get('bin') as Uint8Array).toString()).toBe('hello')
    }
    // Unmasks its input in place (XOR), as a decoder that reuses its buffer may.
    const masked = defineSerializer({
      name: 'masked',
      serialize: (value: unknown) =>
        Buffer.from(Buffer.from(JSON.stringify(value)).map((b) => b ^ 0x5a)),
      deserialize: (data: Buffer) => {
        for (let i = 0; i < data.length; i++) data[i] = (data[i] as number) ^ 0x5a
        return JSON.parse(data.toString())
      },
    })
    const cache = cacheFor({ serializer: masked })
    await cache.setMany({ m: { n: 1 }, o: 2 })
    const all = await Promise.all(Array.from({ length: 3 }, () => cache.getMany(['m', 'o'])))
    for (const found of all)
      expect(found).toEqual(
        new Map<string, unknown>([
          ['m', { n: 1 }],
          ['o', 2],
        ]),
      )
  })

  it('callers of one MGET each meet its errors: an undecodable value rejects each, naming its key', async () => {
    const cache = cacheFor()
    await cache.set('good', 1)
    await raw(cache, 'SET', cache.makeKey('junk'), '\x00\xffnot json')
    const results = await Promise.allSettled(
      Array.from({ length: 3 }, () => cache.getMany(['good', 'junk'])),
    )
    for (const result of results) {
      expect(result.status).toBe('rejected')
      const error = (result as PromiseRejectedResult).reason
      expect(error).toBeInstanceOf(SerializationError)
      expect(String(error.message)).toContain("'junk'")
    }
    // The key alone still reads: the error was the value's, not the call's.
    expect(await cache.getMany(['good'])).toEqual(new Map([['good', 1]]))
  })

  it('a getMany with read events reports each key of each caller', async () => {
    const cache = cacheFor()
    await cache.set('h', 1)
    const seen: string[] = []
    cache.on('hit', (event) => seen.push(`hit ${event.key}`))
    cache.on('miss', (event) => seen.push(`miss ${event.key}`))
    const results = await Promise.all([cache.getMany(['h', 'm']), cache.getMany(['h', 'm'])])
    expect(results).toEqual([new Map([['h', 1]]), new Map([['h', 1]])])
    expect(seen).toEqual(['hit h', 'miss m', 'hit h', 'miss m'])
  })

  it('a custom connection whose command() answers with a plain value: getMany still resolves', async () => {
    const base = cacheFor()
    const real = base.connection
    // Breaks the Connection type (command must return a Promise), as a hand-written one may.
    const connection = Object.create(real)
    connection.command = (args: string[], route: unknown) =>
      args[0] === 'MGET'
        ? args.slice(1).map(() => null)
        : real.command(args as never, route as never)
    for (const coalesceReads of [true, false]) {
      const cache = new Cache({ connection, coalesceReads })
      expect(await cache.getMany(['a', 'b'])).toEqual(new Map())
    }
  })

  it('coalesceReads: false sends one MGET per getMany', async () => {
    const cache = cacheFor({ coalesceReads: false })
    await cache.set('x', 'v')
    const commands = await reads(cache, async () => {
      expect(await Promise.all([cache.getMany(['x']), cache.getMany(['x'])])).toEqual([
        new Map([['x', 'v']]),
        new Map([['x', 'v']]),
      ])
    })
    expect(commands).toEqual([
      ['MGET', cache.makeKey('x')],
      ['MGET', cache.makeKey('x')],
    ])
  })
})

describe('coalesced getMany on a cluster', () => {
  let cluster: TestCluster

  beforeAll(async () => {
    cluster = await startCluster()
  }, 120_000)

  afterAll(async () => {
    await cluster?.stop()
  })

  it('callers of the same keys over several slots each get every value', async () => {
    const cache = createCache({ client: 'cluster', location: cluster.seeds })
    open.push(cache)
    const spread = Array.from({ length: 30 }, (_, i) => `spread${i}`)
    const slots = new Set(spread.map((k) => keySlot(cache.makeKey(k))))
    expect(slots.size).toBeGreaterThan(1)
    const values = new Map(spread.map((k, i) => [k, i]))
    await cache.setMany(Object.fromEntries(values))
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.getMany(spread)))
    for (const found of results) expect(found).toEqual(values)
  })
})
