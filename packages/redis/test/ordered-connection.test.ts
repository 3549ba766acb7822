// The cache's connection as it hands it out (`cache.connection`, the lock's, the semaphore's):
// its commands go after the calls the cache is gathering in the tick, while the coalescers' own
// commands (a nil checked after an MGET, a large key read alone) go at once, as before.
import { inspect } from 'node:util'
import { type RedisServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Cache, type CreateCacheOptions, createCache } from '../src/index.ts'

let server: RedisServer
const open: Cache[] = []

function cacheFor(options: CreateCacheOptions = {}): Cache {
  const cache = createCache({ location: server.url, keyPrefix: uniquePrefix('oc'), ...options })
  open.push(cache)
  return cache
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

/** How many times the server ran each command so far (`INFO commandstats`). */
async function commandCalls(cache: Cache): Promise<Record<string, number>> {
  const info = String(await cache.connection.command(['INFO', 'commandstats'], { text: true }))
  const calls: Record<string, number> = {}
  for (const [, name, count] of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
    calls[name as string] = Number(count)
  }
  return calls
}

describe("the coalescers' own commands", () => {
  it('a get made before a set of its key does not read that set through its nil check', async () => {
    const cache = cacheFor()
    await cache.setMany({ a: 1, c: 3 })
    // Batches without a nil: the MGET then goes alone, and a nil is checked after its reply.
    for (let i = 0; i < 20; i++) await Promise.all([cache.get('a'), cache.get('c')])
    const seen: unknown[] = []
    for (let round = 0; round < 10; round++) {
      const ping = cache.connection.command(['PING'])
      const read = Promise.all([cache.get('a'), cache.get('b', 'fallback')])
      // Made after the get of b (once the PING, sent before it, is answered), and gathered while
      // that get's nil is being checked.
      let wrote: Promise<unknown> | undefined
      await ping.then(() => {
        wrote = cache.set('b', 'new')
      })
      seen.push((await read)[1])
      await wrote
      await cache.delete('b')
      for (let i = 0; i < 20; i++) await Promise.all([cache.get('a'), cache.get('c')])
    }
    expect(seen).toEqual(Array.from({ length: 10 }, () => 'fallback'))
  })

  it('gets of a large key, read alone, leave the other gets of the tick in one MGET', async () => {
    const cache = cacheFor()
    const small = Array.from({ length: 50 }, (_, i) => `s${i}`)
    await cache.setMany(Object.fromEntries(small.map((k) => [k, 'v'])))
    await cache.set('large', 'x'.repeat(20_000))
    // Read once in a batch: then known to be large, and read with a GET of its own.
    await Promise.all([cache.get('large'), cache.get('s0')])
    const before = await commandCalls(cache)
    const calls: Promise<unknown>[] = []
    for (const key of small) calls.push(cache.get(key), cache.get('large'))
    await Promise.all(calls)
    const after = await commandCalls(cache)
    const sent = (name: string) => (after[name] ?? 0) - (before[name] ?? 0)
    expect([sent('mget'), sent('get')]).toEqual([1, 50])
  })
})

describe('cache.connection', () => {
  it('flush() (FLUSHDB) goes after a set made before it in the tick', async () => {
    const cache = cacheFor()
    await Promise.all([cache.set('k', 1), cache.connection.flush()])
    expect(await cache.get('k')).toBe(null)
  })

  it('works over a frozen connection, and one whose command is a read-only property', async () => {
    const base = cacheFor()
    const real = base.connection
    const frozen = Object.freeze({
      command: (args: never, route: never) => real.command(args, route),
      batch: (commands: never, route: never) => real.batch(commands, route),
      scan: (pattern: string, count: number) => real.scan(pattern, count),
      flush: () => Promise.resolve(),
      client: () => real.client(),
      close: () => Promise.resolve(),
    })
    const readOnly = Object.create(real)
    Object.defineProperty(readOnly, 'command', {
      value: (args: never, route: never) => real.command(args, route),
    })
    for (const connection of [frozen, readOnly]) {
      const cache = new Cache({ connection, keyPrefix: uniquePrefix('oc') })
      await cache.set('k', 'v')
      expect(await cache.get('k')).toBe('v')
      expect(await cache.connection.command(['PING'])).toBe('PONG')
      await cache.close()
    }
  })

  it('is a view of the connection: its class, members and properties defined on it', async () => {
    const cache = cacheFor()
    const view = cache.connection
    expect(view).toBe(cache.connection)
    expect(view.constructor).toBe(Object.getPrototypeOf(view).constructor)
    // console.log shows the connection, not the view's blank insides.
    expect(inspect(view)).toMatch(/^StandaloneConnection /)
    expect(Reflect.ownKeys(view)).toEqual([])
    expect(() => Object.preventExtensions(view)).toThrow(TypeError)
    expect(Object.keys(view)).toEqual([])
    expect(typeof view.routesBySlot === 'boolean' || view.routesBySlot === undefined).toBe(true)
    // A member replaced through the view is the connection's: the cache's own calls use it.
    const command = view.command
    let asked = 0
    Object.defineProperty(view, 'command', {
      configurable: true,
      value: (...args: Parameters<typeof command>) => {
        asked++
        return command(...args)
      },
    })
    await cache.set('k', 1, { timeout: 0 })
    expect(asked).toBeGreaterThan(0)
  })
})
