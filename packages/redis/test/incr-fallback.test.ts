// incr on a value Redis's INCRBY refuses (a float, an integer beyond int64) falls back to read,
// add, write, as django-redis does. Concurrent calls once each read the same value and wrote the
// same sum: five incr(1) on 1.5 answered 2.5 five times and left 2.5.
import { type Cache, createCache } from '@cachex/redis'
import { standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let server: { url: string; stop(): Promise<void> }
const opened: Cache[] = []

beforeAll(async () => {
  server = await standaloneServer()
})

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()))
  await server?.stop()
})

const INT64_MAX = 9223372036854775807n

describe.each([
  ['redis', () => server.url],
  ['memory://', () => `memory://${uniquePrefix('incrfb')}`],
])('incr beyond INCRBY (%s)', (_name, location) => {
  function make(keyPrefix: string, where = location()): Cache {
    const cache = createCache({ location: where, keyPrefix })
    opened.push(cache)
    return cache
  }

  it('answers each concurrent caller in call order and loses no increment', async () => {
    const cache = make(uniquePrefix('incr'))
    await cache.set('f', 1.5)
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => cache.incr('f')))
    expect(results).toEqual([2.5, 3.5, 4.5, 5.5, 6.5])
    expect(await cache.get('f')).toBe(6.5)

    await cache.set('big', INT64_MAX)
    const big = await Promise.all([cache.incr('big'), cache.incr('big', 2), cache.incr('big', 3)])
    expect(big).toEqual([INT64_MAX + 1n, INT64_MAX + 3n, INT64_MAX + 6n])
    expect(await cache.get('big')).toBe(INT64_MAX + 6n)
  })

  it('keeps the TTL, and a pipeline of incrs on one float adds them all', async () => {
    const cache = make(uniquePrefix('incr'))
    await cache.set('f', 0.5, 100)
    const pipe = cache.pipeline()
    pipe.incr('f').incr('f', 2).incr('f')
    expect(await pipe.exec()).toEqual([1.5, 3.5, 4.5])
    expect(await cache.get('f')).toBe(4.5)
    const ttl = await cache.ttl('f')
    expect(ttl).toBeGreaterThan(90)
    expect(ttl).toBeLessThanOrEqual(100)
  })

  it('two clients on one value lose no increment: a write in between is read again', async () => {
    const where = location()
    const prefix = uniquePrefix('incr')
    const a = make(prefix, where)
    const b = make(prefix, where)
    await a.set('f', 0.25)
    const rounds = 25
    const calls: Array<Promise<number | bigint | null>> = []
    for (let i = 0; i < rounds; i++) calls.push(a.incr('f'), b.incr('f', 2))
    const results = await Promise.all(calls)
    expect(await a.get('f')).toBe(0.25 + 3 * rounds)
    // Every caller saw a value of its own: no two read the same value and wrote the same sum.
    expect(new Set(results.map(Number)).size).toBe(2 * rounds)
  })

  it('a missing key still rejects, and a value that is no number is left as it is', async () => {
    const cache = make(uniquePrefix('incr'))
    await expect(cache.incr('nope')).rejects.toMatchObject({ code: 'E_KEY_NOT_FOUND' })
    await cache.set('s', 'text')
    await expect(cache.incr('s')).rejects.toMatchObject({ code: 'E_NOT_A_NUMBER' })
    expect(await cache.get('s')).toBe('text')
  })

  it('incrs of one tick answer as one after another when a step crosses int64 midway', async () => {
    const cache = make(uniquePrefix('incr'))
    await cache.set('k', INT64_MAX - 1n)
    const one = await Promise.all([
      cache.incr('k', 1),
      cache.incr('k', 1),
      cache.incr('k', -5),
      cache.incr('k', 1),
    ])
    expect(one).toEqual([INT64_MAX, INT64_MAX + 1n, INT64_MAX - 4n, INT64_MAX - 3n])
    expect(await cache.get('k')).toBe(INT64_MAX - 3n)
    // Two keys in one tick (one script over several keys), interleaved.
    await cache.setMany({ a: INT64_MAX - 1n, b: 1 })
    const two = await Promise.all([
      cache.incr('a', 1),
      cache.incr('b', 1),
      cache.incr('a', 1),
      cache.incr('b', 1),
      cache.incr('a', -5),
      cache.incr('a', 1),
    ])
    expect(two).toEqual([INT64_MAX, 2, INT64_MAX + 1n, 3, INT64_MAX - 4n, INT64_MAX - 3n])
  })

  it('a value brought back from beyond int64 into the safe range is a number again', async () => {
    const cache = make(uniquePrefix('incr'))
    await cache.set('k', INT64_MAX + 1n)
    expect(await cache.decr('k', INT64_MAX - 4n)).toBe(5)
    expect(await cache.get('k')).toBe(5)
    await cache.set('z', 2n ** 64n)
    expect(await cache.incr('z', -(2n ** 64n), { as: 'number' })).toBe(0)
    await cache.set('s', 7)
    expect(await cache.incr('s', 2n ** 70n)).toBe(2n ** 70n + 7n)
    expect(await cache.incr('s', -(2n ** 70n), { as: 'number' })).toBe(7)
  })

  it('a float beyond 2^53 stays a float, as in Python (1e20 + 1 == 1e20)', async () => {
    const cache = make(uniquePrefix('incr'))
    await cache.set('f', 1e20)
    expect(await cache.incr('f')).toBe(1e20)
    expect(await cache.get('f')).toBe(1e20)
    expect(await cache.incr('f', 2n ** 60n)).toBe(1e20 + 2 ** 60)
    // as: 'number' refuses a result past where numbers count exactly, and changes nothing
    await expect(cache.incr('f', 1, { as: 'number' })).rejects.toMatchObject({
      code: 'E_NOT_A_NUMBER',
    })
    expect(await cache.get('f')).toBe(1e20 + 2 ** 60)
  })
  it('a write made right after an incr of a float, in the same tick, stays: the incr came first', async () => {
    const cache = make(uniquePrefix('incr'))
    await cache.set('f', 1.5)
    const [sum] = await Promise.all([cache.incr('f'), cache.set('f', 10)])
    expect(sum).toBe(2.5)
    expect(await cache.get('f')).toBe(10)

    await cache.set('g', 1.5)
    const [gone] = await Promise.all([cache.incr('g', 2), cache.delete('g')])
    expect(gone).toBe(3.5)
    expect(await cache.hasKey('g')).toBe(false)

    await cache.set('m', 0.5)
    const [many] = await Promise.all([cache.incr('m'), cache.setMany({ m: 'after', x: 1 })])
    expect(many).toBe(1.5)
    expect(await cache.get('m')).toBe('after')

    await cache.set('n', 0.5)
    const [exact] = await Promise.all([cache.incr('n', 1, { as: 'number' }), cache.set('n', 7)])
    expect(exact).toBe(1.5)
    expect(await cache.get('n')).toBe(7)
  })

  it('incr, set, incr of one float in one tick answer as one after another', async () => {
    const cache = make(uniquePrefix('incr'))
    await cache.set('f', 1.5)
    const [a, , b] = await Promise.all([cache.incr('f'), cache.set('f', 10), cache.incr('f')])
    expect([a, b]).toEqual([2.5, 11])
    expect(await cache.get('f')).toBe(11)

    // Two incrs of the float gathered into one script, then a set: each incr saw the one before.
    await cache.set('g', 1.5)
    const [c, d] = await Promise.all([cache.incr('g'), cache.incr('g', 2), cache.set('g', 'last')])
    expect([c, d]).toEqual([2.5, 4.5])
    expect(await cache.get('g')).toBe('last')

    // The same across keys (one script over several keys).
    await cache.setMany({ h: 0.25, i: 1 })
    const [e, f, g] = await Promise.all([
      cache.incr('h'),
      cache.incr('i'),
      cache.incr('h'),
      cache.set('h', 'last'),
    ])
    expect([e, f, g]).toEqual([1.25, 2, 2.25])
    expect(await cache.get('h')).toBe('last')
  })
  it('a later write of the same bytes stands, and writes that keep the value lose no increment', async () => {
    const cache = make(uniquePrefix('incr'))
    // Reset to the value it had: the incr came first, the set last.
    await cache.set('f', 1.5)
    const [sum] = await Promise.all([cache.incr('f'), cache.set('f', 1.5)])
    expect(sum).toBe(2.5)
    expect(await cache.get('f')).toBe(1.5)
    await cache.set('b', INT64_MAX)
    await Promise.all([cache.incr('b'), cache.setMany({ b: INT64_MAX })])
    expect(await cache.get('b')).toBe(INT64_MAX)

    // touch, expire, an add that stores nothing, a pattern delete of other keys, in the same
    // tick, while another cache increments too: every increment lands.
    const where = location()
    const prefix = uniquePrefix('incr')
    const a = make(prefix, where)
    const b = make(prefix, where)
    await a.set('g', 0.5)
    await a.set('other', 1)
    const calls: Array<Promise<unknown>> = []
    for (let i = 0; i < 10; i++) {
      calls.push(
        a.incr('g'),
        a.touch('g', 100),
        a.expire('g', 100),
        a.add('g', 'no'),
        a.deletePattern('oth*'),
        b.incr('g', 2),
      )
    }
    await Promise.all(calls)
    expect(await a.get('g')).toBe(0.5 + 30)
  })

  it('a rename right after an incr of a float, in the same tick: the incr rejects, nothing lost silently', async () => {
    const cache = make(uniquePrefix('incr'))
    await cache.set('f', 1.5)
    const [incr, renamed] = await Promise.allSettled([cache.incr('f'), cache.rename('f', 'g')])
    expect(renamed.status).toBe('fulfilled')
    expect(incr).toMatchObject({ status: 'rejected', reason: { code: 'E_KEY_NOT_FOUND' } })
    expect(await cache.get('g')).toBe(1.5)
  })
  it('writes that do not replace the value keep the increment: a refused set, a pattern that does not match', async () => {
    const cache = make(uniquePrefix('incr'))
    await cache.set('user:1:score', 1.5)
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    const [sum, , refused] = await Promise.allSettled([
      cache.incr('user:1:score'),
      cache.deletePattern('user:*:name'),
      cache.set('user:1:score', cyclic),
    ])
    expect(sum).toEqual({ status: 'fulfilled', value: 2.5 })
    expect(refused.status).toBe('rejected')
    expect(await cache.get('user:1:score')).toBe(2.5)
    // A pipeline's SET of the same bytes, made after it: it stands.
    await cache.set('p', 1.5)
    await Promise.all([cache.incr('p'), cache.pipeline().set('p', 1.5).exec()])
    expect(await cache.get('p')).toBe(1.5)
  })

  it('incrs as numbers of one float, then a write of another family that fails, lose no increment', async () => {
    const cache = make(uniquePrefix('incr'))
    const number = { as: 'number' } as const
    // A write of another family that may replace the value (it fails here: WRONGTYPE).
    const writes: Array<[string, (key: string) => Promise<unknown>]> = [
      ['hset', (key) => cache.hset(key, 'x', 1)],
      ['lpush', (key) => cache.lpush(key, 1)],
      ['sadd', (key) => cache.sadd(key, 1)],
      ['add', (key) => cache.add(key, 9)],
    ]
    for (const [name, write] of writes) {
      await cache.set(name, 1.5)
      const [a, b, c] = await Promise.all([
        cache.incr(name, 1, number),
        cache.incr(name, 1, number),
        cache.decr(name, 2, number),
        write(name).catch(() => 'failed'),
      ])
      expect([name, a, b, c]).toEqual([name, 2.5, 3.5, 1.5])
      expect([name, await cache.get(name)]).toEqual([name, 1.5])
    }
  })

  it('incrs of one float in two ticks, then a write of another family that fails, lose no increment', async () => {
    const cache = make(uniquePrefix('incr'))
    // The second's script runs before the first's sum is written: both see 1.5.
    await cache.set('ticks', 1.5)
    const first = cache.incr('ticks')
    await Promise.resolve()
    const rest = [cache.incr('ticks'), cache.hset('ticks', 'x', 1).catch(() => 'failed')]
    expect(await Promise.all([first, ...rest])).toEqual([2.5, 3.5, 'failed'])
    expect(await cache.get('ticks')).toBe(3.5)
  })

  it('plain incrs and incrs as numbers of one float, in one tick, answer in call order', async () => {
    const cache = make(uniquePrefix('incr'))
    const number = { as: 'number' } as const
    await cache.set('mix', 1.5)
    const mixed = await Promise.all([
      cache.incr('mix'),
      cache.incr('mix', 1, number),
      cache.decr('mix', 2),
    ])
    expect(mixed).toEqual([2.5, 3.5, 1.5])
    expect(await cache.get('mix')).toBe(1.5)
    // Then a write of another family that fails: no increment lost either.
    await cache.set('mix', 1.5)
    const other = await Promise.all([
      cache.incr('mix', 1, number),
      cache.incr('mix', 10),
      cache.incr('mix', 100, number),
      cache.lpush('mix', 1).catch(() => 'failed'),
    ])
    expect(other).toEqual([2.5, 12.5, 112.5, 'failed'])
    expect(await cache.get('mix')).toBe(112.5)
    // With other keys in the tick (gathered in one script over several keys).
    await cache.setMany({ a: 0.5, b: 1, c: 2 })
    const keys = await Promise.all([
      cache.incr('a'),
      cache.incr('b'),
      cache.incr('a', 1, number),
      cache.incr('c', 1, number),
      cache.incr('b'),
      cache.incr('a', 2),
    ])
    expect(keys).toEqual([1.5, 2, 2.5, 3, 3, 4.5])
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual(
      new Map([
        ['a', 4.5],
        ['b', 3],
        ['c', 3],
      ]),
    )
  })

  it('incrs as numbers of one float answer one after another around a set', async () => {
    const cache = make(uniquePrefix('incr'))
    const number = { as: 'number' } as const
    // A set after both: each answers as if it ran alone, the set stands.
    await cache.set('f', 1.5)
    const after = await Promise.all([
      cache.incr('f', 1, number),
      cache.incr('f', 1, number),
      cache.set('f', 10),
    ])
    expect(after.slice(0, 2)).toEqual([2.5, 3.5])
    expect(await cache.get('f')).toBe(10)
    // A set between them of the very bytes the first saw: the second starts from it.
    await cache.set('g', 1.5)
    const between = await Promise.all([
      cache.incr('g', 1, number),
      cache.set('g', 1.5),
      cache.incr('g', 1, number),
      cache.hset('g', 'x', 1).catch(() => 'failed'),
    ])
    expect([between[0], between[2]]).toEqual([2.5, 2.5])
    expect(await cache.get('g')).toBe(2.5)
  })
  it('a *store into the key right after an incr of a float, in the same tick: the incr answers its sum', async () => {
    // The fallback's swap found a set where the float was: it once rejected with the script's
    // raw WRONGTYPE.
    const cache = make(uniquePrefix('incr'))
    await cache.set('f', 1.5)
    await cache.sadd('a', 'x')
    const [sum, stored] = await Promise.all([cache.incr('f'), cache.sinterstore('f', 'a')])
    expect([sum, stored]).toEqual([2.5, 1])
    expect(await cache.smembers('f')).toEqual(['x'])
  })

  it('a float incr after its value was set back, while other calls keep the cache busy, adds to what is stored', async () => {
    // A finished chain of fallbacks is kept while calls are under way (a pipeline's fallback may
    // come after it): a later incr whose script saw the chain's first bytes again (written back
    // by another client) once started from the chain's old sum, and its increment was lost.
    const keyPrefix = uniquePrefix('incr')
    const where = location()
    const cache = make(keyPrefix, where)
    const other = make(keyPrefix, where)
    let on = true
    const pumps = [0, 1, 2].map(async (i) => {
      for (let n = 0; on; n++) {
        await Promise.all([cache.hasKey(`h${i}a`), cache.hasKey(`h${i}b`)])
        if (n % 3 === i) await new Promise((resolve) => setImmediate(resolve))
        await cache.set(`g${i}`, 0.5)
        await Promise.all([cache.incr(`g${i}`), cache.incr(`g${i}`), cache.incr(`g${i}`)])
      }
    })
    const stored: unknown[] = []
    try {
      for (let round = 0; round < 20; round++) {
        await cache.set('f', 1.5)
        await cache.incr('f')
        await other.set('f', 1.5)
        await Promise.all([cache.incr('f'), cache.pipeline().touch('f', 100).exec()])
        stored.push(await other.get('f'))
      }
    } finally {
      on = false
      await Promise.all(pumps)
    }
    expect(stored).toEqual(new Array(20).fill(2.5))
  })
})
