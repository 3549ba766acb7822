// The registry is module-global state: every registry test lives in this one file, in order.
import {
  ClosedError,
  caches,
  configureCaches,
  createCache,
  getRedisConnection,
  InvalidArgumentError,
  type RedisConnectionClient,
} from '@cachex/redis'
import { freePort, standaloneServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import type { RedisClientPoolType, RedisClientType } from '@redis/client'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'

interface NodeRedis {
  sendCommand(args: string[]): Promise<unknown>
  get(key: string): Promise<string | null>
}

let server: { url: string; stop(): Promise<void> }
const prefixA = uniquePrefix('reg-a')
const prefixB = uniquePrefix('reg-b')

beforeAll(async () => {
  server = await standaloneServer()
})

afterAll(async () => {
  await caches.close()
  await server?.stop()
})

/** The error `run` throws (synchronously), or a failure when it throws none. */
function thrown(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error('expected an error, none was thrown')
}

describe('caches registry', () => {
  it('before configureCaches, get throws a clear error', () => {
    expect(() => caches.get()).toThrow(InvalidArgumentError)
    expect(() => caches.get()).toThrow(/no caches are configured.*configureCaches/)
    expect(caches.aliases()).toEqual([])
  })

  it('refuses a non-object configuration', () => {
    expect(() => configureCaches(null as unknown as Record<string, never>)).toThrow(
      InvalidArgumentError,
    )
  })

  it('refuses an alias whose options are not an object (a URL alone would mean the default server)', () => {
    for (const options of ['redis://elsewhere:6379', null, 42, []]) {
      expect(() => configureCaches({ default: options } as never)).toThrow(
        /configureCaches\(\): the alias 'default' takes an options object/,
      )
    }
    expect(() => createCache('redis://elsewhere:6379' as never)).toThrow(
      /createCache\(\) takes an options object .* got a string/,
    )
    // Nothing was configured.
    expect(caches.aliases()).toEqual([])
  })

  it('creates one cache per alias, with its options and the globals', async () => {
    const logged: string[] = []
    configureCaches(
      {
        default: { location: server.url, keyPrefix: prefixA },
        other: { location: server.url, keyPrefix: prefixB, timeout: 60, version: 3 },
      },
      { scanItersize: 2, logger: { error: (m: string) => logged.push(m) } },
    )
    expect(caches.aliases()).toEqual(['default', 'other'])
    const a = caches.get()
    expect(caches.get('default')).toBe(a)
    expect(caches.get()).toBe(a)
    const b = caches.get('other')
    expect(b).not.toBe(a)
    expect(caches.get('other')).toBe(b)
    expect(a.keyPrefix).toBe(prefixA)
    expect(b.keyPrefix).toBe(prefixB)
    expect(b.version).toBe(3)
    expect(b.defaultTimeout).toBe(60)

    await a.set('k', 'from a')
    await b.set('k', 'from b')
    expect(await a.get('k')).toBe('from a')
    expect(await b.get('k')).toBe('from b')
    const ttl = await b.ttl('k')
    expect(ttl).toBeGreaterThan(58)
    expect(ttl).toBeLessThanOrEqual(60)
    // scanItersize from the globals: keys() still finds everything across small batches.
    await a.setMany({ x1: 1, x2: 2, x3: 3, x4: 4, x5: 5 })
    expect((await a.keys('x*')).sort()).toEqual(['x1', 'x2', 'x3', 'x4', 'x5'])
  })

  it('an unknown alias throws, naming the configured ones', () => {
    expect(() => caches.get('nope')).toThrow(InvalidArgumentError)
    expect(() => caches.get('nope')).toThrow(/'nope' is not configured.*default, other/)
  })

  it('getRedisConnection resolves a working node-redis client', async () => {
    const client = (await getRedisConnection()) as NodeRedis
    expect(await client.sendCommand(['PING'])).toBe('PONG')
    expect(await client.get(caches.get().makeKey('k'))).toBe('"from a"')
    const other = (await getRedisConnection('other', { write: false })) as NodeRedis
    expect(await other.get(caches.get('other').makeKey('k'))).toBe('"from b"')
  })

  it('getRedisConnection is typed per topology, and checks the topology it is told', async () => {
    const any = await getRedisConnection()
    expectTypeOf(any).toEqualTypeOf<RedisConnectionClient>()
    // Every node-redis type has the commands: usable without a cast.
    expect(await any.get(caches.get().makeKey('k'))).toBe('"from a"')
    const client = await getRedisConnection('default', { client: 'default' })
    expectTypeOf(client).toEqualTypeOf<RedisClientType | RedisClientPoolType>()
    expect(await client.hSet(caches.get().makeKey('h'), 'f', 'v')).toBe(1)
    await expect(getRedisConnection('default', { client: 'cluster' })).rejects.toThrow(
      "getRedisConnection('default', { client: 'cluster' }): the cache 'default' runs on a node-redis client or client pool (client: 'default')",
    )
    await expect(
      getRedisConnection('other', { client: 'sentinel', write: false }),
    ).rejects.toBeInstanceOf(InvalidArgumentError)
  })

  it('getRedisConnection of an unknown alias rejects', async () => {
    await expect(getRedisConnection('nope')).rejects.toBeInstanceOf(InvalidArgumentError)
  })

  it('getRedisConnection refuses an option it does not take, a non-boolean write, options in place of the alias', async () => {
    await expect(getRedisConnection('default', { writ: false } as never)).rejects.toThrow(
      "getRedisConnection() does not take the option 'writ': did you mean 'write'?",
    )
    await expect(getRedisConnection('default', { replica: true } as never)).rejects.toThrow(
      "getRedisConnection() does not take the option 'replica' (it takes write, client)",
    )
    await expect(getRedisConnection('default', { write: 'false' } as never)).rejects.toThrow(
      "getRedisConnection(): write must be a boolean, got the string 'false'",
    )
    await expect(getRedisConnection('default', { client: 'redis' } as never)).rejects.toThrow(
      /client must be 'default', 'sentinel', 'cluster' or left out, got 'redis'/,
    )
    await expect(getRedisConnection({ write: false } as never)).rejects.toThrow(
      /takes the cache alias as a string, got an object: the alias goes first, the options second/,
    )
    await expect(getRedisConnection(42 as never)).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(getRedisConnection('default', null as never)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    )
    for (const options of [{ writ: false }, { write: 'no' }, { client: 5 }]) {
      await expect(getRedisConnection('default', options as never)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
    }
    // What it takes still works, write: false and undefined options included.
    const replica = (await getRedisConnection('default', {
      write: false,
      client: undefined,
    })) as NodeRedis
    expect(await replica.sendCommand(['PING'])).toBe('PONG')
    expect(
      await ((await getRedisConnection(undefined, undefined)) as NodeRedis).sendCommand(['PING']),
    ).toBe('PONG')
  })

  it('configureCaches while caches are in use throws', () => {
    expect(() => configureCaches({ default: { location: server.url } })).toThrow(
      /call caches.close\(\) first/,
    )
    // The old configuration is still in force.
    expect(caches.get().keyPrefix).toBe(prefixA)
  })

  it('caches.close() closes every cache; then a new configuration works', async () => {
    const before = caches.get()
    await caches.close()
    await expect(before.get('k')).rejects.toBeInstanceOf(ClosedError)

    const deadPort = await freePort()
    const prefixC = uniquePrefix('reg-c')
    configureCaches(
      {
        default: { location: server.url, keyPrefix: prefixC, ignoreExceptions: false },
        flaky: { location: `redis://127.0.0.1:${deadPort}`, socketConnectTimeout: 0.3 },
      },
      { ignoreExceptions: true },
    )
    const after = caches.get()
    expect(after).not.toBe(before)
    expect(after.keyPrefix).toBe(prefixC)
    expect(await after.get('k')).toBeNull()
    await after.set('k', 'new')
    expect(await after.get('k')).toBe('new')
    // The global ignoreExceptions applies where the alias does not set it.
    expect(await caches.get('flaky').get('k', 'fallback')).toBe('fallback')
    const client = (await getRedisConnection()) as NodeRedis
    expect(await client.get(after.makeKey('k'))).toBe('"new"')
    // Keys written under the first configuration are still there.
    expect(await client.get(`${prefixA}:1:k`)).toBe('"from a"')
  })

  it('after caches.close(), work still in flight cannot open the caches again', async () => {
    await caches.close()
    // A server of its own: its count of connections received tells whether one was opened.
    const own = await startRedis()
    const prefix = uniquePrefix('reg-shutdown')
    configureCaches({
      default: { location: own.url, keyPrefix: prefix },
      sessions: { location: own.url, keyPrefix: prefix },
      quiet: { location: own.url, keyPrefix: prefix, ignoreExceptions: true },
    })
    const quiet = caches.get('quiet')
    await caches.get().set('k', 'v')
    const received = async (): Promise<number> => {
      const info = String(await quiet.connection.command(['INFO', 'stats']))
      return Number(/total_connections_received:(\d+)/.exec(info)?.[1])
    }
    const before = await received()
    // A request handler in flight: its first call finishes, shutdown starts, then it goes on.
    let resume!: () => void
    const paused = new Promise<void>((resolve) => {
      resume = resolve
    })
    const handler = (async () => {
      const value = await caches.get().get('k')
      await paused
      return [value, await caches.get('sessions').get('k')]
    })()
    await caches.close()
    resume()
    await expect(handler).rejects.toBeInstanceOf(ClosedError)
    await expect(handler).rejects.toThrow(
      "caches.get('sessions'): the caches were closed with caches.close(); call configureCaches() to open them again",
    )
    expect(() => caches.get()).toThrow(ClosedError)
    await expect(getRedisConnection()).rejects.toBeInstanceOf(ClosedError)
    // A cache taken before the close: its calls reject, or resolve the default if it ignores errors.
    expect(await quiet.get('k', 'fallback')).toBe('fallback')

    try {
      // configureCaches() opens them again; the only connection since is the one it opens now.
      configureCaches({ default: { location: own.url, keyPrefix: prefix } })
      expect(await caches.get().get('k')).toBe('v')
      const info = String(await caches.get().connection.command(['INFO', 'stats']))
      expect(Number(/total_connections_received:(\d+)/.exec(info)?.[1])).toBe(before + 1)
    } finally {
      await caches.close()
      await own.stop()
    }
  })
})

describe('configureCaches warns when prefixes overlap on one location', () => {
  /** The warnings one configuration logs (through `warn`), nothing connected. */
  async function warnings(
    config: Parameters<typeof configureCaches>[0],
    logger: { error(m: string): void; warn?(m: string): void } | undefined = undefined,
  ): Promise<string[]> {
    await caches.close()
    const logged: string[] = []
    configureCaches(config, {
      logger: logger ?? { error: () => logged.push('error'), warn: (m) => logged.push(m) },
    })
    return logged
  }

  it('warns for equal prefixes, for ab and ab:c, and for an empty prefix', async () => {
    const url = 'redis://127.0.0.1:6390/0'
    const equal = await warnings({
      a: { location: url, keyPrefix: 'x' },
      b: { location: url, keyPrefix: 'x' },
    })
    expect(equal).toHaveLength(1)
    expect(equal[0]).toMatch(
      /'a' \(keyPrefix 'x'\) and 'b' \(keyPrefix 'x'\) share 127\.0\.0\.1:6390, database 0/,
    )

    const nested = await warnings({
      a: { location: url, keyPrefix: 'ab' },
      b: { location: url, keyPrefix: 'ab:c' },
    })
    expect(nested).toHaveLength(1)
    expect(nested[0]).toMatch(/'a'\.clear\(\) deletes 'ab:\*', which holds every key of 'b'/)
    // The other order finds it too.
    expect(
      await warnings({
        b: { location: url, keyPrefix: 'ab:c' },
        a: { location: url, keyPrefix: 'ab' },
      }),
    ).toHaveLength(1)

    const empty = await warnings({ all: { location: url }, b: { location: url, keyPrefix: 'b' } })
    expect(empty).toHaveLength(1)
    expect(empty[0]).toMatch(/'all' has no keyPrefix, so its clear\(\) runs FLUSHDB/)
  })

  it('stays silent for prefixes that do not overlap, or different databases or servers', async () => {
    const url = 'redis://127.0.0.1:6390/0'
    expect(
      await warnings({
        a: { location: url, keyPrefix: 'ab' },
        b: { location: url, keyPrefix: 'abc' },
        c: { location: url, keyPrefix: 'b:ab' },
        d: { location: 'redis://127.0.0.1:6390/1', keyPrefix: 'ab' },
        e: { location: 'redis://127.0.0.1:6391/0', keyPrefix: 'ab' },
        f: { location: 'redis://127.0.0.1:6390/2' },
      }),
    ).toEqual([])
  })

  it('compares locations as parsed: host names, default port and database, ?db=, replicas', async () => {
    const pairs: Array<[unknown, unknown]> = [
      ['redis://localhost:6379/0', 'redis://127.0.0.1'],
      [undefined, 'redis://127.0.0.1:6379/0'],
      ['redis://:secret@127.0.0.1:6390/3', 'redis://127.0.0.1:6390?db=3'],
      [['redis://127.0.0.1:6390', 'redis://127.0.0.1:6391'], 'redis://127.0.0.1:6391/0'],
      ['redis://127.0.0.1:6390,redis://127.0.0.1:6391', 'rediss://127.0.0.1:6390/0'],
      ['unix:///tmp/r.sock?db=2', 'unix:///tmp/r.sock?db=2'],
    ]
    for (const [first, second] of pairs) {
      const logged = await warnings({
        a: { location: first as string, keyPrefix: 'p' },
        b: { location: second as string, keyPrefix: 'p' },
      })
      expect(logged, `${String(first)} / ${String(second)}`).toHaveLength(1)
      expect(logged[0]).not.toMatch(/secret/)
    }
  })

  it('compares a client object by identity', async () => {
    // Shaped as a node-redis client (another object is refused as a location), never called.
    const nodeRedisLike = () => ({ sendCommand: async () => null, connect: async () => null })
    const client = nodeRedisLike()
    const same = await warnings({
      a: { location: client, keyPrefix: 'p' },
      b: { location: client, keyPrefix: 'p' },
    })
    expect(same).toHaveLength(1)
    expect(same[0]).toMatch(/the same client object/)
    expect(
      await warnings({
        a: { location: client, keyPrefix: 'p' },
        b: { location: nodeRedisLike(), keyPrefix: 'p' },
      }),
    ).toEqual([])
  })

  it("falls back to the logger's error without warn, and to console without a logger", async () => {
    const errors: string[] = []
    await warnings(
      { a: { keyPrefix: 'p' }, b: { keyPrefix: 'p' } },
      { error: (m: string) => errors.push(m) },
    )
    expect(errors).toHaveLength(1)
    const warned: unknown[] = []
    const original = console.warn
    console.warn = (...args: unknown[]) => void warned.push(args[0])
    try {
      await caches.close()
      configureCaches({ a: { keyPrefix: 'p' }, b: { keyPrefix: 'p:q' } })
    } finally {
      console.warn = original
    }
    expect(warned).toHaveLength(1)
    await caches.close()
  })
})

describe('what the warning is about, against a real server', () => {
  it("clear() on 'ab' deletes the keys of 'ab:c'; lock('k') and set('k') share one key", async () => {
    await caches.close()
    const base = uniquePrefix('ovl')
    configureCaches(
      {
        outer: { location: server.url, keyPrefix: base },
        inner: { location: server.url, keyPrefix: `${base}:c` },
      },
      { logger: { error: () => {}, warn: () => {} } },
    )
    const outer = caches.get('outer')
    const inner = caches.get('inner')
    await inner.set('k', 'inner value')
    await outer.clear()
    expect(await inner.get('k')).toBeNull()

    expect(outer.lock('user:1').name).toBe(outer.makeKey('user:1'))
    await outer.set('user:1', 'profile')
    const lock = outer.lock('user:1', { timeout: 10 })
    // The key holds a value, so SET NX fails: the lock cannot be taken.
    expect(await lock.acquire({ blocking: false })).toBe(false)
    await caches.close()
  })
})

describe('registry: aliases that name Object.prototype members', () => {
  for (const alias of ['toString', 'constructor', 'hasOwnProperty', 'valueOf', '__proto__']) {
    it(`caches.get('${alias}') and getRedisConnection('${alias}') are refused as not configured`, async () => {
      await caches.close()
      configureCaches({ default: { location: 'memory://' } })
      let cache: unknown
      let error: unknown
      try {
        cache = caches.get(alias) // never sent a command: nothing touches 127.0.0.1:6379
      } catch (e) {
        error = e
      }
      expect(cache).toBeUndefined()
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect(String(error)).toMatch(/is not configured \(configured: default\)/)
      await expect(getRedisConnection(alias)).rejects.toThrow(/is not configured/)
      await caches.close()
    })
  }

  it('an alias really named like one works', async () => {
    await caches.close()
    configureCaches(
      JSON.parse('{"toString": {"location": "memory://"}, "__proto__": {"location": "memory://"}}'),
    )
    expect(caches.aliases()).toEqual(['toString', '__proto__'])
    await caches.get('toString').set('k', 1)
    await caches.get('__proto__').set('k', 2)
    expect(await caches.get('toString').get('k')).toBe(1)
    expect(await caches.get('__proto__').get('k')).toBe(2)
    await caches.close()
  })
})

describe('registry: what configureCaches() refuses, before it configures anything', () => {
  it('a list of aliases (an array)', async () => {
    await caches.close()
    configureCaches({ before: { location: 'memory://' } })
    expect(() => configureCaches([{ location: 'memory://' }] as never)).toThrow(
      /configureCaches\(\) takes an object of cache aliases .*got an array/,
    )
    expect(caches.aliases()).toEqual(['before'])
  })

  it('a globals logger without error(), or a boolean given as a string, configuring nothing', async () => {
    await caches.close()
    configureCaches({ before: { location: 'memory://' } })
    const overlapping = {
      a: { location: 'redis://127.0.0.1:1/0', keyPrefix: 'x' },
      b: { location: 'redis://127.0.0.1:1/0' },
    }
    for (const defaults of [
      { logger: {} },
      { logger: { warn: () => undefined } },
      { ignoreExceptions: 'false' },
      { closeConnection: 'true' },
    ]) {
      const error = thrown(() => configureCaches(overlapping, defaults as never))
      expect(error, JSON.stringify(defaults)).toBeInstanceOf(InvalidArgumentError)
      expect(String(error)).toMatch(/logger|ignoreExceptions|closeConnection/)
      expect(caches.aliases()).toEqual(['before'])
    }
  })

  it("an alias's option value of the wrong kind, naming the alias", async () => {
    await caches.close()
    configureCaches({ before: { location: 'memory://' } })
    const error = thrown(() =>
      configureCaches({
        good: { location: 'memory://' },
        bad: { location: 'memory://', readFromReplicas: 'no' as never },
      }),
    )
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(String(error)).toMatch(
      /configureCaches\(\): the alias 'bad': readFromReplicas must be a boolean/,
    )
    expect(caches.aliases()).toEqual(['before'])
  })
})

describe('registry: globals under an alias that leaves an option undefined', () => {
  it('a global ignoreExceptions applies to an alias whose ignoreExceptions is undefined', async () => {
    await caches.close()
    const port = await freePort() // nothing listens there
    configureCaches(
      {
        default: {
          location: `redis://127.0.0.1:${port}/0`,
          socketConnectTimeout: 1,
          ignoreExceptions: undefined,
          logger: undefined,
        },
      },
      { ignoreExceptions: true, logger: { error: () => undefined } },
    )
    expect(await caches.get().get('k', 'fallback')).toBe('fallback')
    await caches.close()
  })
})

describe('registry: prefix overlap on a shared memory:// store', () => {
  it('warns for two aliases on one named store, not for private stores', async () => {
    await caches.close()
    const logged: string[] = []
    const logger = { error: (m: string) => logged.push(m), warn: (m: string) => logged.push(m) }
    configureCaches(
      {
        app: { location: 'memory://reg-shared', keyPrefix: 'app' },
        bare: { location: 'memory://reg-shared' },
        elsewhere: { location: 'memory://reg-other', keyPrefix: 'app' },
      },
      { logger },
    )
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatch(/'app' .* and 'bare' .* share memory store reg-shared/)
    await caches.get('app').set('k', 1)
    await caches.get('bare').clear()
    expect(await caches.get('app').get('k')).toBeNull() // what the warning is about
    await caches.close()

    logged.length = 0
    configureCaches(
      { a: { location: 'memory://' }, b: { location: 'memory://', keyPrefix: 'b' } },
      { logger },
    )
    expect(logged).toEqual([])
    await caches.close()
  })
})

describe('registry: caches.close() called twice (two shutdown hooks)', () => {
  it('the second call resolves only once every cache is closed', async () => {
    await caches.close()
    const own = await startRedis()
    try {
      configureCaches({ default: { location: own.url, socketTimeout: 2 } })
      const cache = caches.get()
      await cache.set('k', 1)
      own.pause() // a call in flight holds the first close() up to socketTimeout
      const inflight = cache.get('k').catch(() => undefined)
      await new Promise((resolve) => setTimeout(resolve, 50))
      let firstDone = false
      const first = caches.close().then(() => {
        firstDone = true
      })
      await caches.close()
      expect(firstDone, 'the second close() resolved while the caches were still closing').toBe(
        true,
      )
      await first
      await inflight
    } finally {
      own.resume()
      await own.stop()
    }
  })
})

describe('registry: a cache closed with cache.close() (as Django closes its caches after each request)', () => {
  it('caches.get() throws ClosedError saying so, never hands it out dead; configureCaches() may run again', async () => {
    await caches.close()
    const prefix = uniquePrefix('reg-user-closed')
    configureCaches({
      default: { location: server.url, keyPrefix: prefix },
      quiet: { location: server.url, keyPrefix: prefix, ignoreExceptions: true },
    })
    try {
      await caches.get('default').set('a', 1)
      await caches.get('quiet').get('a')
      // A call in flight when its own request closes the cache is answered.
      const inflight = caches.get('default').get('a')
      await caches.get('default').close()
      expect(await inflight).toBe(1)
      const error = thrown(() => caches.get('default'))
      expect(error).toBeInstanceOf(ClosedError)
      expect((error as Error).message).toMatch(
        /^caches\.get\('default'\): the cache was closed with cache\.close\(\); the registry's caches .* close with caches\.close\(\) at shutdown/,
      )
      await expect(getRedisConnection('default')).rejects.toBeInstanceOf(ClosedError)
      // Under ignoreExceptions too: not a cache quietly answering its defaults forever.
      await caches.get('quiet')[Symbol.asyncDispose]()
      expect(() => caches.get('quiet')).toThrow(ClosedError)
      // Every cache closed by its user: none is in use, so configureCaches() runs and opens them anew.
      configureCaches({ default: { location: server.url, keyPrefix: prefix } })
      expect(await caches.get('default').get('a')).toBe(1)
      // caches.close() closing a cache is not its user's: after configureCaches() it opens anew.
      const before = caches.get('default')
      await caches.close()
      configureCaches({ default: { location: server.url, keyPrefix: prefix } })
      expect(caches.get('default')).not.toBe(before)
      expect(await caches.get('default').get('a')).toBe(1)
      // A cache still open keeps configureCaches() refused.
      expect(() => configureCaches({ default: { location: server.url } })).toThrow(
        /call caches.close\(\) first/,
      )
    } finally {
      await caches.close()
    }
  })
})
