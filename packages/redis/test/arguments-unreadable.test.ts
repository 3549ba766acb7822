// Keys, mappings, pairs and counts whose reading throws (a revoked Proxy, a Proxy whose trap
// throws, a getter of the caller's that throws) are refused with `InvalidArgumentError`, which
// `ignoreExceptions` never hides: such an error became a `ConnectionError`, so an ignoring cache
// answered the method's fallback (`getMany` an empty Map, `zadd` 0, `lpop` []), or it rejected
// with the raw `TypeError` (`hset`, `xadd`, `blpop`, `lock.acquire`).
import type { ConnectionFactory } from '@cachex/core'
import {
  type Cache,
  CachexError,
  createCache,
  InvalidArgumentError,
  standalone,
} from '@cachex/redis'
import { startCluster, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer } from './helpers.ts'

function revoked(): never {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy as never
}

function trapping(): never {
  const fail = () => {
    throw new Error('TRAP-SECRET')
  }
  return new Proxy({}, { ownKeys: fail, get: fail, getPrototypeOf: fail, has: fail }) as never
}

/** An object whose `Symbol.iterator` getter throws. */
function iteratorThrows(): never {
  return {
    get [Symbol.iterator](): never {
      throw new Error('TRAP-SECRET')
    },
  } as never
}

/** An array whose second element is a getter that throws. */
function indexThrows(): never {
  const keys = ['a', 'b']
  Object.defineProperty(keys, 1, {
    get() {
      throw new Error('TRAP-SECRET')
    },
  })
  return keys as never
}

/** A Proxy of an array whose every read throws. */
function arrayTrapping(): never {
  return new Proxy(['a'], {
    get() {
      throw new Error('TRAP-SECRET')
    },
  }) as never
}

/** A Proxy of the array `['a']` whose element reads fine once, then throws. */
function readOnce(): string[] {
  let reads = 0
  return new Proxy(['a'], {
    get(target, name, receiver) {
      if (name === '0' && ++reads > 1) throw new Error('TRAP-SECRET')
      return Reflect.get(target, name, receiver)
    },
  })
}

/** A mapping whose second value is a getter that throws. */
function getterThrows(): never {
  return {
    a: 1,
    get b(): number {
      throw new Error('TRAP-SECRET')
    },
  } as never
}

async function refusal(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return await call().then(
      (answer) => ({ answer }),
      (error: unknown) => error,
    )
  } catch (error) {
    return error
  }
}

describe.each(BACKENDS)('arguments that cannot be read, on %s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache
  let quiet: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    const keyPrefix = uniquePrefix('unreadable-args')
    cache = createCache({ location: server.url, keyPrefix })
    quiet = createCache({ location: server.url, keyPrefix, ignoreExceptions: true })
    await cache.set('a', 1)
    await cache.rpush('l', 'x')
    await cache.sadd('s', 'x')
  })

  afterAll(async () => {
    await cache?.close()
    await quiet?.close()
    await server?.stop()
  })

  it.each([
    ['a revoked Proxy', revoked],
    ['a Proxy whose traps throw', trapping],
    ['an object whose Symbol.iterator getter throws', iteratorThrows],
    ['an array with a getter that throws', indexThrows],
    ['a Proxy of an array whose reads throw', arrayTrapping],
  ])('keys given as %s are refused, also under ignoreExceptions', async (_, keys) => {
    for (const target of [cache, quiet]) {
      expect(await refusal(() => target.getMany(keys()))).toBeInstanceOf(InvalidArgumentError)
      expect(await refusal(() => target.deleteMany(keys()))).toBeInstanceOf(InvalidArgumentError)
      const [many] = await target.pipeline().getMany(keys()).exec()
      expect(many).toBeInstanceOf(InvalidArgumentError)
    }
    expect(await refusal(() => cache.blpop(keys(), 0.05))).toBeInstanceOf(InvalidArgumentError)
    expect(await cache.get('a')).toBe(1)
  })

  it('an iterator or entries that throw a revoked Proxy, or a Proxy of a huge array, are refused', async () => {
    function* throwsRevoked(): Generator<string> {
      yield 'a'
      throw revoked()
    }
    const entriesThrowRevoked = {
      get a(): never {
        throw revoked()
      },
    }
    const huge = new Proxy([], { get: (_, name) => (name === 'length' ? 2 ** 32 - 1 : 'k') })
    for (const target of [cache, quiet]) {
      expect(await refusal(() => target.getMany(throwsRevoked()))).toBeInstanceOf(
        InvalidArgumentError,
      )
      expect(await refusal(() => target.setMany(entriesThrowRevoked))).toBeInstanceOf(
        InvalidArgumentError,
      )
      expect(await refusal(() => target.getMany(huge))).toBeInstanceOf(InvalidArgumentError)
    }
  })

  it('a Proxy of an array is read once: a read that would throw later is never made', async () => {
    for (const target of [cache, quiet]) {
      expect(await target.getMany(readOnce())).toEqual(new Map([['a', 1]]))
      const [many] = await target.pipeline().getMany(readOnce()).exec()
      expect(many).toEqual(new Map([['a', 1]]))
    }
  })

  it('with an operation listener, keys and mappings that cannot be read are refused the same', async () => {
    const listened = createCache({ location: server.url, keyPrefix: uniquePrefix('listened') })
    listened.on('operation', () => undefined)
    try {
      for (const call of [
        () => listened.getMany(revoked()),
        () => listened.getMany(arrayTrapping()),
        () => listened.deleteMany(revoked()),
        () => listened.setMany(revoked()),
        () => listened.xread(revoked()),
      ]) {
        expect(await refusal(call)).toBeInstanceOf(InvalidArgumentError)
      }
    } finally {
      await listened.close()
    }
  })

  it.each([
    ['a revoked Proxy', revoked],
    ['a Proxy whose traps throw', trapping],
    ['an object with a getter that throws', getterThrows],
  ])('a mapping given as %s is refused, also under ignoreExceptions', async (_, mapping) => {
    for (const target of [cache, quiet]) {
      for (const call of [
        () => target.hset('h', mapping()),
        () => target.hmset('h', mapping()),
        () => target.zadd('z', mapping()),
        () => target.xadd('x', mapping()),
        () => target.xread(mapping()),
        () => target.setMany(mapping()),
      ]) {
        expect(await refusal(call)).toBeInstanceOf(InvalidArgumentError)
      }
      const [set] = await target.pipeline().setMany(mapping()).exec()
      expect(set).toBeInstanceOf(InvalidArgumentError)
    }
    for (const key of ['h', 'z', 'x']) expect(await cache.hasKey(key)).toBe(false)
  })

  it('a [score, member] pair that cannot be read is refused, also under ignoreExceptions', async () => {
    for (const target of [cache, quiet]) {
      expect(await refusal(() => target.zadd('z', [revoked()]))).toBeInstanceOf(
        InvalidArgumentError,
      )
      expect(await refusal(() => target.zadd('z', [trapping()]))).toBeInstanceOf(
        InvalidArgumentError,
      )
    }
    expect(await cache.hasKey('z')).toBe(false)
  })

  it('a count or options that cannot be read are refused, also under ignoreExceptions', async () => {
    for (const target of [cache, quiet]) {
      for (const call of [
        () => target.lpop('l', revoked()),
        () => target.spop('s', revoked()),
        () => target.incrVersion('a', revoked()),
      ]) {
        expect(await refusal(call)).toBeInstanceOf(InvalidArgumentError)
      }
    }
    const lock = cache.lock('unreadable-lock', { timeout: 5 })
    expect(await refusal(() => lock.acquire(revoked()))).toBeInstanceOf(InvalidArgumentError)
    expect(await refusal(() => lock.acquire(trapping()))).toBeInstanceOf(InvalidArgumentError)
    expect(await cache.lrange('l', 0, -1)).toEqual(['x'])
    expect(await cache.smembers('s')).toEqual(['x'])
    expect(await cache.get('a')).toBe(1)
  })
})

describe('a raw route whose key is neither a string nor a Buffer, on a cluster', () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>
  let cache: Cache

  beforeAll(async () => {
    cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
    cache = createCache({
      client: 'cluster',
      location: [...cluster.seeds],
      keyPrefix: uniquePrefix('route-key'),
    })
  }, 120_000)

  afterAll(async () => {
    await cache?.close()
    await cluster?.stop()
  })

  it.each([
    ['a number', 5],
    ['an object', {}],
    ['a Uint8Array', new Uint8Array([120])],
    ['a revoked Proxy', revoked()],
  ])('%s is refused, not thrown, and the connection goes on', async (_, key) => {
    const route = { key } as never
    const command = cache.connection.command(['GET', 'x'], route)
    await expect(command).rejects.toThrow(InvalidArgumentError)
    await expect(command).rejects.toThrow(/a route's key must be a string or a Buffer/)
    await cache.set('k', 1)
    expect(await cache.get('k')).toBe(1)
  })

  it('a route that cannot be read is refused, not thrown', async () => {
    const keyThrows = {
      get key(): string {
        throw new Error('TRAP-SECRET')
      },
    }
    let reads = 0
    const keyChanges = {
      get key(): unknown {
        return ++reads === 1 ? 'x' : 5
      },
    }
    for (const route of [revoked(), keyThrows, keyChanges]) {
      const command = cache.connection.command(['GET', 'x'], route as never)
      await expect(command).rejects.toThrow(InvalidArgumentError)
    }
    expect(await cache.get('k')).toBe(1)
  })
})

describe('a custom connection that rejects with a Proxy whose prototype cannot be read', () => {
  it('every call answers a typed error, and so does the error event', async () => {
    const server = await backendServer('redis')
    const trapping = () =>
      new Proxy(
        {},
        {
          getPrototypeOf() {
            throw new Error('TRAP-SECRET')
          },
        },
      )
    let armed = false
    const connectionFactory: ConnectionFactory = (options) => {
      const inner = standalone(options)
      return {
        command: (args, route) => (armed ? Promise.reject(trapping()) : inner.command(args, route)),
        batch: (commands, route) =>
          armed ? Promise.reject(trapping()) : inner.batch(commands, route),
        scan: (pattern, count) => inner.scan(pattern, count),
        flush: () => inner.flush(),
        client: (options) => inner.client(options),
        close: () => inner.close(),
      }
    }
    const cache = createCache({ location: server.url, connectionFactory })
    const heard: unknown[] = []
    cache.on('error', ({ error }) => heard.push(error))
    try {
      await cache.set('k', 1)
      armed = true
      for (const call of [
        () => cache.get('k'),
        () => cache.set('k', 2),
        () => cache.getMany(['k', 'l']),
        () => cache.hset('h', 'f', 1),
        () => cache.pipeline().get('k').exec(),
      ]) {
        expect(await refusal(call)).toBeInstanceOf(CachexError)
      }
      expect(heard.length).toBeGreaterThan(0)
      for (const error of heard) expect(error).toBeInstanceOf(CachexError)
    } finally {
      await cache.close()
      await server.stop()
    }
  })
})
