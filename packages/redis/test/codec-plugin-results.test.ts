// A serializer is user code (docs/extending.md): `serialize(value): Buffer | string`,
// `deserialize(bytes): unknown`, synchronous. One that returns the wrong thing must still give a
// clear, typed error naming the key, store nothing, hang nothing, and leave other calls alone.
//  - deserialize returning a Promise (an async loads, a common slip): `get` rejects with a
//    ConnectionError, getMany/hgetall/lrange RESOLVE with a Promise inside their result (whose
//    rejection then goes unhandled: the process ends), and a Promise that never settles makes
//    `get` hang forever.
//  - serialize returning neither a Buffer nor a string (null, undefined, a Uint8Array, a number):
//    ConnectionError ("Cannot read properties of null (reading 'length')") or a connection-level
//    InvalidArgumentError that names neither the key nor the serializer; under ignoreExceptions
//    the ConnectionError is swallowed as an outage and the value silently not stored; memory://
//    stores a Uint8Array that Redis refuses.
import vm from 'node:vm'
import { CompressionError, ConnectionError, createCache, SerializationError } from '@cachex/redis'
import {
  type RedisServer,
  startRedis,
  trackUnhandledRejections,
  uniquePrefix,
} from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let server: RedisServer
beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => {
  await server?.stop()
})

const BACKENDS = ['redis', 'memory'] as const
const where = (backend: string) =>
  backend === 'redis' ? server.url : `memory://${uniquePrefix('plugin')}`

/** Within `ms`, the call's outcome: resolved, rejected, or still pending. */
async function within(call: Promise<unknown>, ms: number) {
  let timer: NodeJS.Timeout | undefined
  const pending = new Promise<{ pending: true }>((resolve) => {
    timer = setTimeout(() => resolve({ pending: true }), ms)
  })
  try {
    return await Promise.race([
      call.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      pending,
    ])
  } finally {
    clearTimeout(timer)
  }
}

function turn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20))
}

/** JSON, but `deserialize` of a value holding "bad" returns `bad(bytes)`. */
function serializer(bad: (text: string) => unknown) {
  return {
    name: 'mine',
    serialize: (value: unknown) => JSON.stringify(value),
    deserialize: (bytes: Buffer) => {
      const text = bytes.toString()
      return text.includes('bad') ? bad(text) : JSON.parse(text)
    },
  }
}

describe.each(BACKENDS)('%s: deserialize returning a Promise', (backend) => {
  const CASES: Array<[string, () => unknown]> = [
    ['that rejects', () => Promise.reject(new Error('async loads failed'))],
    ['that resolves', () => Promise.resolve({ x: 'late' })],
    ['that never settles', () => new Promise(() => {})],
  ]

  it.each(CASES)(
    '%s: a typed error naming the key on every read, nothing unhandled',
    async (_, bad) => {
      const unhandled = trackUnhandledRejections()
      const cache = createCache({
        location: where(backend),
        keyPrefix: uniquePrefix('des'),
        serializer: serializer(bad),
      })
      try {
        await cache.set('good', { x: 'ok' })
        await cache.set('k', { x: 'bad' })
        await cache.hset('h', 'f', { x: 'bad' })
        await cache.rpush('l', { x: 'bad' })
        const get = await within(cache.get('k'), 3000)
        expect(get).toEqual({ error: expect.any(SerializationError) })
        expect(String((get as { error: Error }).error.message)).toMatch(/'k'/)
        const many = await within(cache.getMany(['good', 'k']), 3000)
        expect(many).toEqual({ error: expect.any(SerializationError) })
        expect(await within(cache.hgetall('h'), 3000)).toEqual({
          error: expect.any(SerializationError),
        })
        expect(await within(cache.lrange('l', 0, -1), 3000)).toEqual({
          error: expect.any(SerializationError),
        })
        // Other calls are not affected.
        expect(await cache.get('good')).toEqual({ x: 'ok' })
        await turn()
        expect(unhandled().map(String)).toEqual([])
      } finally {
        await cache.close()
      }
    },
    30_000,
  )
})

describe.each(BACKENDS)('%s: serialize returning neither a Buffer nor a string', (backend) => {
  const CASES: Array<[string, () => unknown]> = [
    ['null', () => null],
    ['undefined', () => undefined],
    ['a number', () => 42],
    ['an object', () => ({ bytes: 'x' })],
  ]

  it.each(CASES)('%s: SerializationError naming the key, nothing stored', async (_, made) => {
    const cache = createCache({
      location: where(backend),
      keyPrefix: uniquePrefix('ser'),
      serializer: {
        name: 'mine',
        serialize: made as never,
        deserialize: (b: Buffer) => JSON.parse(String(b)),
      },
    })
    try {
      for (const call of [
        () => cache.set('k', { a: 1 }),
        () => cache.setMany({ k: { a: 1 } }),
        () => cache.hset('k', 'f', { a: 1 }),
        () => cache.getOrSet('k', () => ({ a: 1 })),
      ]) {
        const outcome = await within(call(), 3000)
        expect(outcome).toEqual({ error: expect.any(SerializationError) })
        expect((outcome as { error: Error }).error.message).toMatch(/'k'/)
      }
      expect(await cache.hasKey('k')).toBe(false)
    } finally {
      await cache.close()
    }
  })

  it('a Uint8Array: stored as its bytes, on either backend', async () => {
    // Before: memory:// stored it; Redis refused it with a ConnectionError ("arguments[2] must
    // be of type string | Buffer"). Now both take it as a Buffer over the same memory.
    const cache = createCache({
      location: where(backend),
      keyPrefix: uniquePrefix('ser'),
      serializer: {
        name: 'mine',
        // A view into a larger buffer: only its own bytes are stored.
        serialize: () => new Uint8Array([0, 123, 125, 0]).subarray(1, 3),
        deserialize: (b: Buffer) => JSON.parse(String(b)),
      } as never,
    })
    try {
      expect(await within(cache.set('k', { a: 1 }), 3000)).toEqual({ value: true })
      expect(await cache.get('k')).toEqual({})
    } finally {
      await cache.close()
    }
  })

  it('null under ignoreExceptions: still thrown, as an encode error is', async () => {
    const cache = createCache({
      location: where(backend),
      keyPrefix: uniquePrefix('ser'),
      ignoreExceptions: true,
      logIgnoredExceptions: false,
      serializer: {
        name: 'mine',
        serialize: () => null,
        deserialize: (b: Buffer) => JSON.parse(String(b)),
      } as never,
    })
    try {
      // docs/configuration.md: ignoreExceptions hides connection failures, not bad values.
      await expect(cache.set('k', { a: 1 })).rejects.toBeInstanceOf(SerializationError)
    } finally {
      await cache.close()
    }
  })
})

describe.each(BACKENDS)('%s: a compressor returning null', (backend) => {
  // Before: ConnectionError "Cannot read properties of null (reading 'length')" — a failure of
  // the user's compressor reported as an outage (and ignored as one under ignoreExceptions: a set
  // answers false, a get answers a miss, nothing says why).
  it('compress: CompressionError naming the key, nothing stored', async () => {
    const cache = createCache({
      location: where(backend),
      keyPrefix: uniquePrefix('cmp'),
      compressor: {
        name: 'mine',
        minLength: 10,
        compress: () => null,
        decompress: (b: Buffer) => b,
      } as never,
    })
    try {
      const outcome = await within(cache.set('k', 'x'.repeat(100)), 3000)
      expect(outcome).toEqual({ error: expect.any(CompressionError) })
      expect((outcome as { error: Error }).error.message).toMatch(/'k'/)
      expect(await cache.hasKey('k')).toBe(false)
    } finally {
      await cache.close()
    }
  })

  it('decompress: a typed codec error (not ConnectionError) naming the key', async () => {
    const cache = createCache({
      location: where(backend),
      keyPrefix: uniquePrefix('cmp'),
      compressor: {
        name: 'mine',
        minLength: 10,
        compress: (b: Buffer) => Buffer.concat([Buffer.from('Z'), b]),
        decompress: (b: Buffer) => {
          if (b[0] !== 90) throw new Error('not mine')
          return null
        },
      } as never,
    })
    try {
      await cache.set('k', 'x'.repeat(100))
      const outcome = await within(cache.get('k'), 3000)
      expect(outcome).toHaveProperty('error')
      const { error } = outcome as { error: Error }
      expect(error).not.toBeInstanceOf(ConnectionError)
      expect(error instanceof CompressionError || error instanceof SerializationError).toBe(true)
      expect(error.message).toMatch(/'k'/)
    } finally {
      await cache.close()
    }
  })
})

describe.each(BACKENDS)(
  '%s: getMany/hgetall with one value whose deserialize returns a rejected Promise',
  (backend) => {
    // Before: getMany and hgetall RESOLVE, with a Promise as the bad key's value; nobody awaits
    // it, so its rejection is unhandled — under Node's default that ends the process.
    it('no rejection goes unhandled, and the result holds no Promise', async () => {
      const unhandled = trackUnhandledRejections()
      const cache = createCache({
        location: where(backend),
        keyPrefix: uniquePrefix('many'),
        serializer: serializer(() => Promise.reject(new Error('async loads failed'))),
      })
      try {
        await cache.set('good', { x: 'ok' })
        await cache.set('k', { x: 'bad' })
        await cache.hset('h', 'f', { x: 'bad' })
        const many = await within(cache.getMany(['good', 'k']), 3000)
        const hash = await within(cache.hgetall('h'), 3000)
        for (const outcome of [many, hash]) {
          if ('value' in outcome) {
            const values =
              outcome.value instanceof Map
                ? [...outcome.value.values()]
                : Object.values(outcome.value as object)
            expect(values.some((v) => v instanceof Promise)).toBe(false)
          }
        }
        await turn()
        expect(unhandled().map(String)).toEqual([])
      } finally {
        await cache.close()
      }
    })
  },
)

describe.each(BACKENDS)('%s: more results a plug-in must not return', (backend) => {
  it('serialize returning a rejected Promise: SerializationError naming the key and the serializer, nothing unhandled', async () => {
    const unhandled = trackUnhandledRejections()
    const cache = createCache({
      location: where(backend),
      keyPrefix: uniquePrefix('ser'),
      serializer: {
        name: 'mine',
        serialize: () => Promise.reject(new Error('async dumps failed')),
        deserialize: (b: Buffer) => JSON.parse(String(b)),
      } as never,
    })
    try {
      const outcome = await within(cache.set('k', { a: 1 }), 3000)
      expect(outcome).toEqual({ error: expect.any(SerializationError) })
      expect((outcome as { error: Error }).error.message).toMatch(
        /key 'k'.*mine's serialize returned a Promise/,
      )
      expect(await cache.hasKey('k')).toBe(false)
      await turn()
      expect(unhandled().map(String)).toEqual([])
    } finally {
      await cache.close()
    }
  })

  it('deserializeText returning a Promise, or a thenable of its own: SerializationError naming the key', async () => {
    const unhandled = trackUnhandledRejections()
    const cache = createCache({
      location: where(backend),
      keyPrefix: uniquePrefix('txt'),
      serializer: {
        name: 'mine',
        serialize: (value: unknown) => JSON.stringify(value),
        deserialize: (b: Buffer) => JSON.parse(String(b)),
        deserializeText: (text: string) =>
          text.includes('bad')
            ? Promise.reject(new Error('async loads failed'))
            : text.includes('odd')
              ? {
                  // biome-ignore lint/suspicious/noThenProperty: a thenable of its own is the case
                  then() {
                    throw new Error('a then of its own')
                  },
                }
              : JSON.parse(text),
      },
    })
    try {
      await cache.set('good', 'ok')
      await cache.set('k', 'bad')
      await cache.set('o', 'odd')
      for (const key of ['k', 'o']) {
        const outcome = await within(cache.get(key), 3000)
        expect(outcome).toEqual({ error: expect.any(SerializationError) })
        expect((outcome as { error: Error }).error.message).toContain(`key '${key}'`)
        expect((outcome as { error: Error }).error.message).toContain(
          'a serializer must be synchronous',
        )
      }
      expect(await within(cache.getMany(['good', 'k']), 3000)).toEqual({
        error: expect.any(SerializationError),
      })
      expect(await cache.get('good')).toBe('ok')
      await turn()
      expect(unhandled().map(String)).toEqual([])
    } finally {
      await cache.close()
    }
  })

  it('compress and decompress returning a Uint8Array: taken as their bytes', async () => {
    const cache = createCache({
      location: where(backend),
      keyPrefix: uniquePrefix('cmp'),
      compressor: {
        name: 'mine',
        minLength: 10,
        compress: (b: Buffer) => new Uint8Array(Buffer.concat([Buffer.from('Z'), b])),
        decompress: (b: Buffer) => {
          if (b[0] !== 90) throw new Error('not mine')
          return new Uint8Array(b.subarray(1))
        },
      } as never,
    })
    try {
      const value = 'x'.repeat(100)
      expect(await within(cache.set('k', value), 3000)).toEqual({ value: true })
      expect(await cache.get('k')).toBe(value)
      expect(await cache.getMany(['k'])).toEqual(new Map([['k', value]]))
    } finally {
      await cache.close()
    }
  })

  it('compress returning a Promise: CompressionError naming the key and the compressor, nothing unhandled', async () => {
    const unhandled = trackUnhandledRejections()
    const cache = createCache({
      location: where(backend),
      keyPrefix: uniquePrefix('cmp'),
      compressor: {
        name: 'mine',
        minLength: 10,
        compress: () => Promise.reject(new Error('async compress failed')),
        decompress: (b: Buffer) => b,
      } as never,
    })
    try {
      const outcome = await within(cache.set('k', 'x'.repeat(100)), 3000)
      expect(outcome).toEqual({ error: expect.any(CompressionError) })
      expect((outcome as { error: Error }).error.message).toMatch(
        /key 'k'.*mine's compress returned a Promise/,
      )
      expect(await cache.hasKey('k')).toBe(false)
      await turn()
      expect(unhandled().map(String)).toEqual([])
    } finally {
      await cache.close()
    }
  })

  it('under ignoreExceptions: compress and decompress returning null are thrown, not hidden as an outage', async () => {
    const options = {
      location: where(backend),
      keyPrefix: uniquePrefix('cmp'),
      ignoreExceptions: true,
      logIgnoredExceptions: false,
    }
    const writer = createCache({
      ...options,
      compressor: {
        name: 'mine',
        minLength: 10,
        compress: () => null,
        decompress: (b: Buffer) => b,
      } as never,
    })
    const reader = createCache({
      ...options,
      compressor: {
        name: 'mine',
        minLength: 10,
        compress: (b: Buffer) => Buffer.concat([Buffer.from('Z'), b]),
        decompress: (b: Buffer) => {
          if (b[0] !== 90) throw new Error('not mine')
          return null
        },
      } as never,
    })
    try {
      await expect(writer.set('k', 'x'.repeat(100))).rejects.toBeInstanceOf(CompressionError)
      expect(await reader.set('k', 'x'.repeat(100))).toBe(true)
      await expect(reader.get('k')).rejects.toBeInstanceOf(CompressionError)
    } finally {
      await writer.close()
      await reader.close()
    }
  })
})

// A Uint8Array from another realm (a vm context; Jest's sandbox, whose TextEncoder returns the
// outer realm's) was refused as "an object": the check was `instanceof Uint8Array`.
describe.each(BACKENDS)('%s: a Uint8Array from another realm', (backend) => {
  /** `bytes` copied into a Uint8Array of a new vm context. */
  const foreign = (bytes: Uint8Array): Uint8Array => {
    const other = vm.runInNewContext(`new Uint8Array(${bytes.length})`) as Uint8Array
    other.set(bytes)
    return other
  }

  it('serialize returning one is stored and read', async () => {
    const cache = createCache({
      location: where(backend),
      keyPrefix: uniquePrefix('realm'),
      serializer: {
        name: 'realm',
        serialize: (v: unknown) => foreign(Buffer.from(JSON.stringify(v))) as never,
        deserialize: (b: Buffer) => JSON.parse(String(b)),
      },
    })
    try {
      await cache.set('k', { a: 1 })
      expect(await cache.get('k')).toEqual({ a: 1 })
    } finally {
      await cache.close()
    }
  })

  it('decompress returning one is read', async () => {
    const cache = createCache({
      location: where(backend),
      keyPrefix: uniquePrefix('realmc'),
      compressor: {
        name: 'realmc',
        minLength: 1,
        compress: (b: Buffer) => Buffer.concat([Buffer.from('Z'), b]),
        decompress: (b: Buffer) => {
          if (b[0] !== 0x5a) throw new Error('not mine')
          return foreign(b.subarray(1))
        },
      } as never,
    })
    try {
      await cache.set('k', { a: 'xyz' })
      expect(await cache.get('k')).toEqual({ a: 'xyz' })
    } finally {
      await cache.close()
    }
  })
})
