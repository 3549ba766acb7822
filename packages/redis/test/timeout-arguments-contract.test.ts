// The timeout / options argument contract (docs/configuration.md "Per-call options", DESIGN §2):
// - an options object is an ordinary object: a Date, a Map, a boxed Number or a Set in an
//   options position is refused with InvalidArgumentError, never read as `{}` (which would store
//   with the default 300 s); a Date in a timeout position points at expireAt() / pexpireAt();
// - a finite timeout of 0 or less expires at once, however negative: `set(k, v, -1e16)` deletes
//   the key (as django-redis does) instead of being refused as "out of range". expireAt() and
//   pexpireAt() take points in time and keep their range checks; NaN and -Infinity stay refused.
// Against a real redis-server (through @cachex/test-utils) and memory://.
import { runInNewContext } from 'node:vm'
import { type Cache, createCache, InvalidArgumentError } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { BACKENDS, type Backend, backendServer, rawPttl } from './helpers.ts'

async function settle(p: Promise<unknown>): Promise<unknown> {
  try {
    return await p
  } catch (e) {
    return e
  }
}

/** What `p` rejected with: an `InvalidArgumentError`, whose message is returned. */
async function refusal(p: Promise<unknown>): Promise<string> {
  const r = await settle(p)
  expect(r).toBeInstanceOf(InvalidArgumentError)
  return (r as Error).message
}

class Settings {
  timeout = 60
}

describe.each(BACKENDS)('%s', (backend: Backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache
  const opened: Cache[] = []
  const make = (o: object = {}) => {
    const c = createCache({ location: server.url, keyPrefix: uniquePrefix('targ'), ...o })
    opened.push(c)
    return c
  }
  beforeAll(async () => {
    server = await backendServer(backend)
    cache = make()
  })
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close()))
    await server?.stop()
  })
  beforeEach(async () => {
    await cache.clear()
    await cache.set('kept', 'old', null)
  })

  const inAMinute = () => new Date(Date.now() + 60_000)

  describe('a non-plain object in the timeout / options position is refused', () => {
    it('a Date as the timeout: set, add, touch, setMany, getOrSet point at expireAt()', async () => {
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['set', () => cache.set('d', 'v', inAMinute() as never)],
        ['add', () => cache.add('d', 'v', inAMinute() as never)],
        ['touch', () => cache.touch('kept', inAMinute() as never)],
        ['setMany', () => cache.setMany({ d: 1 }, inAMinute() as never)],
        ['getOrSet', () => cache.getOrSet('d', () => 1, inAMinute() as never)],
        ['set', () => cache.set('d', 'v', { timeout: inAMinute() as never })],
        ['set', () => cache.set('d', 'v', { timeout: inAMinute() as never, nx: true })],
      ]
      for (const [method, call] of calls) {
        const message = await refusal(call())
        expect(message).toContain(`${method}() takes a timeout in seconds`)
        expect(message).toContain('not a Date')
        expect(message).toMatch(/expireAt\(\)/)
      }
      // Nothing stored, and the persistent key kept no expiry.
      expect(await rawPttl(cache, 'd')).toBe(-2)
      expect(await rawPttl(cache, 'kept')).toBe(-1)
      expect(await cache.get('kept')).toBe('old')
    })

    it('a Map, a boxed Number, a Set, a Promise as the timeout or options', async () => {
      const refused: Array<[unknown, RegExp]> = [
        [new Map([['timeout', 5]]), /got a Map/],
        [new Number(60), /got a Number object/],
        [new Set(), /got a Set/],
        [Promise.resolve(60), /got a Promise/],
        [new Error('60'), /got an Error/],
        [new Uint8Array(2), /got a Uint8Array/],
      ]
      for (const [given, named] of refused) {
        expect(await refusal(cache.set('m', 'v', given as never))).toMatch(named)
        expect(await refusal(cache.add('m', 'v', given as never))).toMatch(named)
        expect(await refusal(cache.touch('kept', given as never))).toMatch(named)
        expect(await refusal(cache.setMany({ m: 1 }, given as never))).toMatch(named)
        expect(await refusal(cache.getOrSet('m', () => 1, given as never))).toMatch(named)
        // In the options position after positional seconds, too.
        expect(await refusal(cache.set('m', 'v', 60, given as never))).toMatch(named)
      }
      expect(await rawPttl(cache, 'm')).toBe(-2)
      expect(await rawPttl(cache, 'kept')).toBe(-1)
    })

    it('a Date or a Map where { version } is taken: get, ttl, delete, expire, hasKey', async () => {
      for (const given of [new Date(), new Map([['version', 2]])]) {
        const name = given instanceof Date ? /got a Date/ : /got a Map/
        expect(await refusal(cache.ttl('kept', given as never))).toMatch(name)
        expect(await refusal(cache.get('kept', null, given as never))).toMatch(name)
        expect(await refusal(cache.delete('kept', given as never))).toMatch(name)
        expect(await refusal(cache.expire('kept', 5, given as never))).toMatch(name)
        expect(await refusal(cache.hasKey('kept', given as never))).toMatch(name)
        expect(await refusal(cache.getMany(['kept'], given as never))).toMatch(name)
        expect(await refusal(cache.incr('n', 1, given as never))).toMatch(name)
      }
      expect(await cache.get('kept')).toBe('old')
      expect(await rawPttl(cache, 'kept')).toBe(-1)
    })

    it('a pipeline entry refuses a Date timeout as the method does', async () => {
      const [set, touch] = await cache
        .pipeline()
        .set('p', 'v', inAMinute() as never)
        .touch('kept', inAMinute() as never)
        .exec()
      expect(set).toBeInstanceOf(InvalidArgumentError)
      expect(touch).toBeInstanceOf(InvalidArgumentError)
      expect(await rawPttl(cache, 'p')).toBe(-2)
      expect(await rawPttl(cache, 'kept')).toBe(-1)
    })

    it('an instance of a class of yours, or an object inheriting defaults: its keys are options', async () => {
      expect(await cache.set('i', 'v', new Settings())).toBe(true)
      expect(await rawPttl(cache, 'i')).toBeGreaterThan(50_000)
      class Tagged {
        timeout = 60
        get [Symbol.toStringTag]() {
          return 'Tagged'
        }
      }
      expect(await cache.set('t', 'v', new Tagged())).toBe(true)
      expect(await rawPttl(cache, 't')).toBeGreaterThan(50_000)
      const inherited = Object.create({ version: 2 }) as { version: number }
      expect(await cache.set('j', 'v', 60, inherited)).toBe(true)
      expect(await cache.get('j', null, { version: 2 })).toBe('v')
    })

    it('plain objects of every kind still work: Object.create(null), another realm', async () => {
      const bare = Object.assign(Object.create(null) as object, { timeout: 60, version: 2 })
      expect(await cache.set('b', 'v', bare)).toBe(true)
      expect(
        await cache.get('b', null, Object.assign(Object.create(null) as object, { version: 2 })),
      ).toBe('v')
      const pttl = await rawPttl(cache, 'b', 2)
      expect(pttl).toBeGreaterThan(0)
      expect(pttl).toBeLessThanOrEqual(60_000)
      const foreign = runInNewContext('({ timeout: 30, version: 3 })') as { timeout: number }
      expect(await cache.set('f', 'v', foreign)).toBe(true)
      expect(await cache.ttl('f', runInNewContext('({ version: 3 })') as object)).toBeGreaterThan(0)
      expect(
        await cache.touch('f', runInNewContext('({ timeout: null, version: 3 })') as never),
      ).toBe(true)
      expect(await rawPttl(cache, 'f', 3)).toBe(-1)
      expect(
        await cache.set('s', 'v', 60, Object.assign(Object.create(null) as object, { nx: true })),
      ).toBe(true)
    })
  })

  describe('a very negative finite timeout expires at once (deletes), as 0 or -1 does', () => {
    const negatives = [-1e16, -1e300, -Number.MAX_VALUE, -(2 ** 53)]

    it.each(negatives)(
      'set, set({ timeout }), add, setMany, touch, getOrSet with %d',
      async (t) => {
        // It answers as set(k, v, -1) does on a key that exists.
        await cache.set('other', 'x', null)
        expect(await cache.set('kept', 'new', t)).toBe(await cache.set('other', 'y', -1))
        expect(await cache.hasKey('kept')).toBe(false)
        await cache.set('kept', 'old', null)
        expect(await settle(cache.set('kept', 'new', { timeout: t, xx: true }))).not.toBeInstanceOf(
          Error,
        )
        expect(await cache.hasKey('kept')).toBe(false)
        expect(await settle(cache.add('added', 'v', t))).not.toBeInstanceOf(Error)
        expect(await cache.hasKey('added')).toBe(false)
        await cache.set('kept', 'old', null)
        expect(await cache.setMany({ kept: 'new', other: 'w' }, t)).toEqual([])
        expect(await cache.hasKey('kept')).toBe(false)
        expect(await cache.hasKey('other')).toBe(false)
        await cache.set('kept', 'old', null)
        expect(await cache.touch('kept', t)).toBe(true)
        expect(await cache.hasKey('kept')).toBe(false)
        // getOrSet computes the value and stores nothing.
        expect(await cache.getOrSet('computed', () => 'v', t)).toBe('v')
        expect(await cache.hasKey('computed')).toBe(false)
      },
    )

    it.each(negatives)('expire(k, %d) and pexpire(k, that × 1000) delete', async (t) => {
      expect(await cache.expire('kept', t)).toBe(true)
      expect(await cache.hasKey('kept')).toBe(false)
      await cache.set('kept', 'old', null)
      expect(await cache.pexpire('kept', t * 1000 === -Infinity ? t : t * 1000)).toBe(true)
      expect(await cache.hasKey('kept')).toBe(false)
    })

    it('in a pipeline: set, touch, expire, pexpire', async () => {
      await cache.setMany({ a: 1, b: 2, c: 3 }, null)
      const results = await cache
        .pipeline()
        .set('kept', 'new', -1e16)
        .touch('a', -1e300)
        .expire('b', -1e16)
        .pexpire('c', -1e19)
        .exec()
      for (const r of results) expect(r).not.toBeInstanceOf(Error)
      expect(await cache.getMany(['kept', 'a', 'b', 'c'])).toEqual(new Map())
    })

    it('a cache whose default timeout is very negative stores nothing', async () => {
      const c = make({ timeout: -1e16 })
      expect(await c.set('k', 'v')).toBe(await c.set('k2', 'v', -1))
      expect(await c.hasKey('k')).toBe(false)
      expect(await c.add('k', 'v')).toBe(await c.add('k2', 'v', -1))
      expect(await c.hasKey('k')).toBe(false)
    })

    it('NaN and -Infinity stay refused; expireAt / pexpireAt keep their range checks', async () => {
      for (const t of [Number.NaN, -Infinity]) {
        expect(await refusal(cache.set('kept', 'new', t))).toMatch(/finite number of seconds/)
        expect(await refusal(cache.touch('kept', t))).toMatch(/finite number of seconds/)
        expect(await refusal(cache.expire('kept', t))).toMatch(/finite number of seconds/)
        expect(await refusal(cache.pexpire('kept', t))).toMatch(/finite number/)
      }
      expect(await refusal(cache.expireAt('kept', -1e16))).toMatch(/out of range/)
      expect(await refusal(cache.pexpireAt('kept', -1e19))).toMatch(/out of range/)
      expect(await cache.get('kept')).toBe('old')
      expect(await rawPttl(cache, 'kept')).toBe(-1)
    })
  })
})
