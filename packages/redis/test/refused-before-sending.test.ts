// An argument Redis cannot be sent is refused before anything is: a plain `Uint8Array` (not a
// `Buffer`) passed a shape check that node-redis then failed as it queued the command, so in a
// transaction `EXEC` ran the others and their replies landed in the wrong places; elsewhere the
// error was a `ConnectionError`, which `ignoreExceptions` answered with the fallback. An endless
// iterable of keys is refused, not read until the heap is full. And a raw transaction holding a
// command Redis would not queue is refused whole.
import { type Cache, createCache, InvalidArgumentError } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer } from './helpers.ts'

const FIELD = new Uint8Array([102]) as unknown as string

describe.each(BACKENDS)('a Uint8Array argument on %s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache
  let quiet: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    const keyPrefix = uniquePrefix('u8')
    cache = createCache({ location: server.url, keyPrefix })
    quiet = createCache({ location: server.url, keyPrefix, ignoreExceptions: true })
  })

  afterAll(async () => {
    await cache?.close()
    await quiet?.close()
    await server?.stop()
  })

  it('is refused as a hash field name, naming the call, also under ignoreExceptions', async () => {
    await cache.hset('h', { f: 1 })
    for (const target of [cache, quiet]) {
      for (const call of [
        () => target.hget('h', FIELD),
        () => target.hincrby('h', FIELD, 1),
        () => target.hincrbyfloat('h', FIELD, 1.5),
        () => target.hexists('h', FIELD),
        () => target.hsetnx('h', FIELD, 'v'),
      ]) {
        const error = await call().catch((caught: unknown) => caught)
        expect(error).toBeInstanceOf(InvalidArgumentError)
        expect((error as Error).message).toMatch(
          /^h\w+\(\)( on key 'h')?: .*must be a string or a Buffer, got an object/,
        )
      }
    }
    expect(await cache.hgetall('h')).toEqual({ f: 1 })
  })

  it('a Uint8Array last of hmget or hdel is refused as a field name', async () => {
    for (const call of [() => cache.hmget('b', 'g', FIELD), () => cache.hdel('b', FIELD)]) {
      await expect(call()).rejects.toThrow(/: a field name must be a string or a Buffer, got/)
    }
  })

  it('a Buffer field name is taken as one, last of hmget and hdel too', async () => {
    await cache.hset('b', { f: 1, g: 2 })
    const f = Buffer.from('f') as unknown as string
    expect(await cache.hget('b', f)).toBe(1)
    expect(await cache.hmget('b', 'g', f)).toEqual([2, 1])
    expect(await cache.hdel('b', f)).toBe(1)
    expect(await cache.hgetall('b')).toEqual({ g: 2 })
  })

  it('in a transaction: the transaction is refused, nothing sent', async () => {
    await cache.hset('t', { f: 1 })
    await cache.delete('after')
    const exec = cache.transaction().hsetnx('t', FIELD, 'v').set('after', 1).hgetall('t').exec()
    await expect(exec).rejects.toThrow(
      new InvalidArgumentError(
        "hsetnx() on key 't': a field name must be a string or a Buffer, got an object",
      ),
    )
    expect(await cache.hgetall('t')).toEqual({ f: 1 })
    expect(await cache.hasKey('after')).toBe(false)
  })

  it('in a raw transaction on the connection: the whole transaction is refused, nothing run', async () => {
    const key = cache.makeKey('raw')
    const transaction = cache.connection.transaction
    if (transaction === undefined) throw new Error('the connection runs no transactions')
    const error = await transaction
      .call(cache.connection, [
        ['SET', key, 'v'],
        ['GET', FIELD],
        ['GET', key],
      ])
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(await cache.hasKey('raw')).toBe(false)
  })
})

describe.each(BACKENDS)('an endless iterable of keys on %s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    cache = createCache({ location: server.url, keyPrefix: uniquePrefix('endless') })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  function* endless(): Generator<string> {
    for (let i = 0; ; i++) yield `k${i}`
  }

  it('is refused by getMany and deleteMany, naming the bound', async () => {
    await cache.set('k1', 1)
    for (const [method, call] of [
      ['getMany', () => cache.getMany(endless())],
      ['deleteMany', () => cache.deleteMany(endless())],
    ] as const) {
      await expect(call()).rejects.toThrow(
        new InvalidArgumentError(
          `${method}(): the iterable gave more than 1000000 keys (an endless one?); give more keys as an array`,
        ),
      )
    }
    expect(await cache.get('k1')).toBe(1)
  })
})

describe.each(BACKENDS)(
  'a raw transaction holding a command Redis would not queue, on %s',
  (backend) => {
    let server: { url: string; stop(): Promise<void> }
    let cache: Cache

    beforeAll(async () => {
      server = await backendServer(backend)
      cache = createCache({ location: server.url, keyPrefix: uniquePrefix('unqueued') })
    })

    afterAll(async () => {
      await cache?.close()
      await server?.stop()
    })

    // MULTI, EXEC, DISCARD, WATCH and RESET run at once inside a transaction (EXEC then answered
    // the other commands, which ran, and the call rejected as if none had); SELECT, RESET, HELLO,
    // AUTH, QUIT, CLIENT REPLY and the subscriptions change the connection the cache's own calls
    // run on (RESET moved it to db 0; CLIENT REPLY OFF left every call waiting for its reply).
    it.each([
      ['MULTI'],
      ['exec'],
      ['DISCARD'],
      ['WATCH', 'k'],
      ['RESET'],
      ['SELECT', '0'],
      ['HELLO', '2'],
      ['AUTH', 'x'],
      ['QUIT'],
      ['SUBSCRIBE', 'c'],
      ['psubscribe', 'c*'],
      ['UNSUBSCRIBE'],
      ['punsubscribe', 'c*'],
      ['SUNSUBSCRIBE'],
      ['CLIENT', 'REPLY', 'OFF'],
      ['client', 'reply', 'skip'],
    ])('%s is refused, and nothing runs', async (...command) => {
      const key = cache.makeKey('counted')
      const transaction = cache.connection.transaction
      if (transaction === undefined) throw new Error('the connection runs no transactions')
      const error = await transaction
        .call(cache.connection, [['INCR', key], command, ['INCR', key]])
        .catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(InvalidArgumentError)
      const name = command[0]?.toUpperCase() === 'CLIENT' ? 'CLIENT REPLY' : command[0]
      expect((error as Error).message).toContain(
        `its command at index 1 is ${name?.toUpperCase()}, which a transaction cannot hold`,
      )
      expect(await cache.connection.command(['GET', key], { key, text: true })).toBeNull()
      await cache.set('after', 1)
      expect(await cache.get('after')).toBe(1)
    })
  },
)
