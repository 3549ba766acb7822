// incr()/decr() in a transaction of a value that is no number (a string, an object, a Buffer, a
// string of digits stored as a JSON string): the slot gets the NotANumberError the method rejects
// with (never ignored, docs/configuration.md). It got the transaction's IncrRefused instead, a
// ResponseError blaming "a float or an integer beyond int64", which ignoreExceptions turned into
// null. A float, which the transaction cannot add, keeps that error.
import { type Cache, createCache, NotANumberError, ResponseError } from '@cachex/redis'
import { standaloneServer, startCluster, type TestCluster, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let server: { url: string; stop(): Promise<void> }
let cluster: TestCluster
const opened: Cache[] = []

beforeAll(async () => {
  ;[server, cluster] = await Promise.all([standaloneServer(), startCluster({ primaries: 3 })])
}, 120_000)

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()))
  await Promise.all([server?.stop(), cluster?.stop()])
})

type Serializer = 'json' | 'pickle'

const backends: [string, (serializer: Serializer, ignoreExceptions: boolean) => Cache][] = [
  [
    'redis',
    (serializer, ignoreExceptions) =>
      createCache({
        location: server.url,
        keyPrefix: uniquePrefix('txnan'),
        serializer,
        ignoreExceptions,
        logIgnoredExceptions: false,
      }),
  ],
  [
    'memory://',
    (serializer, ignoreExceptions) =>
      createCache({
        location: `memory://${uniquePrefix('txnan')}`,
        keyPrefix: uniquePrefix('txnan'),
        serializer,
        ignoreExceptions,
        logIgnoredExceptions: false,
      }),
  ],
  [
    'cluster',
    (serializer, ignoreExceptions) =>
      createCache({
        client: 'cluster',
        location: [...cluster.seeds],
        keyPrefix: uniquePrefix('txnan'),
        serializer,
        ignoreExceptions,
        logIgnoredExceptions: false,
      }),
  ],
]

/** Values that are no number, each with the serializer that stores it, and a TTL or not. */
const NOT_NUMBERS: [string, unknown, Serializer, number | null][] = [
  ['a string', 'hello', 'json', null],
  ['digits stored as a JSON string', '123', 'json', null],
  ['an object', { n: 1 }, 'json', null],
  ['a Buffer (pickle)', Buffer.from([0, 1, 2, 255]), 'pickle', null],
  ['a string with a TTL', 'hello', 'json', 100],
]

/** An error as its class and message, to compare a slot with the method's rejection. */
function described(error: unknown): string {
  return error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error)
}

describe.each(backends)('transaction incr of a value that is no number (%s)', (_name, open) => {
  function make(serializer: Serializer, ignoreExceptions: boolean): Cache {
    const cache = open(serializer, ignoreExceptions)
    opened.push(cache)
    return cache
  }

  describe.each([false, true])('ignoreExceptions: %s', (ignoreExceptions) => {
    it.each(NOT_NUMBERS)(
      '%s: the NotANumberError the method and a pipeline reject with',
      async (_what, value, serializer, ttl) => {
        const cache = make(serializer, ignoreExceptions)
        await cache.set('v', value, ttl)
        for (const method of ['incr', 'decr'] as const) {
          const alone = await cache[method]('v').catch((e: unknown) => e)
          expect(alone).toBeInstanceOf(NotANumberError)
          const [piped] = await cache.pipeline()[method]('v').exec()
          expect(described(piped)).toBe(described(alone))
          const [inTx, after] = await cache.transaction()[method]('v').get('v').exec()
          expect(described(inTx)).toBe(described(alone))
          expect(inTx).toBeInstanceOf(NotANumberError)
          expect(after).toEqual(value)
        }
        // With `as: 'number'` (another script) as well.
        const [asNumber] = await cache.transaction().incr('v', 2, { as: 'number' }).exec()
        expect(asNumber).toBeInstanceOf(NotANumberError)
        expect(await cache.get('v')).toEqual(value)
      },
    )
  })

  it('a float keeps the transaction error (INCRBY refuses it; the method adds)', async () => {
    const cache = make('json', false)
    await cache.set('f', 1.5)
    const [inTx, after] = await cache.transaction().incr('f').get('f').exec()
    expect(inTx).toBeInstanceOf(ResponseError)
    expect(inTx).not.toBeInstanceOf(NotANumberError)
    expect((inTx as Error).message).toMatch(
      /^ERR value is not an integer or out of range: incr\(\)/,
    )
    expect(after).toBe(1.5)
    expect(await cache.incr('f')).toBe(2.5)
  })
})
