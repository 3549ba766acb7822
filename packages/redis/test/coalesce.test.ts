// Coalesced reads (`coalesceReads`): the gets of one tick reach Redis as one MGET, each caller
// answered on its own.
import {
  monitor,
  type RedisServer,
  seededRandom,
  startCluster,
  startRedis,
  startReplicaSet,
  type TestCluster,
  timed,
  uniquePrefix,
} from '@cachex/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  type Cache,
  ConnectionError,
  type CreateCacheOptions,
  createCache,
  defineSerializer,
  InvalidArgumentError,
  KeyNotFoundError,
  keySlot,
  ResponseError,
  SerializationError,
} from '../src/index.ts'
import { commandsDuring, raw } from './helpers.ts'

let server: RedisServer
const open: Cache[] = []

function cacheFor(options: CreateCacheOptions = {}): Cache {
  const cache = createCache({ location: server.url, keyPrefix: uniquePrefix('co'), ...options })
  open.push(cache)
  return cache
}

/**
 * `'script'` for a script's call, EVAL or EVALSHA (each script runs with EVAL where it has not
 * run yet, in each hash slot); `undefined` for other commands.
 */
function script(name: string | undefined): 'script' | undefined {
  return name !== undefined && /^EVAL(SHA)?$/i.test(name) ? 'script' : undefined
}

/** The commands the server ran while `fn` ran, of the given names, from MONITOR. */
function sent(names: string[], fn: () => Promise<unknown>): Promise<string[][]> {
  return commandsDuring(server.port, names, fn, (args) => raw(open[0] as Cache, ...args))
}

beforeAll(async () => {
  server = await startRedis()
})

afterEach(async () => {
  for (const cache of open.splice(0)) await cache.close()
})

afterAll(async () => {
  await server?.stop()
})

describe('coalesced gets on one server', () => {
  it('sends 100 gets of one tick as ceil(100/128) MGET, each caller answered', async () => {
    const cache = cacheFor()
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`)
    await cache.setMany(Object.fromEntries(keys.map((k, i) => [k, { i }])))
    let values: unknown[] = []
    const commands = await sent(['GET', 'MGET'], async () => {
      values = await Promise.all(keys.map((k) => cache.get(k)))
    })
    expect(values).toEqual(keys.map((_, i) => ({ i })))
    expect(commands.map((c) => c[0]?.toUpperCase())).toEqual(['MGET'])
    expect(commands[0]).toHaveLength(101)
  })

  it('splits a tick of 300 gets into MGETs of at most 128 keys', async () => {
    const cache = cacheFor()
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`)
    await cache.setMany(Object.fromEntries(keys.map((k, i) => [k, i])))
    let values: unknown[] = []
    const commands = await sent(['GET', 'MGET'], async () => {
      values = await Promise.all(keys.map((k) => cache.get(k)))
    })
    expect(values).toEqual(keys.map((_, i) => i))
    expect(commands.map((c) => c.length - 1)).toEqual([128, 128, 44])
  })

  it('asks once for a key read by calls one after the other: a hot key is one GET a batch', async () => {
    const cache = cacheFor()
    await cache.set('hot', { v: 1 })
    let values: unknown[] = []
    const commands = await sent(['GET', 'MGET'], async () => {
      values = await Promise.all(Array.from({ length: 300 }, () => cache.get('hot')))
    })
    expect(values).toEqual(Array.from({ length: 300 }, () => ({ v: 1 })))
    // Each caller decodes its own object: one caller's change is not another's.
    expect(new Set(values).size).toBe(300)
    // 128 calls a batch at most, as for distinct keys.
    expect(commands).toEqual(Array.from({ length: 3 }, () => ['GET', cache.makeKey('hot')]))
  })

  it('callers of a key asked once do not share its bytes: msgpack bin and a serializer returning them', async () => {
    const bytes = defineSerializer({
      name: 'bytes',
      serialize: (value: unknown) => Buffer.from(value as Buffer),
      deserialize: (data: Buffer) => data,
    })
    for (const serializer of ['msgpack', bytes] as const) {
      const cache = cacheFor({ serializer })
      await cache.setMany({ bin: Buffer.from('hello'), other: Buffer.from('o') })
      // One GET for both callers, then an MGET naming the key once for two of its three callers.
      const alone = (await Promise.all([cache.get('bin'), cache.get('bin')])) as Uint8Array[]
      const among = (await Promise.all([
        cache.get('bin'),
        cache.get('bin'),
        cache.get('other'),
      ])) as Uint8Array[]
      for (const [first, second] of [alone, among] as Uint8Array[][]) {
        ;(first as Uint8Array)[0] = 0x4a // one caller changes what it got
        expect(Buffer.from(second as Uint8Array).toString()).toBe('hello')
      }
    }
  })

  it('callers of a key asked once each read the stored value with a deserializer that works in place', async () => {
    // Unmasks its input in place (XOR), as a decoder that reuses its buffer may.
    const masked = defineSerializer({
      name: 'masked',
      serialize: (value: unknown) =>
        Buffer.from(Buffer.from(JSON.stringify(value)).map((b) => b ^ 0x5a)),
      deserialize: (data: Buffer) => {
        for (let i = 0; i < data.length; i++) data[i] = (data[i] as number) ^ 0x5a
        return JSON.parse(data.toString())
      },
    })
    const cache = cacheFor({ serializer: masked })
    await cache.setMany({ m: { n: 1 }, other: 2 })
    expect(await Promise.all([cache.get('m'), cache.get('m'), cache.get('m')])).toEqual([
      { n: 1 },
      { n: 1 },
      { n: 1 },
    ])
    expect(
      await Promise.all([cache.get('m'), cache.get('m'), cache.get('other'), cache.get('other')]),
    ).toEqual([{ n: 1 }, { n: 1 }, 2, 2])
  })

  it('a key read again after another key is asked again; each caller gets its own answer', async () => {
    const cache = cacheFor()
    await cache.setMany({ a: 'A', b: 'B' })
    let values: unknown[] = []
    const commands = await sent(['GET', 'MGET'], async () => {
      values = await Promise.all([
        cache.get('a'),
        cache.get('a'),
        cache.get('b'),
        cache.get('b'),
        cache.get('none', 'n1'),
        cache.get('none', 'n2'),
        cache.get('a'),
      ])
    })
    expect(values).toEqual(['A', 'A', 'B', 'B', 'n1', 'n2', 'A'])
    const [a, b, none] = ['a', 'b', 'none'].map((k) => cache.makeKey(k))
    expect(commands).toEqual([['MGET', a, b, none, a]])
  })

  it('callers of a key asked once share its errors: WRONGTYPE and an undecodable value', async () => {
    const cache = cacheFor()
    await cache.set('s', 'str')
    await cache.lpush('list', 'x')
    await raw(cache, 'SET', cache.makeKey('junk'), '\x00\xffnot json')
    const results = await Promise.allSettled([
      cache.get('list'),
      cache.get('list'),
      cache.get('s'),
      cache.get('junk'),
      cache.get('junk'),
      cache.get('none', 'n'),
      cache.get('none', 'm'),
    ])
    for (const i of [0, 1]) {
      expect(results[i]?.status).toBe('rejected')
      expect(String((results[i] as PromiseRejectedResult).reason.message)).toMatch(/WRONGTYPE/)
    }
    expect(results[2]).toEqual({ status: 'fulfilled', value: 'str' })
    for (const i of [3, 4]) {
      expect((results[i] as PromiseRejectedResult).reason).toBeInstanceOf(SerializationError)
    }
    expect(results.slice(5)).toEqual([
      { status: 'fulfilled', value: 'n' },
      { status: 'fulfilled', value: 'm' },
    ])
    // A hot key of another type alone in its batch: its one GET fails each caller.
    const alone = await Promise.allSettled([cache.get('list'), cache.get('list')])
    for (const result of alone) {
      expect(String((result as PromiseRejectedResult).reason?.message)).toMatch(/WRONGTYPE/)
    }
  })

  it('sends a lone get as a plain GET', async () => {
    const cache = cacheFor()
    await cache.set('one', 1)
    let value: unknown
    const commands = await sent(['GET', 'MGET'], async () => {
      value = await cache.get('one')
    })
    expect(value).toBe(1)
    expect(commands).toEqual([['GET', cache.makeKey('one')]])
  })

  it('answers each caller with its own default for missing keys, and a fresh object each', async () => {
    const cache = cacheFor()
    await cache.set('a', { n: 1 })
    const [a1, a2, b, c, d] = await Promise.all([
      cache.get('a'),
      cache.get('a'),
      cache.get('b', 'B'),
      cache.get('c'),
      cache.get('d', 0),
    ])
    expect(a1).toEqual({ n: 1 })
    expect(a2).toEqual({ n: 1 })
    expect(a1).not.toBe(a2)
    expect([b, c, d]).toEqual(['B', null, 0])
  })

  it('a value that cannot be decoded rejects only its caller, naming its key', async () => {
    const cache = cacheFor()
    await cache.set('good', 'fine')
    await raw(cache, 'SET', cache.makeKey('junk'), '\x00\xffnot json')
    const [good, junk, missing] = await Promise.allSettled([
      cache.get('good'),
      cache.get('junk'),
      cache.get('missing', 'm'),
    ])
    expect(good).toEqual({ status: 'fulfilled', value: 'fine' })
    expect(missing).toEqual({ status: 'fulfilled', value: 'm' })
    expect(junk.status).toBe('rejected')
    const error = (junk as PromiseRejectedResult).reason
    expect(error).toBeInstanceOf(SerializationError)
    expect(String(error.message)).toContain("'junk'")
  })

  it('a key of another type rejects its caller with WRONGTYPE, as a plain GET does', async () => {
    const cache = cacheFor()
    await cache.set('s', 'str')
    await cache.lpush('list', 'x')
    const [s, list, none] = await Promise.allSettled([
      cache.get('s'),
      cache.get('list'),
      cache.get('none', 'n'),
    ])
    expect(s).toEqual({ status: 'fulfilled', value: 'str' })
    expect(none).toEqual({ status: 'fulfilled', value: 'n' })
    expect(list.status).toBe('rejected')
    expect((list as PromiseRejectedResult).reason).toBeInstanceOf(ResponseError)
    expect(String((list as PromiseRejectedResult).reason.message)).toMatch(/WRONGTYPE/)
  })

  it('after batches of hits, sends MGET alone, checks a nil after it, and probes again', async () => {
    const cache = cacheFor()
    await cache.setMany({ a: 'A', b: 'B' })
    await cache.lpush('list', 'x')
    const pair = () => Promise.all([cache.get('a'), cache.get('b')])
    // While batches come with no nil, each MGET goes with an EXISTS of its keys, 16 times.
    const probed = await sent(['MGET', 'EXISTS'], async () => {
      for (let i = 0; i < 16; i++) expect(await pair()).toEqual(['A', 'B'])
    })
    expect(probed.map((c) => c[0]?.toUpperCase())).toEqual(
      Array.from({ length: 16 }, () => ['EXISTS', 'MGET']).flat(),
    )
    const alone = await sent(['MGET', 'EXISTS'], async () => {
      expect(await pair()).toEqual(['A', 'B'])
    })
    expect(alone.map((c) => c[0]?.toUpperCase())).toEqual(['MGET'])
    // A nil now: an EXISTS of the nil keys after the MGET. It counts the list, so both nil keys
    // are read again, each as its own GET answers.
    let results: PromiseSettledResult<unknown>[] = []
    const checked = await sent(['MGET', 'EXISTS', 'GET'], async () => {
      results = await Promise.allSettled([
        cache.get('a'),
        cache.get('none', 'n'),
        cache.get('list'),
      ])
    })
    expect(results[0]).toEqual({ status: 'fulfilled', value: 'A' })
    expect(results[1]).toEqual({ status: 'fulfilled', value: 'n' })
    expect(results[2]?.status).toBe('rejected')
    expect(String((results[2] as PromiseRejectedResult).reason.message)).toMatch(/WRONGTYPE/)
    expect(checked).toEqual([
      ['MGET', cache.makeKey('a'), cache.makeKey('none'), cache.makeKey('list')],
      ['EXISTS', cache.makeKey('none'), cache.makeKey('list')],
      ['GET', cache.makeKey('none')],
      ['GET', cache.makeKey('list')],
    ])
    // Only missing keys among the nils: their defaults, from the one EXISTS.
    // And after a nil, the EXISTS goes with the MGET again.
    const again = await sent(['MGET', 'EXISTS', 'GET'], async () => {
      expect(await Promise.all([cache.get('a'), cache.get('gone', 'g')])).toEqual(['A', 'g'])
    })
    expect(again.map((c) => c[0]?.toUpperCase())).toEqual(['EXISTS', 'MGET'])
  })

  it('a nil after batches of hits is checked with one EXISTS: missing keys get their defaults', async () => {
    const cache = cacheFor()
    await cache.setMany({ a: 'A', b: 'B' })
    for (let i = 0; i < 16; i++) await Promise.all([cache.get('a'), cache.get('b')])
    let values: unknown[] = []
    const commands = await sent(['MGET', 'EXISTS', 'GET'], async () => {
      values = await Promise.all([
        cache.get('a'),
        cache.get('x', 1),
        cache.get('x', 2),
        cache.get('y'),
      ])
    })
    expect(values).toEqual(['A', 1, 2, null])
    expect(commands.map((c) => c[0]?.toUpperCase())).toEqual(['MGET', 'EXISTS'])
  })

  it('with ignoreExceptions, each caller gets its own default for its own error', async () => {
    const cache = cacheFor({ ignoreExceptions: true })
    await cache.set('s', 'str')
    await cache.lpush('list', 'x')
    await raw(cache, 'SET', cache.makeKey('junk'), '\x00\xffnot json')
    const results = await Promise.allSettled([
      cache.get('s', 'd1'),
      cache.get('list', 'd2'),
      cache.get('junk', 'd3'),
    ])
    expect(results[0]).toEqual({ status: 'fulfilled', value: 'str' })
    // WRONGTYPE is ignored (a server error reply); a value that cannot be decoded is not.
    expect(results[1]).toEqual({ status: 'fulfilled', value: 'd2' })
    expect(results[2].status).toBe('rejected')
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(SerializationError)
  })

  it('reads a key whose value was large with a GET of its own, and gathers it again once small', async () => {
    const cache = cacheFor()
    const big = 'x'.repeat(64 * 1024)
    await cache.setMany({ big, small: 's' })
    // The first read learns that the value is large.
    expect(await Promise.all([cache.get('big'), cache.get('small')])).toEqual([big, 's'])
    let values: unknown[] = []
    const commands = await sent(['GET', 'MGET'], async () => {
      values = await Promise.all([cache.get('big'), cache.get('small'), cache.get('big')])
    })
    expect(values).toEqual([big, 's', big])
    expect(commands.map((c) => c[0]?.toUpperCase()).sort()).toEqual(['GET', 'GET', 'GET'])
    await cache.set('big', 'small now')
    await Promise.all([cache.get('big'), cache.get('big')])
    const after = await sent(['GET', 'MGET'], async () => {
      expect(await Promise.all([cache.get('big'), cache.get('small')])).toEqual(['small now', 's'])
    })
    expect(after.map((c) => c[0]?.toUpperCase())).toEqual(['MGET'])
  })

  it('learns that a value is large from a lone get too (a GET of its own), not only from an MGET', async () => {
    const cache = cacheFor()
    const big = 'x'.repeat(64 * 1024)
    await cache.setMany({ big, small: 's' })
    // The usual first read: a lone get, sent as a GET.
    expect(await cache.get('big')).toBe(big)
    let values: unknown[] = []
    const commands = await sent(['GET', 'MGET'], async () => {
      values = await Promise.all([cache.get('big'), cache.get('small')])
    })
    expect(values).toEqual([big, 's'])
    expect(commands.map((c) => c[0]?.toUpperCase()).sort()).toEqual(['GET', 'GET'])
  })

  it('reads a large value of UTF-8 text beyond ASCII alone, as it was written', async () => {
    const cache = cacheFor()
    const big = { text: 'é€😀 '.repeat(8 * 1024), n: 2n ** 64n }
    await cache.setMany({ wide: big, other: 1 })
    // The first read learns that the value is large.
    expect(await Promise.all([cache.get('wide'), cache.get('other')])).toEqual([big, 1])
    const commands = await sent(['GET', 'MGET'], async () => {
      expect(await Promise.all([cache.get('wide'), cache.get('wide')])).toEqual([big, big])
    })
    expect(commands.map((c) => c[0]?.toUpperCase())).toEqual(['GET', 'GET'])
  })

  it('coalesceReads: false sends one GET per call', async () => {
    const cache = cacheFor({ coalesceReads: false })
    await cache.set('x', 'v')
    const commands = await sent(['GET', 'MGET'], async () => {
      expect(await Promise.all([cache.get('x'), cache.get('x'), cache.get('y', 1)])).toEqual([
        'v',
        'v',
        1,
      ])
    })
    expect(commands.map((c) => c[0]?.toUpperCase())).toEqual(['GET', 'GET', 'GET'])
  })

  it('refuses a coalesceReads that is not a boolean', () => {
    expect(() => cacheFor({ coalesceReads: 'yes' as unknown as boolean })).toThrow(
      InvalidArgumentError,
    )
  })
})

/** `a`, `b` and `c` read together, tried again for up to 10 s while the connection recovers. */
async function readAll(cache: Cache): Promise<unknown[] | undefined> {
  let values: unknown[] | undefined
  for (let i = 0; i < 100 && values === undefined; i++) {
    values = await Promise.all(['a', 'b', 'c'].map((k) => cache.get(k))).catch(() => undefined)
    if (values === undefined) await new Promise((r) => setTimeout(r, 100))
  }
  return values
}

describe('coalesced hasKey', () => {
  const keys = Array.from({ length: 100 }, (_, i) => `h${i}`)
  const names = (commands: string[][]) => commands.map((c) => c.length - 1)

  it('sends the hasKeys of one tick as one EXISTS: all there, then none there', async () => {
    const cache = cacheFor()
    await cache.setMany(Object.fromEntries(keys.map((k) => [k, 1])))
    let found: boolean[] = []
    let commands = await sent(['EXISTS'], async () => {
      found = await Promise.all(keys.map((k) => cache.hasKey(k)))
    })
    expect(found).toEqual(keys.map(() => true))
    expect(names(commands)).toEqual([100])
    commands = await sent(['EXISTS'], async () => {
      found = await Promise.all(keys.map((k) => cache.hasKey(`gone:${k}`)))
    })
    expect(found).toEqual(keys.map(() => false))
    expect(names(commands)).toEqual([100])
  })

  it('a tick with some keys there asks each again, then the next calls send one EXISTS each', async () => {
    const cache = cacheFor()
    await cache.setMany({ a: 1, b: 2 })
    const mixed = ['a', 'x', 'b', 'y']
    let found: boolean[] = []
    let commands = await sent(['EXISTS'], async () => {
      found = await Promise.all(mixed.map((k) => cache.hasKey(k)))
    })
    expect(found).toEqual([true, false, true, false])
    expect(names(commands)).toEqual([4, 1, 1, 1, 1])
    // The next 64 calls (16 times that batch's 4): one EXISTS each.
    commands = await sent(['EXISTS'], async () => {
      for (let i = 0; i < 32; i++) {
        expect(await Promise.all(['a', 'b'].map((k) => cache.hasKey(k)))).toEqual([true, true])
      }
    })
    expect(names(commands)).toEqual(Array.from({ length: 64 }, () => 1))
    // Then one EXISTS of all the keys again.
    commands = await sent(['EXISTS'], async () => {
      expect(await Promise.all(['a', 'b'].map((k) => cache.hasKey(k)))).toEqual([true, true])
    })
    expect(names(commands)).toEqual([2])
  })

  it('a tick with some keys there, then a write of one of them in the same tick: each answers as before the write', async () => {
    // Asked again, the key's own EXISTS comes after the write: its answer is the count's rest.
    const set = cacheFor()
    await set.set('a', 1)
    expect(
      await Promise.all([set.hasKey('a'), set.hasKey('x'), set.set('x', 1), set.hasKey('x')]),
    ).toEqual([true, false, true, true])
    const deleted = cacheFor()
    await deleted.setMany({ a: 1, b: 1 })
    expect(
      await Promise.all([
        deleted.hasKey('a'),
        deleted.hasKey('y'),
        deleted.hasKey('b'),
        deleted.delete('a'),
        deleted.hasKey('a'),
      ]),
    ).toEqual([true, false, true, true, false])
    // A key named twice in the tick, then written.
    const twice = cacheFor()
    await twice.set('a', 1)
    expect(
      await Promise.all([
        twice.hasKey('z'),
        twice.hasKey('a'),
        twice.hasKey('z'),
        twice.setMany({ z: 1 }, null),
      ]),
    ).toEqual([false, true, false, []])
  })

  it('a tick with some keys there, then writes of two or more of them: each answers in call order', async () => {
    // Each key's own EXISTS is sent before the writes (they would answer from them).
    const cache = cacheFor()
    await cache.set('a', 1)
    expect(
      await Promise.all([
        cache.hasKey('a'),
        cache.hasKey('b'),
        cache.delete('a'),
        cache.set('b', 1),
      ]),
    ).toEqual([true, false, true, true])
    await cache.set('c', 1)
    expect(
      await Promise.all([cache.hasKey('c'), cache.hasKey('d'), cache.setMany({ c: 2, d: 2 })]),
    ).toEqual([true, false, []])
    // And a write made after the batch was sent (a tick later, its count not yet in).
    await cache.delete('d')
    const asked = Promise.all([cache.hasKey('c'), cache.hasKey('d')])
    await Promise.resolve()
    await Promise.all([cache.delete('c'), cache.set('d', 1)])
    expect(await asked).toEqual([true, false])
  })

  it('hasKey, set and delete of a few keys in one tick answer as one after the other (seeded)', async () => {
    for (const coalesceReads of [true, false]) {
      const random = seededRandom(14)
      for (let tick = 0; tick < 150; tick++) {
        // A cache a tick: after a batch partly there, its next calls are not gathered.
        const cache = createCache({
          location: server.url,
          keyPrefix: uniquePrefix('order'),
          coalesceReads,
        })
        const stored = new Map<string, boolean>()
        for (const k of ['p', 'q', 'r']) stored.set(k, random() < 0.5)
        await cache.deleteMany(['p', 'q', 'r'])
        await cache.setMany(Object.fromEntries([...stored].filter(([, there]) => there)))
        const calls: Array<() => Promise<unknown>> = []
        const expected: unknown[] = []
        for (let i = 0, n = 2 + Math.floor(random() * 10); i < n; i++) {
          const key = ['p', 'q', 'r'][Math.floor(random() * 3)] as string
          const pick = random()
          if (pick < 0.5) {
            calls.push(() => cache.hasKey(key))
            expected.push(stored.get(key))
          } else if (pick < 0.75) {
            calls.push(() => cache.set(key, i))
            expected.push(true)
            stored.set(key, true)
          } else {
            calls.push(() => cache.delete(key))
            expected.push(stored.get(key))
            stored.set(key, false)
          }
        }
        expect(await Promise.all(calls.map((call) => call())), `tick ${tick}`).toEqual(expected)
        await cache.close()
      }
    }
  })

  it('sends a lone hasKey as a plain EXISTS, and a key of another type is there', async () => {
    const cache = cacheFor()
    await cache.hset('h', 'f', 1)
    let found: boolean | undefined
    const commands = await sent(['EXISTS'], async () => {
      found = await cache.hasKey('h')
    })
    expect(found).toBe(true)
    expect(commands).toEqual([['EXISTS', cache.makeKey('h')]])
  })

  it('splits a tick of 300 hasKeys into EXISTS of at most 128 keys', async () => {
    const cache = cacheFor()
    const many = Array.from({ length: 300 }, (_, i) => `m${i}`)
    const commands = await sent(['EXISTS'], async () => {
      expect(await Promise.all(many.map((k) => cache.hasKey(k)))).toEqual(many.map(() => false))
    })
    expect(names(commands)).toEqual([128, 128, 44])
  })

  it('a delete made after a hasKey in the same tick does not overtake it', async () => {
    const cache = cacheFor()
    await cache.set('a', 1)
    expect(await Promise.all([cache.hasKey('a'), cache.delete('a'), cache.hasKey('a')])).toEqual([
      true,
      true,
      false,
    ])
  })

  it('coalesceReads: false sends one EXISTS per call', async () => {
    const cache = cacheFor({ coalesceReads: false })
    const commands = await sent(['EXISTS'], async () => {
      expect(await Promise.all(['a', 'b', 'c'].map((k) => cache.hasKey(k)))).toEqual([
        false,
        false,
        false,
      ])
    })
    expect(names(commands)).toEqual([1, 1, 1])
  })
})

describe('coalesced hget', () => {
  it('sends the hgets of one tick on one hash as one HMGET, each caller its own field', async () => {
    const cache = cacheFor()
    const fields = Array.from({ length: 100 }, (_, i) => `f${i}`)
    for (const [i, field] of fields.entries()) await cache.hset('h', field, { i })
    let values: unknown[] = []
    const commands = await sent(['HGET', 'HMGET'], async () => {
      values = await Promise.all([...fields, 'absent'].map((f) => cache.hget('h', f)))
    })
    expect(values).toEqual([...fields.map((_, i) => ({ i })), null])
    expect(commands).toEqual([['HMGET', cache.makeKey('h'), ...fields, 'absent']])
  })

  it('sends one HMGET per hash read several times, and an HGET for a hash read once', async () => {
    const cache = cacheFor()
    await cache.hset('a', 'x', 1)
    await cache.hset('a', 'y', 2)
    await cache.hset('b', 'x', 3)
    let values: unknown[] = []
    const commands = await sent(['HGET', 'HMGET'], async () => {
      values = await Promise.all([
        cache.hget('a', 'x'),
        cache.hget('b', 'x'),
        cache.hget('a', 'y'),
        cache.hget('gone', 'x'),
        cache.hget('gone', 'y'),
      ])
    })
    expect(values).toEqual([1, 3, 2, null, null])
    expect(commands).toEqual([
      ['HMGET', cache.makeKey('a'), 'x', 'y'],
      ['HGET', cache.makeKey('b'), 'x'],
      ['HMGET', cache.makeKey('gone'), 'x', 'y'],
    ])
  })

  it('a key of another type rejects each of its callers with WRONGTYPE; the other hashes answer', async () => {
    const cache = cacheFor()
    await cache.set('s', 'str')
    await cache.hset('h', 'f', 'v')
    const results = await Promise.allSettled([
      cache.hget('s', 'a'),
      cache.hget('s', 'b'),
      cache.hget('h', 'f'),
    ])
    expect(results[2]).toEqual({ status: 'fulfilled', value: 'v' })
    for (const result of results.slice(0, 2)) {
      expect(result.status).toBe('rejected')
      const error = (result as PromiseRejectedResult).reason
      expect(error).toBeInstanceOf(ResponseError)
      expect(String(error.message)).toMatch(/WRONGTYPE/)
    }
    // With ignoreExceptions, each caller gets null.
    const lenient = cacheFor({ ignoreExceptions: true, keyPrefix: cache.keyPrefix })
    expect(await Promise.all([lenient.hget('s', 'a'), lenient.hget('s', 'b')])).toEqual([
      null,
      null,
    ])
  })

  it('a field that cannot be decoded rejects only its caller, naming its field', async () => {
    const cache = cacheFor()
    await cache.hset('h', 'good', 'fine')
    await raw(cache, 'HSET', cache.makeKey('h'), 'junk', '\x00\xffnot json')
    const [good, junk] = await Promise.allSettled([
      cache.hget('h', 'good'),
      cache.hget('h', 'junk'),
    ])
    expect(good).toEqual({ status: 'fulfilled', value: 'fine' })
    expect(junk.status).toBe('rejected')
    const error = (junk as PromiseRejectedResult).reason
    expect(error).toBeInstanceOf(SerializationError)
    expect(String(error.message)).toContain('junk')
  })

  it('an hset made after an hget in the same tick does not overtake it', async () => {
    const cache = cacheFor()
    await cache.hset('h', 'f', 1)
    const [before, , after] = await Promise.all([
      cache.hget('h', 'f'),
      cache.hset('h', 'f', 2),
      cache.hget('h', 'f'),
    ])
    expect([before, after]).toEqual([1, 2])
  })

  it('a pipeline still sends HGET, and coalesceReads: false one HGET per call', async () => {
    const cache = cacheFor({ coalesceReads: false })
    await cache.hset('h', 'a', 1)
    await cache.hset('h', 'b', 2)
    let values: unknown[] = []
    const commands = await sent(['HGET', 'HMGET'], async () => {
      values = await Promise.all([cache.hget('h', 'a'), cache.hget('h', 'b')])
      const pipe = cacheFor().pipeline()
      values.push(...(await pipe.hget('h', 'a').exec()))
    })
    expect(values.slice(0, 2)).toEqual([1, 2])
    expect(commands.map((c) => c[0]?.toUpperCase())).toEqual(['HGET', 'HGET', 'HGET'])
  })
})

describe('coalesced sismember and zscore', () => {
  it('sends the sismembers of one tick on one set as one SMISMEMBER, each caller its own', async () => {
    const cache = cacheFor()
    await cache.sadd('s', 'a', 'b', { c: 1 })
    await cache.sadd('t', 'a')
    let found: boolean[] = []
    const commands = await sent(['SISMEMBER', 'SMISMEMBER'], async () => {
      found = await Promise.all([
        cache.sismember('s', 'a'),
        cache.sismember('s', 'zz'),
        cache.sismember('t', 'a'),
        cache.sismember('s', { c: 1 }),
        cache.sismember('gone', 'a'),
      ])
    })
    expect(found).toEqual([true, false, true, true, false])
    expect(commands.map((c) => [c[0]?.toUpperCase(), c.length - 2])).toEqual([
      ['SMISMEMBER', 3],
      ['SISMEMBER', 1],
      ['SISMEMBER', 1],
    ])
  })

  it('sends the zscores of one tick on one sorted set as one ZMSCORE, each caller its own', async () => {
    const cache = cacheFor()
    await cache.zadd('z', { a: 1.5, b: -2 })
    let scores: Array<number | null> = []
    const commands = await sent(['ZSCORE', 'ZMSCORE'], async () => {
      scores = await Promise.all([
        cache.zscore('z', 'a'),
        cache.zscore('z', 'b'),
        cache.zscore('z', 'zz'),
        cache.zscore('gone', 'a'),
      ])
    })
    expect(scores).toEqual([1.5, -2, null, null])
    expect(commands.map((c) => [c[0]?.toUpperCase(), c.length - 2])).toEqual([
      ['ZMSCORE', 3],
      ['ZSCORE', 1],
    ])
  })

  it('a key of another type rejects each caller with WRONGTYPE, as the command alone does', async () => {
    const cache = cacheFor()
    await cache.set('str', 1)
    const results = await Promise.allSettled([
      cache.sismember('str', 'a'),
      cache.sismember('str', 'b'),
      cache.zscore('str', 'a'),
      cache.zscore('str', 'b'),
    ])
    for (const result of results) {
      expect(result.status).toBe('rejected')
      expect(String((result as PromiseRejectedResult).reason.message)).toMatch(/WRONGTYPE/)
    }
  })
})

describe('order with coalesced calls', () => {
  it('a write made after a get in the same tick does not overtake it', async () => {
    const cache = cacheFor()
    await cache.set('k', 'old')
    const [before] = await Promise.all([cache.get('k'), cache.set('k', 'new')])
    expect(before).toBe('old')
    expect(await cache.get('k')).toBe('new')
  })

  it('a get of a missing key, then a set of it in the same tick: the get answers its default', async () => {
    const cache = cacheFor()
    await cache.setMany({ a: 1, c: 3 })
    const seen: unknown[] = []
    for (let round = 0; round < 5; round++) {
      // Batches of hits: the MGET then goes alone, and a nil is checked after its reply, when
      // the set made after the get has been sent.
      for (let i = 0; i < 20; i++) await Promise.all([cache.get('a'), cache.get('c')])
      const [, value] = await Promise.all([
        cache.get('a'),
        cache.get('b', 'default'),
        cache.set('b', 'new'),
      ])
      seen.push(value)
      await cache.delete('b')
    }
    expect(seen).toEqual(Array.from({ length: 5 }, () => 'default'))
  })

  it('a command of another family made after a get in the same tick does not overtake it', async () => {
    const cache = cacheFor()
    // Sent first, the get finds no key (its default); overtaken, it would meet a hash (WRONGTYPE).
    const [value] = await Promise.all([cache.get('h', 'none'), cache.hset('h', 'f', 1)])
    expect(value).toBe('none')
    expect(await cache.hget('h', 'f')).toBe(1)
  })

  it('a write made after an incr in the same tick does not overtake it', async () => {
    const cache = cacheFor()
    await cache.set('n', 4)
    // The first incr runs the script with EVAL (the server may not have it), the others with
    // EVALSHA: in call order both ways.
    await cache.incr('n')
    const [result] = await Promise.all([cache.incr('n'), cache.set('n', 0)])
    expect(result).toBe(6)
    expect(await cache.get('n')).toBe(0)
    const [, deleted] = await Promise.all([cache.incr('n'), cache.delete('n')])
    expect(deleted).toBe(true)
    expect(await cache.hasKey('n')).toBe(false)
  })
})

describe('coalesced incr', () => {
  it('runs the incrs of one key in one tick as one script, each caller answered in order', async () => {
    const cache = cacheFor()
    await cache.set('n', 0)
    // The server learns the script (EVAL, where it has not run yet).
    await Promise.all([cache.incr('n', 0), cache.incr('n', 0)])
    let results: unknown[] = []
    const commands = await sent(['EVALSHA', 'EVAL', 'INCRBY', 'INCR'], async () => {
      results = await Promise.all(Array.from({ length: 100 }, (_, i) => cache.incr('n', i + 1)))
    })
    // Each caller sees the value after its own increment: 1, 1+2, 1+2+3…
    expect(results).toEqual(Array.from({ length: 100 }, (_, i) => ((i + 1) * (i + 2)) / 2))
    expect(await cache.get('n')).toBe(5050)
    const scripts = commands.filter((c) => /^EVAL/i.test(c[0] as string))
    expect(scripts).toHaveLength(1)
    // The script's one key, then the 100 deltas.
    expect(scripts[0]?.slice(2, 6)).toEqual(['1', cache.makeKey('n'), '1', '2'])
    expect(scripts[0]).toHaveLength(104)
  })

  it('runs the incrs of different keys in one tick as one script, each key looked up once when one is missing', async () => {
    const cache = cacheFor()
    await cache.setMany({ a: 0, b: 10 })
    await cache.lpush('list', 'x')
    await Promise.all([cache.incr('a', 0), cache.incr('b', 0)]) // the server learns the script
    let results: PromiseSettledResult<unknown>[] = []
    const commands = await sent(['EVALSHA', 'EVAL', 'EXISTS'], async () => {
      results = await Promise.allSettled([
        cache.incr('a'),
        cache.incr('b'),
        cache.incr('gone'),
        cache.incr('a'),
        cache.decr('b'),
        cache.incr('list'),
        cache.incr('gone'),
      ])
    })
    const values = results.map((r) => (r.status === 'fulfilled' ? r.value : r.reason))
    expect(values.slice(0, 2)).toEqual([1, 11])
    expect(values[2]).toBeInstanceOf(KeyNotFoundError)
    expect(values.slice(3, 5)).toEqual([2, 10])
    expect(String((values[5] as Error).message)).toMatch(/WRONGTYPE/)
    expect(values[6]).toBeInstanceOf(KeyNotFoundError)
    const scripts = commands.filter((c) => /^EVAL/i.test(c[0] as string))
    expect(scripts).toHaveLength(1)
    // One key per increment, in the callers' order grouped by key, then the deltas beside them.
    const [a, b, gone, list] = ['a', 'b', 'gone', 'list'].map((k) => cache.makeKey(k))
    expect(scripts[0]?.slice(2)).toEqual([
      '7',
      ...[a, a, b, b, gone, gone, list],
      ...['1', '1', '1', '-1', '1', '1', '1'],
    ])
    // MONITOR shows the script's own commands: one EXISTS of the seven, which counts five, then
    // one EXISTS per key, each once.
    const exists = commands.filter((c) => c[0]?.toUpperCase() === 'EXISTS')
    expect(exists.map((c) => c.length - 1)).toEqual([7, 1, 1, 1, 1])
    expect(await cache.hasKey('gone')).toBe(false)
  })

  it('looks the keys up with one EXISTS when they all exist', async () => {
    const cache = cacheFor()
    await cache.setMany({ a: 0, b: 10, c: 20 })
    await Promise.all([cache.incr('a', 0), cache.incr('b', 0)]) // the server learns the script
    let results: unknown[] = []
    const commands = await sent(['EVALSHA', 'EVAL', 'EXISTS', 'INCRBY'], async () => {
      results = await Promise.all([
        cache.incr('a'),
        cache.incr('b', 5),
        cache.incr('a'),
        cache.decr('c', 2),
      ])
    })
    expect(results).toEqual([1, 15, 2, 18])
    expect(commands.filter((c) => /^EVAL/i.test(c[0] as string))).toHaveLength(1)
    const exists = commands.filter((c) => c[0]?.toUpperCase() === 'EXISTS')
    expect(exists.map((c) => c.length - 1)).toEqual([4])
    expect(commands.filter((c) => c[0]?.toUpperCase() === 'INCRBY')).toHaveLength(4)
  })

  it('sends a lone incr as the one-key script', async () => {
    const cache = cacheFor()
    await cache.set('a', 2)
    await cache.incr('a', 0) // the server learns the script
    const commands = await sent(['EVALSHA', 'EVAL'], async () => {
      expect(await cache.incr('a')).toBe(3)
    })
    expect(commands).toHaveLength(1)
    expect(commands[0]?.slice(2)).toEqual(['1', cache.makeKey('a'), '1'])
  })

  it('splits a tick of 300 incrs of one key into scripts of at most 128', async () => {
    const cache = cacheFor()
    await cache.set('hot', 0)
    let results: unknown[] = []
    const commands = await sent(['EVALSHA', 'EVAL'], async () => {
      results = await Promise.all(Array.from({ length: 300 }, () => cache.incr('hot')))
    })
    expect(results).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
    expect(commands.map((c) => c.length - 4)).toEqual([128, 128, 44])
  })

  it('a missing key rejects every caller with KeyNotFoundError, and creates nothing', async () => {
    const cache = cacheFor()
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => cache.incr('absent')))
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected')
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(KeyNotFoundError)
    }
    expect(await cache.hasKey('absent')).toBe(false)
  })

  it('a key of another type rejects every caller with its WRONGTYPE error', async () => {
    const cache = cacheFor()
    await raw(cache, 'HSET', cache.makeKey('h'), 'f', '1')
    const outcomes = await Promise.allSettled([cache.incr('h'), cache.incr('h')])
    for (const outcome of outcomes) {
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(ResponseError)
      expect(String((outcome as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/)
    }
  })

  it("a value INCRBY refuses takes django-redis's read-add-write path for each caller", async () => {
    const cache = cacheFor()
    await cache.set('f', 1.5)
    const results = await Promise.all([cache.incr('f', 1), cache.incr('f', 1)])
    // Each read-add-write runs on its own, as concurrent calls did before: both read 1.5 or one
    // reads the other's result.
    expect(results.every((r) => r === 2.5 || r === 3.5)).toBe(true)
    expect([2.5, 3.5]).toContain(await cache.get('f'))
  })

  it('results beyond 2^53 keep every digit, each caller its own', async () => {
    const cache = cacheFor()
    await cache.set('big', 2n ** 60n)
    const results = await Promise.all([cache.incr('big'), cache.incr('big', 2)])
    expect(results).toEqual([2n ** 60n + 1n, 2n ** 60n + 3n])
  })

  it('an overflow sends its caller and the steps after it down the fallback, in call order', async () => {
    const cache = cacheFor()
    await raw(cache, 'SET', cache.makeKey('edge'), '9223372036854775806')
    const outcomes = await Promise.allSettled([
      cache.incr('edge', 1),
      cache.incr('edge', 1),
      cache.incr('edge', -5),
    ])
    // INCRBY refused the second: django-redis's read-add-write path runs for it, and for the
    // third after it, each on what the one before it left, as calls one after another would.
    expect(outcomes).toEqual([
      { status: 'fulfilled', value: 9223372036854775807n },
      { status: 'fulfilled', value: 9223372036854775808n },
      { status: 'fulfilled', value: 9223372036854775803n },
    ])
    expect(await cache.get('edge')).toBe(9223372036854775803n)
  })
})

describe('coalesced sets', () => {
  it('runs the sets of one tick as one script, each caller answered, each key with its expiry', async () => {
    const cache = cacheFor()
    await Promise.all([cache.set('w1', 1), cache.set('w2', 2)]) // the server learns the script
    await cache.get('w1') // by its reply, the script asking whether scripts run has answered
    let results: unknown[] = []
    const commands = await sent(['EVALSHA', 'EVAL', 'SET', 'MSET'], async () => {
      results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => cache.set(`s${i}`, { i }, 60)),
      )
    })
    expect(results).toEqual(Array.from({ length: 100 }, () => true))
    // MONITOR shows the script's own SETs after it.
    expect(commands.filter((c) => /^EVAL/i.test(c[0] as string))).toHaveLength(1)
    expect(await cache.get('s99')).toEqual({ i: 99 })
    // s0 by the script's first SET … PX, s99 by its MSET and a PEXPIRE
    for (const key of ['s0', 's99']) {
      const pttl = Number(await raw(cache, 'PTTL', cache.makeKey(key)))
      expect(pttl).toBeGreaterThan(55_000)
      expect(pttl).toBeLessThanOrEqual(60_000)
    }
  })

  it('sends the sets of one tick without an expiry as one MSET, each caller answered', async () => {
    const cache = cacheFor({ timeout: null })
    await cache.set('old', 'x', 60)
    let results: unknown[] = []
    const commands = await sent(['EVALSHA', 'EVAL', 'SET', 'MSET'], async () => {
      results = await Promise.all([
        cache.set('old', 'y'),
        ...Array.from({ length: 99 }, (_, i) => cache.set(`m${i}`, { i })),
      ])
    })
    expect(results).toEqual(Array.from({ length: 100 }, () => true))
    expect(commands.map((c) => c[0]?.toUpperCase())).toEqual(['MSET'])
    expect(commands[0]).toHaveLength(201)
    expect(await cache.getMany(['old', 'm98'])).toEqual(
      new Map<string, unknown>([
        ['old', 'y'],
        ['m98', { i: 98 }],
      ]),
    )
    // MSET drops the expiry a key had, as SET does.
    expect(Number(await raw(cache, 'PTTL', cache.makeKey('old')))).toBe(-1)
  })

  it('sends a lone set as a plain SET, and a set with nx or xx on its own', async () => {
    const cache = cacheFor()
    const commands = await sent(['EVALSHA', 'EVAL', 'SET'], async () => {
      expect(await cache.set('one', 1)).toBe(true)
      expect(await Promise.all([cache.add('two', 2), cache.add('two', 3)])).toEqual([true, false])
    })
    expect(commands.map((c) => c.slice(0, 3).join(' '))).toEqual([
      `SET ${cache.makeKey('one')} 1`,
      `SET ${cache.makeKey('two')} 2`,
      `SET ${cache.makeKey('two')} 3`,
    ])
    expect(await cache.get('two')).toBe(2)
  })

  it('keeps the order of calls: sets with other expiries, gets and sets of one key', async () => {
    const cache = cacheFor()
    const [, , first, , second] = await Promise.all([
      cache.set('k', 'a', 10),
      cache.set('k', 'b', 100),
      cache.get('k'),
      cache.set('k', 'c', null),
      cache.get('k'),
    ])
    expect([first, second]).toEqual(['b', 'c'])
    expect(await cache.ttl('k')).toBeNull()
    await Promise.all([cache.set('k', 'd', 100), cache.delete('k')])
    expect(await cache.hasKey('k')).toBe(false)
  })

  it('a large value is sent alone, in call order with the batch around it', async () => {
    const cache = cacheFor()
    await Promise.all([cache.set('w1', 1), cache.set('w2', 2)]) // the server learns the script
    await cache.get('w1') // by its reply, the script asking whether scripts run has answered
    const big = 'y'.repeat(32 * 1024)
    const commands = await sent(['EVALSHA', 'EVAL', 'SET'], async () => {
      await Promise.all([
        cache.set('a', 1),
        cache.set('b', 2),
        cache.set('big', big),
        cache.set('c', 3),
      ])
    })
    // MONITOR shows each script's own SETs after it.
    expect(
      commands.map((c) => `${script(c[0]) ?? c[0]?.toUpperCase()} ${script(c[0]) ? c[3] : c[1]}`),
    ).toEqual([
      `script ${cache.makeKey('a')}`,
      `SET ${cache.makeKey('a')}`,
      `SET ${cache.makeKey('b')}`,
      `SET ${cache.makeKey('big')}`,
      `SET ${cache.makeKey('c')}`,
    ])
    expect(await cache.getMany(['a', 'b', 'big', 'c'])).toEqual(
      new Map<string, unknown>([
        ['a', 1],
        ['b', 2],
        ['big', big],
        ['c', 3],
      ]),
    )
  })

  it('a value that cannot be encoded rejects only its caller', async () => {
    const cache = cacheFor()
    const outcomes = await Promise.allSettled([
      cache.set('ok', 1),
      cache.set('bad', new Map()),
      cache.set('ok2', 2),
    ])
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(SerializationError)
    expect(await cache.getMany(['ok', 'bad', 'ok2'])).toEqual(
      new Map([
        ['ok', 1],
        ['ok2', 2],
      ]),
    )
  })
})

describe('setMany with an expiry', () => {
  it('sends one script for the keys, each stored with its expiry', async () => {
    const cache = cacheFor()
    const entries = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`s${i}`, { i }]))
    await cache.setMany({ warm: 1, up: 2 }, 60) // the server learns the script
    await cache.get('warm') // by its reply, the script asking whether scripts run has answered
    const commands = await sent(['EVALSHA', 'EVAL', 'SET', 'MSET', 'PEXPIRE'], async () => {
      expect(await cache.setMany(entries, 60)).toEqual([])
    })
    // MONITOR shows the script's own commands after it: from 16 keys, the first key's SET … PX
    // (which refuses a bad expiry before anything is stored), one MSET, a PEXPIRE each.
    expect(commands.map((c) => script(c[0]) ?? c[0]?.toUpperCase())).toEqual([
      'script',
      'SET',
      'MSET',
      ...Array.from({ length: 49 }, () => 'PEXPIRE'),
    ])
    expect(commands[2]).toHaveLength(1 + 2 * 49)
    expect(await cache.getMany(Object.keys(entries))).toEqual(new Map(Object.entries(entries)))
    for (const key of ['s0', 's49']) {
      const pttl = Number(await raw(cache, 'PTTL', cache.makeKey(key)))
      expect(pttl).toBeGreaterThan(55_000)
      expect(pttl).toBeLessThanOrEqual(60_000)
    }
  })

  it('up to 15 keys, sends one script of a SET … PX each', async () => {
    const cache = cacheFor()
    const entries = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`f${i}`, i]))
    await cache.setMany({ warm: 1, up: 2 }, 60) // the server learns the script
    await cache.get('warm') // by its reply, the script asking whether scripts run has answered
    const commands = await sent(['EVALSHA', 'EVAL', 'SET', 'MSET', 'PEXPIRE'], async () => {
      expect(await cache.setMany(entries, 60)).toEqual([])
    })
    expect(commands.map((c) => script(c[0]) ?? c[0]?.toUpperCase())).toEqual([
      'script',
      ...Array.from({ length: 15 }, () => 'SET'),
    ])
    expect(await cache.getMany(Object.keys(entries))).toEqual(new Map(Object.entries(entries)))
    const pttl = Number(await raw(cache, 'PTTL', cache.makeKey('f14')))
    expect(pttl).toBeGreaterThan(55_000)
    expect(pttl).toBeLessThanOrEqual(60_000)
  })

  it('a key of another type already there is overwritten, as SET does', async () => {
    const cache = cacheFor()
    await raw(cache, 'HSET', cache.makeKey('h'), 'f', '1')
    expect(await cache.setMany({ h: 'now a string', other: 1 }, 60)).toEqual([])
    expect(await cache.get('h')).toBe('now a string')
  })
})

describe('coalesced gets when the server stalls', () => {
  it('rejects every caller of the MGET within the bound, and works after resume', async () => {
    const stalled = await startRedis()
    const cache = createCache({
      location: stalled.url,
      keyPrefix: 'st',
      socketConnectTimeout: 0.5,
      socketTimeout: 0.5,
    })
    const setup = createCache({ location: stalled.url, keyPrefix: 'st' })
    try {
      // The writes and the first connection with the default bounds: on a loaded machine a
      // 0.5 s bound may pass before the server answers its first command.
      await setup.setMany({ a: 1, b: 2, c: 3 })
      await setup.close()
      await readAll(cache)
      stalled.pause()
      const results = await Promise.all(['a', 'b', 'c', 'd'].map((k) => timed(cache.get(k))))
      for (const result of results) {
        expect(result.error).toBeInstanceOf(ConnectionError)
        expect(result.ms).toBeLessThan(500 + 4500)
      }
      stalled.resume()
      expect(await readAll(cache)).toEqual([1, 2, 3])
    } finally {
      stalled.resume()
      await setup.close()
      await cache.close()
      await stalled.stop()
    }
  })
})

describe('coalesced gets on other topologies', () => {
  let cluster: TestCluster | undefined

  afterAll(async () => {
    await cluster?.stop()
  })

  it('on a cluster, gets of keys in many slots all resolve (no CROSSSLOT)', async () => {
    cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
    const cache = createCache({ client: 'cluster', location: [...cluster.seeds], keyPrefix: 'cl' })
    open.push(cache)
    const keys = Array.from({ length: 200 }, (_, i) => `user:${i}`)
    await cache.setMany(Object.fromEntries(keys.map((k, i) => [k, i])))
    const values = await Promise.all([...keys, 'absent'].map((k) => cache.get(k, 'none')))
    expect(values).toEqual([...keys.map((_, i) => i), 'none'])
    // Batches of hits only, then nils in many slots, checked after the MGET: each a default.
    for (let i = 0; i < 16; i++) await Promise.all(keys.map((k) => cache.get(k)))
    const mixed = [...keys.slice(0, 50), ...keys.map((k) => `gone:${k}`)]
    const after = await Promise.all(mixed.map((k) => cache.get(k, 'none')))
    expect(after).toEqual([...keys.slice(0, 50).map((_, i) => i), ...keys.map(() => 'none')])
  })

  it('on a cluster, setMany with an expiry over many slots stores every key, twice', async () => {
    cluster ??= await startCluster({ primaries: 3, replicasPerPrimary: 0 })
    const cache = createCache({ client: 'cluster', location: [...cluster.seeds], keyPrefix: 'cx' })
    open.push(cache)
    const entries = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k:${i}`, i]))
    // Keys of several slots: one pipeline of SETs, from the first call on.
    for (let round = 0; round < 2; round++) {
      expect(await cache.setMany(entries, 60)).toEqual([])
      expect(await cache.getMany(Object.keys(entries))).toEqual(new Map(Object.entries(entries)))
      expect(await cache.ttl('k:7')).toBeGreaterThan(50)
    }
    // Keys of one slot (a hash tag) on the cluster, after that: still stored.
    expect(await cache.setMany({ '{t}a': 1, '{t}b': 2 }, 60)).toEqual([])
    expect(await cache.getMany(['{t}a', '{t}b'])).toEqual(
      new Map([
        ['{t}a', 1],
        ['{t}b', 2],
      ]),
    )
  })

  it('on a cluster, sets of one tick over many slots are all stored, twice', async () => {
    cluster ??= await startCluster({ primaries: 3, replicasPerPrimary: 0 })
    const seeds = [...cluster.seeds]
    // With an expiry (a script) and without (an MSET): keys of several slots go as a pipeline.
    for (const timeout of [300, null]) {
      const cache = createCache({ client: 'cluster', location: seeds, keyPrefix: 'cs', timeout })
      open.push(cache)
      for (let round = 0; round < 2; round++) {
        const keys = Array.from({ length: 100 }, (_, i) => `w:${timeout}:${round}:${i}`)
        const stored = await Promise.all(keys.map((k, i) => cache.set(k, i)))
        expect(stored).toEqual(keys.map(() => true))
        expect(await cache.getMany(keys)).toEqual(new Map(keys.map((k, i) => [k, i])))
      }
      const ttl = await cache.ttl(`w:${timeout}:1:7`)
      if (timeout === null) expect(ttl).toBeNull()
      else expect(ttl).toBeGreaterThan(290)
    }
  })

  it("on a cluster, a new cache's first writes over several slots are not overtaken by the calls after them", async () => {
    // The cluster refuses a script or an MSET over several slots whole: learned from that
    // refusal, the writes went again key by key a round trip late, after the calls behind them.
    cluster ??= await startCluster({ primaries: 3, replicasPerPrimary: 0 })
    const seeds = [...cluster.seeds]
    const fresh = () => {
      const cache = createCache({
        client: 'cluster',
        location: seeds,
        keyPrefix: uniquePrefix('co'),
      })
      open.push(cache)
      return cache
    }
    // Hash tags: two slots whatever the prefix.
    const [a, b] = ['{a}1', '{b}1']
    expect(keySlot(fresh().makeKey(a))).not.toBe(keySlot(fresh().makeKey(b)))
    for (const timeout of [60, null]) {
      const cache = fresh()
      const [, , deleted] = await Promise.all([
        cache.set(a, 1, timeout),
        cache.set(b, 2, timeout),
        cache.delete(a),
      ])
      expect(deleted).toBe(true)
      expect(await cache.get(a)).toBeNull()
    }
    const cache = fresh()
    const [, deleted] = await Promise.all([
      cache.setMany({ [a]: 1, [b]: 2 }, 60),
      cache.deleteMany([a, b]),
    ])
    expect(deleted).toBe(2)
    expect(await cache.getMany([a, b])).toEqual(new Map())
    const counters = fresh()
    await counters.setMany({ [a]: 1, [b]: 1 })
    const [incremented, , read] = await Promise.all([
      counters.incr(a),
      counters.incr(b),
      counters.get(a),
    ])
    expect([incremented, read]).toEqual([2, 2])
  })

  it('on a cluster, incrs of one tick over many slots are each answered, twice', async () => {
    cluster ??= await startCluster({ primaries: 3, replicasPerPrimary: 0 })
    const cache = createCache({ client: 'cluster', location: [...cluster.seeds], keyPrefix: 'ci' })
    open.push(cache)
    const keys = Array.from({ length: 50 }, (_, i) => `n:${i}`)
    await cache.setMany(Object.fromEntries(keys.map((k, i) => [k, i])))
    for (let round = 1; round <= 2; round++) {
      const results = await Promise.allSettled([...keys, 'n:gone'].map((k) => cache.incr(k, 10)))
      expect(results.slice(0, 50).map((r) => (r as PromiseFulfilledResult<number>).value)).toEqual(
        keys.map((_, i) => i + 10 * round),
      )
      expect((results[50] as PromiseRejectedResult).reason).toBeInstanceOf(KeyNotFoundError)
    }
  })

  it('on a cluster, hasKeys of one tick over many slots each get their own answer', async () => {
    cluster ??= await startCluster({ primaries: 3, replicasPerPrimary: 0 })
    const cache = createCache({ client: 'cluster', location: [...cluster.seeds], keyPrefix: 'ch' })
    open.push(cache)
    const keys = Array.from({ length: 100 }, (_, i) => `e:${i}`)
    await cache.setMany(Object.fromEntries(keys.map((k) => [k, 1])))
    const ask = (list: string[]) => Promise.all(list.map((k) => cache.hasKey(k)))
    expect(await ask(keys)).toEqual(keys.map(() => true))
    const gone = keys.map((k) => `gone:${k}`)
    expect(await ask(gone)).toEqual(gone.map(() => false))
    const mixed = keys.flatMap((k, i) => [k, gone[i] as string])
    expect(await ask(mixed)).toEqual(mixed.map((_, i) => i % 2 === 0))
  })

  it('on a cluster, hgets of one tick over many hashes each get their own field', async () => {
    cluster ??= await startCluster({ primaries: 3, replicasPerPrimary: 0 })
    const cache = createCache({ client: 'cluster', location: [...cluster.seeds], keyPrefix: 'cg' })
    open.push(cache)
    const hashes = Array.from({ length: 30 }, (_, i) => `hash:${i}`)
    for (const [i, hash] of hashes.entries()) {
      await cache.hset(hash, 'a', i)
      await cache.hset(hash, 'b', i + 100)
    }
    const calls = hashes.flatMap((h) => [
      cache.hget(h, 'a'),
      cache.hget(h, 'b'),
      cache.hget(h, 'c'),
    ])
    expect(await Promise.all(calls)).toEqual(hashes.flatMap((_, i) => [i, i + 100, null]))
  })

  it('with replicas, the MGET goes to a replica', async () => {
    const set = await startReplicaSet({ replicas: 1 })
    try {
      await set.waitForSync()
      const cache = createCache({ location: [...set.urls], keyPrefix: 'rp' })
      open.push(cache)
      await cache.setMany({ a: 'A', b: 'B' })
      await cache.connection.command(['WAIT', '1', '5000'])
      const replica = set.replicas[0] as RedisServer
      const seen = await monitor(replica.port)
      try {
        // The replica enters the read rotation once it reports itself in sync; until then the
        // primary serves reads.
        const until = performance.now() + 15_000
        let mget: string[] | undefined
        while (mget === undefined && performance.now() < until) {
          expect(await Promise.all([cache.get('a'), cache.get('b')])).toEqual(['A', 'B'])
          await new Promise((r) => setTimeout(r, 100))
          mget = seen.commands.find((c) => c[0]?.toUpperCase() === 'MGET')
        }
        expect(mget).toEqual(['MGET', cache.makeKey('a'), cache.makeKey('b')])
      } finally {
        seen.stop()
      }
    } finally {
      for (const cache of open.splice(0)) await cache.close()
      await set.stop()
    }
  })
})
