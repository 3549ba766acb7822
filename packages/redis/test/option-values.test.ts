// Option values createCache() checks before anything is built: a boolean option given as a string
// (`'false'`, from an environment variable or a JSON file) would otherwise mean true, and a logger
// without error() would turn every ignored error into an untyped TypeError.
import { Cache } from '@cachex/core'
import { freePort, type RedisServer, startRedis } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  caches,
  cluster as clusterFactory,
  configureCaches,
  createCache,
  InvalidArgumentError,
  memory,
  replica as replicaFactory,
  sentinel as sentinelFactory,
  standalone as standaloneFactory,
} from '../src/index.ts'

let server: RedisServer

beforeAll(async () => {
  server = await startRedis()
})

afterAll(async () => {
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

describe('boolean options', () => {
  const names = ['ignoreExceptions', 'logIgnoredExceptions', 'closeConnection', 'readFromReplicas']

  for (const name of names) {
    it(`${name}: a value that is not a boolean is refused, naming it`, () => {
      for (const value of ['false', 'true', 0, 1, null, {}]) {
        const error = thrown(() => createCache({ location: server.url, [name]: value } as never))
        expect(error, `${name}: ${String(value)}`).toBeInstanceOf(InvalidArgumentError)
        expect((error as Error).message).toMatch(new RegExp(`^${name} must be a boolean, got `))
      }
    })
  }

  it('on every topology, memory:// and a client handed in alike', () => {
    const client = createClient({ url: server.url })
    for (const options of [
      { location: 'memory://', ignoreExceptions: 'false' },
      { client: 'cluster', location: [server.url], readFromReplicas: 'false' },
      { location: [server.url, server.url], readFromReplicas: 'yes' },
      {
        client: 'sentinel',
        location: 'redis://mymaster/0',
        sentinels: [['127.0.0.1', 1]],
        readFromReplicas: 'no',
      },
      { location: client, closeConnection: 'false' },
    ]) {
      expect(() => createCache(options as never)).toThrow(InvalidArgumentError)
    }
    expect(client.isOpen).toBe(false)
  })

  it('true, false and undefined are taken', async () => {
    for (const value of [true, false, undefined]) {
      const cache = createCache({
        location: `${server.url}/0`,
        ignoreExceptions: value,
        logIgnoredExceptions: value,
        closeConnection: value,
        readFromReplicas: value,
      })
      await cache.set('k', 1)
      expect(await cache.get('k')).toBe(1)
      await cache.close()
    }
  })

  it("closeConnection: 'false' never closes a handed-in client (it is refused)", async () => {
    const client = createClient({ url: server.url })
    await client.connect()
    try {
      expect(() => createCache({ location: client, closeConnection: 'false' } as never)).toThrow(
        /closeConnection must be a boolean/,
      )
      expect(client.isOpen).toBe(true)
    } finally {
      await client.close()
    }
  })

  it('a Cache built directly checks its own boolean options too', () => {
    const connection = memory({ location: 'memory://' })
    for (const name of ['ignoreExceptions', 'logIgnoredExceptions']) {
      const error = thrown(() => new Cache({ connection, [name]: 'false' } as never))
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect((error as Error).message).toMatch(new RegExp(`^${name} must be a boolean`))
    }
  })
})

describe('logger', () => {
  it('without error() is refused at createCache, naming logger', () => {
    for (const logger of [{}, { warn: () => undefined }, { error: 'console' }, 'console', 42]) {
      const error = thrown(() => createCache({ location: server.url, logger } as never))
      expect(error, JSON.stringify(logger)).toBeInstanceOf(InvalidArgumentError)
      expect((error as Error).message).toMatch(/^logger must be an object with an error\(\) method/)
    }
  })

  it('with a warn that is not a function is refused', () => {
    const error = thrown(() =>
      createCache({ location: server.url, logger: { error: () => undefined, warn: 1 } } as never),
    )
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect((error as Error).message).toMatch(/logger\.warn/)
  })

  it('a Cache built directly refuses it too', () => {
    const connection = memory({ location: 'memory://' })
    const error = thrown(() => new Cache({ connection, logger: {} } as never))
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect((error as Error).message).toMatch(/^logger must be/)
  })

  it('with error() and no warn() logs the ignored errors', async () => {
    const logged: string[] = []
    const cache = createCache({
      location: `redis://127.0.0.1:${await freePort()}/0`,
      socketConnectTimeout: 1,
      ignoreExceptions: true,
      logIgnoredExceptions: true,
      logger: { error: (message: string) => void logged.push(message) },
    })
    expect(await cache.get('k', 'fallback')).toBe('fallback')
    await cache.close()
    expect(logged.length).toBeGreaterThan(0)
  })
})

describe('sentinelOptions', () => {
  const sentinel = (sentinelOptions: object) => ({
    client: 'sentinel' as const,
    location: 'redis://mymaster/0',
    sentinels: [['127.0.0.1', 1]] as Array<[string, number]>,
    sentinelOptions,
  })

  it('an unknown name is refused, naming it and the one meant', () => {
    for (const [name, meant] of [
      ['waitForPrimay', 'waitForPrimary'],
      ['pasword', 'password'],
      ['replicaPoolsize', 'replicaPoolSize'],
    ]) {
      const error = thrown(() => createCache(sentinel({ [name as string]: true }) as never))
      expect(error, name).toBeInstanceOf(InvalidArgumentError)
      expect((error as Error).message).toContain(`'${name}'`)
      expect((error as Error).message).toContain(`did you mean '${meant}'`)
    }
    const error = thrown(() => createCache(sentinel({ zzzzzzzz: 1 }) as never))
    expect((error as Error).message).toMatch(/sentinelOptions does not take 'zzzzzzzz' \(it takes/)
  })

  it('every documented name is taken', async () => {
    const cache = createCache(
      sentinel({
        password: 'x',
        username: 'u',
        tls: false,
        socket: { keepAlive: true },
        clientOptions: { name: 'sentinels' },
        replicaPoolSize: 1,
        masterPoolSize: 1,
        scanInterval: 0,
        waitForPrimary: false,
      }),
    )
    await cache.close()
  })
})

describe('credentials', () => {
  // `password: 123456` from a JSON config, or `Number(process.env.REDIS_PASSWORD)`: node-redis
  // sends only strings, so every call failed with a ConnectionError "could not connect" (and,
  // under ignoreExceptions, the cache quietly never worked).
  const SECRET = 987654321
  // `null` is taken as no password (a JSON config's `"password": null`), as before.
  const wrong = [SECRET, true, {}, [String(SECRET)], Buffer.from(String(SECRET))]
  const kind = (value: unknown): string =>
    Buffer.isBuffer(value)
      ? 'a Buffer'
      : Array.isArray(value)
        ? 'an array'
        : typeof value === 'object'
          ? 'an object'
          : `a ${typeof value}`
  let secured: RedisServer

  beforeAll(async () => {
    secured = await startRedis({ args: ['--requirepass', String(SECRET)] })
  })

  afterAll(async () => {
    await secured?.stop()
  })

  /** The sentinel options of a cache, `sentinelOptions` set. */
  const sentinel = (sentinelOptions: object) => ({
    client: 'sentinel',
    location: 'redis://mymaster/0',
    sentinels: [['127.0.0.1', 1]],
    sentinelOptions,
  })

  const cases: Array<[string, (value: unknown) => object]> = [
    ['password', (value) => ({ location: secured.url, password: value })],
    [
      'clientOptions.password',
      (value) => ({ location: secured.url, clientOptions: { password: value } }),
    ],
    [
      'clientOptions.username',
      (value) => ({ location: secured.url, clientOptions: { username: value } }),
    ],
    ['sentinelOptions.password', (value) => sentinel({ password: value })],
    ['sentinelOptions.username', (value) => sentinel({ username: value })],
    [
      'sentinelOptions.clientOptions.password',
      (value) => sentinel({ clientOptions: { password: value } }),
    ],
  ]

  for (const [name, options] of cases) {
    it(`${name} that is not a string is refused at createCache, naming it, not its value`, () => {
      for (const value of wrong) {
        const error = thrown(() => createCache(options(value) as never))
        expect(error, `${name}: ${kind(value)}`).toBeInstanceOf(InvalidArgumentError)
        expect((error as Error).message).toBe(`${name} must be a string, got ${kind(value)}`)
        expect((error as Error).message).not.toContain(String(SECRET))
      }
    })
  }

  it('a number is refused on every topology, and under ignoreExceptions too', () => {
    const client = createClient({ url: secured.url })
    for (const options of [
      { location: secured.url, password: SECRET, ignoreExceptions: true },
      { location: 'memory://', password: SECRET },
      { client: 'cluster', location: [secured.url], password: SECRET },
      { location: [secured.url, secured.url], password: SECRET },
      { ...sentinel({}), password: SECRET },
      { location: client, password: SECRET },
    ]) {
      expect(() => createCache(options as never)).toThrow(
        /^password must be a string, got a number$/,
      )
    }
    expect(client.isOpen).toBe(false)
  })

  it('the sentinel factory, used without createCache, refuses sentinelOptions credentials too', () => {
    for (const name of ['password', 'username']) {
      const error = thrown(() => sentinelFactory(sentinel({ [name]: SECRET }) as never))
      expect(error, name).toBeInstanceOf(InvalidArgumentError)
      expect((error as Error).message).toBe(
        `sentinelOptions.${name} must be a string, got a number`,
      )
    }
  })

  it('the standalone, replica, cluster and sentinel factories, used without createCache, refuse them too', () => {
    const factories: Array<[string, (options: object) => unknown]> = [
      ['standalone', (o) => standaloneFactory({ location: secured.url, ...o } as never)],
      ['replica', (o) => replicaFactory({ location: [secured.url, secured.url], ...o } as never)],
      ['cluster', (o) => clusterFactory({ location: [secured.url], ...o } as never)],
      ['sentinel', (o) => sentinelFactory({ ...sentinel({}), ...o } as never)],
    ]
    const given: Array<[string, object]> = [
      ['password', { password: SECRET }],
      ['clientOptions.password', { clientOptions: { password: SECRET } }],
      ['clientOptions.username', { clientOptions: { username: SECRET } }],
    ]
    for (const [factory, make] of factories) {
      for (const [name, options] of given) {
        const error = thrown(() => make(options))
        expect(error, `${factory}: ${name}`).toBeInstanceOf(InvalidArgumentError)
        expect((error as Error).message, `${factory}: ${name}`).toBe(
          `${name} must be a string, got a number`,
        )
      }
    }
  })

  it('configureCaches refuses it, naming the alias, before anything is configured', () => {
    const error = thrown(() =>
      configureCaches({ a: { location: secured.url, password: SECRET } } as never),
    )
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect((error as Error).message).toBe(
      "configureCaches(): the alias 'a': password must be a string, got a number",
    )
    expect(() => caches.get('a')).toThrow()
  })

  it('a string password, or none, is taken and connects', async () => {
    for (const options of [
      { password: String(SECRET) },
      { clientOptions: { password: String(SECRET), username: 'default' } },
      { password: undefined, clientOptions: { password: String(SECRET), username: undefined } },
      // `null` is none: the password comes from clientOptions.
      { password: null, clientOptions: { password: String(SECRET), username: null } },
    ] as Array<Parameters<typeof createCache>[0]>) {
      const cache = createCache({ location: secured.url, ...options })
      expect(await cache.set('k', 1)).toBe(true)
      expect(await cache.get('k')).toBe(1)
      await cache.close()
    }
  })
})

describe('location', () => {
  it("'memory:name' (no //) is refused, saying memory://name", () => {
    for (const location of ['memory:demo', 'memory:/demo', 'MEMORY:demo', 'memory:']) {
      const error = thrown(() => createCache({ location }))
      expect(error, location).toBeInstanceOf(InvalidArgumentError)
      expect((error as Error).message, location).toMatch(/expected memory:\/\/name/)
      expect((error as Error).message, location).not.toMatch(/no scheme/)
    }
  })
})
