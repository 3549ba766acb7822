// Option values createCache() checks before anything is built: a boolean option given as a string
// (`'false'`, from an environment variable or a JSON file) would otherwise mean true, and a logger
// without error() would turn every ignored error into an untyped TypeError.
import { Cache } from '@cachex/core'
import { freePort, type RedisServer, startRedis } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache, InvalidArgumentError, memory } from '../src/index.ts'

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
