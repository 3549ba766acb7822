import type { Connection, ConnectionFactory } from '@cachex/core'
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  caches,
  configureCaches,
  createCache,
  InvalidArgumentError,
  standalone,
} from '../src/index.ts'

let server: RedisServer
let secured: RedisServer
const PASSWORD = 'pw-Zq81-never-log-me'

beforeAll(async () => {
  ;[server, secured] = await Promise.all([
    startRedis(),
    startRedis({ args: ['--requirepass', PASSWORD], password: PASSWORD }),
  ])
})

afterAll(async () => {
  await caches.close()
  await Promise.all([server?.stop(), secured?.stop()])
})

/** A factory that counts the commands its connections run. */
function counting(counter: { commands: number; built: number }): ConnectionFactory {
  return (options) => {
    counter.built++
    const inner: Connection = standalone(options)
    return {
      command: (args, route) => {
        counter.commands++
        return inner.command(args, route)
      },
      batch: (commands, route) => {
        counter.commands += commands.length
        return inner.batch(commands, route)
      },
      scan: (pattern, count) => inner.scan(pattern, count),
      flush: () => inner.flush(),
      client: (o) => inner.client(o),
      close: () => inner.close(),
    }
  }
}

describe('valkey:// locations', () => {
  it('a cache on valkey:// (with a password and a db) works as on redis://', async () => {
    const port = new URL(secured.url).port
    const location = `valkey://:${PASSWORD}@127.0.0.1:${port}/3`
    const cache = createCache({ location, keyPrefix: 'vk' })
    const twin = createCache({ location: location.replace(/^valkey:/, 'redis:'), keyPrefix: 'vk' })
    try {
      expect(await cache.set('k', { a: 1 })).toBe(true)
      expect(await twin.get('k')).toEqual({ a: 1 })
      // In database 3, not 0.
      const zero = createCache({
        location: `redis://:${PASSWORD}@127.0.0.1:${port}/0`,
        keyPrefix: 'vk',
      })
      expect(await zero.get('k')).toBeNull()
      await zero.close()
    } finally {
      await cache.close()
      await twin.close()
    }
  })

  it('a sentinel location and cluster seeds may be valkey:// too', () => {
    // Parsed at creation: a scheme the parser refused would throw here.
    const a = createCache({
      client: 'sentinel',
      location: 'valkey://mymaster/0',
      sentinels: [['127.0.0.1', 1]],
    })
    const b = createCache({
      client: 'cluster',
      location: ['valkey://127.0.0.1:1', 'valkeys://127.0.0.1:2'],
    })
    return Promise.all([a.close(), b.close()])
  })
})

describe('custom connection factories', () => {
  it('connectionFactory on one cache builds its connection and sees its commands', async () => {
    const counter = { commands: 0, built: 0 }
    const cache = createCache({
      location: server.url,
      keyPrefix: 'own',
      connectionFactory: counting(counter),
    })
    await cache.set('a', 1)
    expect(await cache.get('a')).toBe(1)
    expect(counter).toEqual({ commands: 2, built: 1 })
    await cache.close()
  })

  it('a factory that is not a function, or that returns no Connection, is refused at once', () => {
    for (const connectionFactory of ['standalone', 42, {}]) {
      expect(() => createCache({ location: server.url, connectionFactory } as never)).toThrow(
        /connectionFactory takes a function that returns a Connection/,
      )
    }
    // What it returns is checked before a call (or close()) would fail on it with a TypeError.
    expect(() =>
      createCache({ location: server.url, connectionFactory: () => 1 } as never),
    ).toThrow(/a Cache needs a Connection .* has no command\(\)/)
    const partial = { command: async () => null, batch: async () => [] }
    for (const client of [() => partial, () => null]) {
      expect(() => createCache({ location: server.url, client } as never)).toThrow(
        InvalidArgumentError,
      )
    }
  })

  it('client takes a factory too (CLIENT_CLASS as a function)', async () => {
    const counter = { commands: 0, built: 0 }
    const cache = createCache({ location: server.url, keyPrefix: 'cls', client: counting(counter) })
    await cache.setMany({ a: 1, b: 2 }, { timeout: 60 })
    // Through the factory's connection: a SET … PX per key and, once they are answered, the
    // script that asks whether this user may run scripts (until then, sets with an expiry go as
    // SETs); then, the script answered (before the GET sent after it), one script.
    expect(counter).toEqual({ commands: 3, built: 1 })
    expect(await cache.get('a')).toBe(1)
    await cache.setMany({ a: 1, b: 2 }, { timeout: 60 })
    expect(counter).toEqual({ commands: 5, built: 1 })
    expect(await cache.getMany(['a', 'b'])).toEqual(
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
    )
    await cache.close()
  })

  it('a registry-wide connectionFactory applies to every alias that sets none', async () => {
    const global = { commands: 0, built: 0 }
    const own = { commands: 0, built: 0 }
    configureCaches(
      {
        default: { location: server.url, keyPrefix: 'reg-a' },
        other: { location: server.url, keyPrefix: 'reg-b', connectionFactory: counting(own) },
      },
      { connectionFactory: counting(global) },
    )
    await caches.get('default').set('k', 'v')
    await caches.get('other').set('k', 'v')
    expect(global).toEqual({ commands: 1, built: 1 })
    expect(own).toEqual({ commands: 1, built: 1 })
    await caches.close()
  })
})

describe('passwords never appear in errors or logs', () => {
  const wrong = `${PASSWORD}-wrong`

  it('not in the logged lines of ignored errors', async () => {
    const lines: string[] = []
    const logger = { error: (...args: unknown[]) => lines.push(args.map(String).join(' ')) }
    for (const options of [
      { location: `redis://:${encodeURIComponent(wrong)}@127.0.0.1:${secured.port}` },
      { location: `redis://127.0.0.1:${secured.port}`, password: wrong },
    ]) {
      const cache = createCache({
        ...options,
        socketConnectTimeout: 1,
        ignoreExceptions: true,
        logIgnoredExceptions: true,
        logger,
      })
      expect(await cache.get('k', 'default')).toBe('default')
      await cache.close()
    }
    expect(lines.length).toBeGreaterThanOrEqual(2)
    for (const line of lines) {
      expect(line).toMatch(/WRONGPASS|invalid|auth/i)
      expect(line).not.toContain(wrong)
      expect(line).not.toContain(PASSWORD)
    }
  })

  it('not in the message, the stack or the cause chain of a rejection', async () => {
    const cache = createCache({
      location: `redis://app:${encodeURIComponent(wrong)}@127.0.0.1:${secured.port}`,
      socketConnectTimeout: 1,
    })
    const error = (await cache.get('k').catch((e: unknown) => e)) as Error
    expect(error).toBeInstanceOf(Error)
    let text = ''
    for (let e: unknown = error; e instanceof Error; e = e.cause) {
      text += `${e.message}\n${e.stack}\n${String(e)}\n`
    }
    expect(text).not.toContain(wrong)
    expect(text).not.toContain(PASSWORD)
    await cache.close()
  })
})

describe('custom keyFunction and reverseKeyFunction', () => {
  // Django's KEY_FUNCTION / REVERSE_KEY_FUNCTION: here `prefix|version|key`.
  const keyFunction = (key: string, prefix: string, version: number) =>
    `${prefix}|${version}|${key}`
  const reverseKeyFunction = (redisKey: string, prefix: string) =>
    redisKey.slice(prefix.length + 1).replace(/^[^|]*\|/, '')

  it('every key method stores under the custom key, and keys() reverses it', async () => {
    const cache = createCache({
      location: server.url,
      keyPrefix: 'kf',
      keyFunction,
      reverseKeyFunction,
    })
    try {
      await cache.clear()
      await cache.set('a', 1)
      await cache.set('b', 2, { version: 3 })
      await cache.hset('h', 'f', 'v')
      const raw = async (key: string) => cache.connection.command(['EXISTS', key])
      expect(cache.makeKey('a')).toBe('kf|1|a')
      expect(await raw('kf|1|a')).toBe(1)
      expect(await raw('kf|3|b')).toBe(1)
      expect(await raw('kf|1|h')).toBe(1)
      expect(await raw('kf:1:a')).toBe(0)
      expect(await cache.get('a')).toBe(1)
      expect(await cache.get('b', null, { version: 3 })).toBe(2)
      expect((await cache.keys('*')).sort()).toEqual(['a', 'h'])
      expect(await cache.keys('*', { version: 3 })).toEqual(['b'])
      const iterated: string[] = []
      for await (const key of cache.iterKeys('*')) iterated.push(key)
      expect(iterated.sort()).toEqual(['a', 'h'])
      // Versions move through the key function too.
      expect(await cache.incrVersion('a')).toBe(2)
      expect(await raw('kf|2|a')).toBe(1)
      expect(await raw('kf|1|a')).toBe(0)
      expect(await cache.deletePattern('*', { version: 2 })).toBe(1)
      expect(await raw('kf|2|a')).toBe(0)
    } finally {
      await cache.close()
    }
  })

  it("clear() removes the cache's keys through the key function, every version, and no other", async () => {
    const cache = createCache({
      location: server.url,
      keyPrefix: 'kc',
      keyFunction,
      reverseKeyFunction,
    })
    const other = createCache({ location: server.url, keyPrefix: 'kc' }) // Django's own form
    try {
      await cache.setMany({ a: 1, b: 2 })
      await cache.set('c', 3, { version: 4 })
      await other.set('kept', 1)
      await cache.clear()
      expect(await cache.keys('*')).toEqual([])
      expect(await cache.get('c', null, { version: 4 })).toBeNull()
      expect(await other.get('kept')).toBe(1)
    } finally {
      await cache.close()
      await other.clear()
      await other.close()
    }
  })
})

describe('a keyPrefix with a lone surrogate', () => {
  it('is the prefix Redis stores (U+FFFD), so keys() strips it', async () => {
    const cache = createCache({ location: server.url, keyPrefix: 'p\ud800' })
    try {
      expect(cache.keyPrefix).toBe('p\ufffd')
      await cache.set('a', 1)
      expect(await cache.keys('*')).toEqual(['a'])
      expect(await cache.get('a')).toBe(1)
    } finally {
      await cache.clear()
      await cache.close()
    }
  })
})

describe('scanItersize', () => {
  // The option is `scanItersize`: an error naming `itersize` (the scan methods' option) sends the
  // user looking for an option they did not set.
  it('createCache refuses a bad scanItersize by that name', () => {
    for (const bad of [0, -1, 1.5, '10']) {
      let error: unknown
      try {
        createCache({ location: 'memory://itersize', scanItersize: bad as number })
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect((error as Error).message).toMatch(/^scanItersize must be a positive integer, got /)
    }
  })

  it('configureCaches refuses a bad scanItersize by that name, before any cache is made', async () => {
    try {
      expect(() =>
        configureCaches(
          { default: { location: 'memory://itersize-registry' } },
          { scanItersize: '10' as unknown as number },
        ),
      ).toThrow(
        /^configureCaches\(\): the alias 'default': scanItersize must be a positive integer/,
      )
    } finally {
      await caches.close()
    }
  })

  it('the scan methods still name their own itersize', async () => {
    const cache = createCache({ location: 'memory://itersize-keys' })
    try {
      await expect(cache.keys('*', { itersize: 0 })).rejects.toThrow(
        /^itersize must be a positive integer, got 0/,
      )
      await expect(cache.clearAllVersions({ itersize: 0 })).rejects.toThrow(/^itersize must/)
    } finally {
      await cache.close()
    }
  })
})
