// `serializer` and `compressor` take plug-in objects: a factory handed in uncalled
// (`serializer: pickleSerializer`), or an object without the methods, is refused when the cache
// is created, not by the first `set` of a string.
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  Cache,
  createCache,
  defineSerializer,
  InvalidArgumentError,
  jsonSerializer,
  pickleSerializer,
  standalone,
  zlibCompressor,
} from '../src/index.ts'

let server: RedisServer

beforeAll(async () => {
  server = await startRedis()
})

afterAll(async () => {
  await server?.stop()
})

function thrown(make: () => unknown): Error {
  let made: unknown
  try {
    made = make()
  } catch (error) {
    return error as Error
  }
  void (made as { close?: () => Promise<void> })?.close?.()
  throw new Error('accepted')
}

describe('createCache() refuses a plug-in that is not one', () => {
  it('a serializer factory uncalled: call it', () => {
    const error = thrown(() =>
      createCache({ location: server.url, serializer: pickleSerializer as never }),
    )
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(error.message).toMatch(/serializer: pickleSerializer\(\)/)
  })

  it('one of a list of serializers, uncalled', () => {
    const error = thrown(() =>
      createCache({
        location: server.url,
        serializer: [jsonSerializer(), jsonSerializer] as never,
      }),
    )
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(error.message).toMatch(/jsonSerializer\(\)/)
  })

  it('a compressor factory uncalled: call it', () => {
    const error = thrown(() =>
      createCache({ location: server.url, compressor: zlibCompressor as never }),
    )
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(error.message).toMatch(/compressor: zlibCompressor\(\)/)
  })

  it('an object without the methods: names the one missing', () => {
    const noRead = { name: 'half', serialize: (v: unknown) => JSON.stringify(v) }
    const error = thrown(() => createCache({ location: server.url, serializer: noRead as never }))
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(error.message).toMatch(/deserialize/)
    const noCompress = { name: 'c', minLength: 10, decompress: (d: Buffer) => d }
    const error2 = thrown(() =>
      createCache({ location: server.url, compressor: noCompress as never }),
    )
    expect(error2).toBeInstanceOf(InvalidArgumentError)
    expect(error2.message).toMatch(/compress\(\)/)
  })

  it('new Cache() refuses the same', async () => {
    const connection = standalone({ location: server.url })
    try {
      const error = thrown(() => new Cache({ connection, serializer: pickleSerializer as never }))
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect(error.message).toMatch(/pickleSerializer\(\)/)
    } finally {
      await connection.close()
    }
  })

  it('new Cache() given a name: the message says the object to pass, for that option', async () => {
    const connection = standalone({ location: server.url })
    try {
      const serializer = thrown(() => new Cache({ connection, serializer: 'json' as never }))
      expect(serializer).toBeInstanceOf(InvalidArgumentError)
      expect(serializer.message).toMatch(/the name 'json' is for createCache\(\)/)
      expect(serializer.message).toMatch(/jsonSerializer\(\)/)
      const compressor = thrown(() => new Cache({ connection, compressor: 'zlib' as never }))
      expect(compressor).toBeInstanceOf(InvalidArgumentError)
      // Not a serializer's name given as the example for a compressor.
      expect(compressor.message).not.toMatch(/'json'/)
      expect(compressor.message).toMatch(/the name 'zlib' is for createCache\(\)/)
      expect(compressor.message).toMatch(/zlibCompressor\(\)/)
    } finally {
      await connection.close()
    }
  })

  it('plug-ins that are ones still work', async () => {
    const tagged = defineSerializer({
      name: 'tagged',
      serialize: (value) => `T${JSON.stringify(value)}`,
      deserializeText: (text) => JSON.parse(text.slice(1)),
    })
    for (const options of [
      { serializer: pickleSerializer(), compressor: zlibCompressor() },
      { serializer: [tagged, jsonSerializer()] },
      { serializer: 'msgpack' as const, compressor: ['zlib' as const, 'none' as const] },
    ]) {
      const cache = createCache({ location: server.url, ...options })
      try {
        await cache.set('k', 'a string value, long enough to be compressed: '.repeat(4))
        expect(await cache.get('k')).toMatch(/^a string value/)
        await cache.set('n', 7)
        expect(await cache.get('n')).toBe(7)
      } finally {
        await cache.close()
      }
    }
  })
})
