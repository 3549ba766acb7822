// createCache() and configureCaches() refuse option names they do not know, before any
// connection exists: a misspelt `keyPrefix` would otherwise leave the prefix empty, and clear()
// without a prefix is FLUSHDB (another app's keys in the same database go with it).
import { readFileSync } from 'node:fs'
import type { Connection, ConnectionFactory } from '@cachex/core'
import { lockFactory, semaphoreFactory } from '@cachex/lock'
import { freePort, type RedisServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type CacheGlobals,
  ConnectionError,
  type CreateCacheOptions,
  caches,
  configureCaches,
  createCache,
  InvalidArgumentError,
  standalone,
} from '../src/index.ts'

let server: RedisServer
/** A location where nothing listens: a connection attempt there fails. */
let nowhere: string

beforeAll(async () => {
  server = await startRedis()
  nowhere = `redis://127.0.0.1:${await freePort()}/0`
})

afterAll(async () => {
  await caches.close()
  await server?.stop()
})

/** A factory that counts the connections it builds. */
function counting(counter: { built: number }): ConnectionFactory {
  return (options): Connection => {
    counter.built++
    return standalone(options)
  }
}

/** The error `run` throws (synchronously), or a failure when it throws none. */
function thrown(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error('expected an error, none was thrown')
}

describe('createCache() refuses an option it does not know', () => {
  const cases: Array<[name: string, value: unknown, hint: RegExp]> = [
    ['keyprefix', 'app', /did you mean 'keyPrefix'\?/],
    ['url', 'redis://127.0.0.1:6379/0', /did you mean 'location'\?/],
    ['ttl', 60, /did you mean 'timeout'\?/],
    ['KEY_PREFIX', 'app', /did you mean 'keyPrefix'\?/],
    ['namespace', 'app', /did you mean 'keyPrefix'\?/],
    ['ignoreExeptions', true, /did you mean 'ignoreExceptions'\?/],
  ]

  it.each(cases)(
    "'%s' throws InvalidArgumentError naming it, before connecting",
    (name, value, hint) => {
      const counter = { built: 0 }
      const options = { location: nowhere, connectionFactory: counting(counter), [name]: value }
      const error = thrown(() => createCache(options as CreateCacheOptions))
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect(error).not.toBeInstanceOf(ConnectionError)
      const message = (error as Error).message
      expect(message).toContain(`createCache() does not take the option '${name}'`)
      expect(message).toMatch(hint)
      // No connection was built.
      expect(counter.built).toBe(0)
    },
  )

  it('an unknown name with no close match lists the options createCache() takes', () => {
    const error = thrown(() => createCache({ location: nowhere, frobnicate: 1 } as never))
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect((error as Error).message).toMatch(
      /^createCache\(\) does not take the option 'frobnicate' \(it takes location, .*keyPrefix.*\)$/,
    )
  })

  it("refuses Cache's own 'connection' (createCache builds it: connectionFactory or client)", () => {
    const error = thrown(() =>
      createCache({ location: nowhere, connection: standalone({ location: nowhere }) } as never),
    )
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect((error as Error).message).toContain("does not take the option 'connection'")
  })

  it('refuses an unknown option even when its value is undefined, and on memory://', () => {
    expect(() => createCache({ location: 'memory://', keyprefix: undefined } as never)).toThrow(
      /createCache\(\) does not take the option 'keyprefix'/,
    )
  })

  it('every option in the configuration reference is accepted', async () => {
    const docs = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8')
    const documented = [...docs.matchAll(/^\| `([a-zA-Z]+)` \| (?:`[A-Z_.]+`|—)/gm)].map(
      (m) => m[1] as string,
    )
    // The two option tables (the cache, the connection), not the per-method tables.
    expect(documented).toEqual(expect.arrayContaining(['location', 'keyPrefix', 'sentinels']))
    expect(documented.length).toBeGreaterThanOrEqual(30)
    // And the options documented elsewhere (local tier, topologies).
    for (const name of [
      ...documented,
      'local',
      'readFromReplicas',
      'clusterOptions',
      'memoryOptions',
    ]) {
      // Nothing connects until the first command, so a location where nothing listens will do.
      const cache = createCache({ location: nowhere, [name]: undefined } as CreateCacheOptions)
      await cache.close()
    }
  })
})

describe('createCache() with every kind of valid option', () => {
  it('works against a real server', async () => {
    const logged: string[] = []
    let instrumented = 0
    const prefix = uniquePrefix('valid')
    const cache = createCache({
      location: server.url,
      client: 'default',
      keyPrefix: prefix,
      version: 2,
      timeout: 120,
      keyFunction: (key, keyPrefix, version) => `${keyPrefix}:${version}:${key}`,
      reverseKeyFunction: (redisKey) => redisKey.split(':').slice(2).join(':'),
      serializer: ['pickle', 'json'],
      pickleVersion: 5,
      pickleClasses: {},
      compressor: 'zlib',
      maxValueSize: 1024 * 1024,
      ignoreExceptions: false,
      logIgnoredExceptions: true,
      logger: { error: (message) => logged.push(message), warn: (message) => logged.push(message) },
      scanItersize: 100,
      coalesceReads: false,
      lockFactory,
      semaphoreFactory,
      local: { maxEntries: 100 },
      telemetry: {
        instrument() {
          instrumented++
          return () => undefined
        },
      },
      password: undefined,
      socketConnectTimeout: 5,
      socketTimeout: 5,
      maxInFlightBytes: 1024 * 1024,
      connectionPool: undefined,
      closeConnection: false,
      clientOptions: {},
      // Options of the other topologies: accepted, and unused by this one.
      readFromReplicas: false,
      clusterOptions: {},
      sentinels: undefined,
      sentinelOptions: undefined,
      memoryOptions: undefined,
    })
    try {
      expect(instrumented).toBe(1)
      expect(await cache.set('k', { a: 1 })).toBe(true)
      expect(await cache.get('k')).toEqual({ a: 1 })
      expect(await cache.ttl('k')).toBeGreaterThan(100)
      expect(await cache.keys('*')).toEqual(['k'])
      await using lock = await cache.acquireLock('l', { timeout: 5 })
      expect(lock).toBeDefined()
    } finally {
      await cache.close()
    }
    expect(logged).toEqual([])
  })
})

describe('configureCaches() refuses names it does not know', () => {
  it("refuses an alias's unknown option, naming the alias and the option, and configures nothing", () => {
    const counter = { built: 0 }
    const error = thrown(() =>
      configureCaches({
        default: { location: nowhere, keyPrefix: 'a', connectionFactory: counting(counter) },
        sessions: {
          location: nowhere,
          keyprefix: 'b',
          connectionFactory: counting(counter),
        } as CreateCacheOptions,
      }),
    )
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect((error as Error).message).toBe(
      "configureCaches(): the alias 'sessions' does not take the option 'keyprefix': did you mean 'keyPrefix'?",
    )
    expect(caches.aliases()).toEqual([])
    expect(counter.built).toBe(0)
  })

  it('refuses an unknown default (the globals argument)', () => {
    const error = thrown(() =>
      configureCaches({ default: { location: nowhere } }, {
        ignoreExeptions: true,
      } as CacheGlobals),
    )
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect((error as Error).message).toBe(
      "configureCaches() does not take the default 'ignoreExeptions': did you mean 'ignoreExceptions'?",
    )
    expect(caches.aliases()).toEqual([])
  })

  it("refuses as a default a cache option that is not one (keyPrefix is each alias's own)", () => {
    const error = thrown(() =>
      configureCaches({ default: { location: nowhere } }, { keyPrefix: 'app' } as CacheGlobals),
    )
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect((error as Error).message).toMatch(
      /^configureCaches\(\) does not take the default 'keyPrefix' \(it takes connectionFactory, .*\): set it on each alias$/,
    )
    expect(caches.aliases()).toEqual([])
  })

  it('refuses defaults that are not an object', () => {
    for (const defaults of ['ignoreExceptions', 1, []]) {
      expect(() => configureCaches({ default: { location: nowhere } }, defaults as never)).toThrow(
        /configureCaches\(\) takes the registry-wide defaults as an object .* got /,
      )
    }
    expect(caches.aliases()).toEqual([])
  })

  it('accepts every documented default and alias option, and the caches work', async () => {
    const counter = { built: 0 }
    const logged: string[] = []
    const prefix = uniquePrefix('reg')
    configureCaches(
      {
        default: { location: server.url, keyPrefix: `${prefix}-a`, timeout: 60 },
        other: { location: server.url, keyPrefix: `${prefix}-b`, version: 3 },
      },
      {
        connectionFactory: counting(counter),
        ignoreExceptions: false,
        logIgnoredExceptions: true,
        logger: { error: (message) => logged.push(message) },
        closeConnection: false,
        scanItersize: 50,
        telemetry: { instrument: () => () => undefined },
      },
    )
    expect(caches.aliases()).toEqual(['default', 'other'])
    await caches.get('default').set('k', 1)
    await caches.get('other').set('k', 2)
    expect(await caches.get('default').get('k')).toBe(1)
    expect(await caches.get('other').get('k')).toBe(2)
    expect(counter.built).toBe(2)
    expect(logged).toEqual([])
    await caches.close()
  })
})
