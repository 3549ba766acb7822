// cache.on(): the typed events (hit, miss, set, delete, error, invalidate, operation), on a real
// redis-server and on memory://; the local tier's events on Redis only (memory:// has no tier).
import { type Cache, type CacheEventMap, type CacheEventName, createCache } from '@cachex/redis'
import { delay, freePort, type RedisServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer } from './helpers.ts'

type Recorded = { [E in CacheEventName]: Array<CacheEventMap[E]> }

/** Records every event of `cache`; `stop()` unsubscribes them all. */
function record(cache: Cache): Recorded & { stop(): void } {
  const events = {
    hit: [],
    miss: [],
    set: [],
    delete: [],
    error: [],
    invalidate: [],
    operation: [],
  } as unknown as Recorded
  const stops = (Object.keys(events) as CacheEventName[]).map((name) =>
    cache.on(name, (event) => (events[name] as unknown[]).push(event)),
  )
  return Object.assign(events, {
    stop: () => {
      for (const stop of stops) stop()
    },
  })
}

/**
 * The methods of the cache that are own properties of the instance (the timed ones): not `close`,
 * which is one from the start (bound to its cache, to be handed as a callback) and is not timed.
 */
function ownMethods(cache: Cache): string[] {
  return Object.getOwnPropertyNames(cache).filter(
    (name) =>
      name !== 'close' && typeof (cache as unknown as Record<string, unknown>)[name] === 'function',
  )
}

describe.each(BACKENDS)('events on %s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  const caches: Cache[] = []

  beforeAll(async () => {
    server = await backendServer(backend)
  })
  afterAll(async () => {
    for (const cache of caches) await cache.close()
    await server.stop()
  })

  function open(options: object = {}): Cache {
    const cache = createCache({ location: server.url, keyPrefix: uniquePrefix('ev'), ...options })
    caches.push(cache)
    return cache
  }

  it('reports a hit or a miss per key read by get, getMany and getOrSet', async () => {
    const cache = open()
    await cache.set('a', 'A')
    await cache.set('zero', 0)
    const seen = record(cache)
    expect(await cache.get('a')).toBe('A')
    expect(await cache.get('nope', 'default')).toBe('default')
    // A stored value equal to the caller's default is still a hit.
    expect(await cache.get('zero', 0)).toBe(0)
    expect(await cache.getMany(['a', 'nope', 'zero'])).toEqual(
      new Map<string, unknown>([
        ['a', 'A'],
        ['zero', 0],
      ]),
    )
    expect(await cache.getOrSet('computed', () => 42)).toBe(42)
    expect(await cache.getOrSet('computed', () => 43)).toBe(42)
    expect(seen.hit).toEqual([
      { operation: 'get', key: 'a', local: false },
      { operation: 'get', key: 'zero', local: false },
      { operation: 'getMany', key: 'a', local: false },
      { operation: 'getMany', key: 'zero', local: false },
      { operation: 'getOrSet', key: 'computed', local: false },
    ])
    expect(seen.miss).toEqual([
      { operation: 'get', key: 'nope' },
      { operation: 'getMany', key: 'nope' },
      { operation: 'getOrSet', key: 'computed' },
    ])
    seen.stop()
  })

  it('reports each value stored with its size, and each key deleted', async () => {
    const cache = open()
    const seen = record(cache)
    expect(await cache.set('s', 'hello')).toBe(true)
    expect(await cache.add('s', 'again')).toBe(false) // exists: nothing stored
    expect(await cache.add('n', 12345)).toBe(true)
    expect(await cache.setMany({ x: [1, 2], y: { a: 'b' } })).toEqual([])
    expect(await cache.set('gone', 1, { timeout: 0 })).toBe(false) // deleted, not stored
    expect(await cache.set('s', 'new', { get: true })).toBe('hello')
    await cache.getOrSet('computed', () => 'value')
    expect(seen.set).toEqual([
      { operation: 'set', key: 's', bytes: Buffer.byteLength('"hello"') },
      { operation: 'add', key: 'n', bytes: 5 }, // an integer is stored as its digits
      { operation: 'setMany', key: 'x', bytes: Buffer.byteLength('[1,2]') },
      { operation: 'setMany', key: 'y', bytes: Buffer.byteLength('{"a":"b"}') },
      { operation: 'set', key: 's', bytes: Buffer.byteLength('"new"') },
      { operation: 'getOrSet', key: 'computed', bytes: Buffer.byteLength('"value"') },
    ])
    expect(await cache.delete('s')).toBe(true)
    expect(await cache.deleteMany(['x', 'y', 'never'])).toBe(2)
    expect(seen.delete).toEqual([
      { operation: 'delete', key: 's' },
      { operation: 'deleteMany', key: 'x' },
      { operation: 'deleteMany', key: 'y' },
      { operation: 'deleteMany', key: 'never' },
    ])
    seen.stop()
  })

  it('reports a set with { nx | xx, get } when it stored, from what the reply says', async () => {
    const cache = open()
    const seen = record(cache)
    expect(await cache.set('c', 1, { nx: true, get: true })).toBe(null) // stored: was missing
    expect(await cache.set('c', 2, { nx: true, get: true })).toBe(1) // refused: exists
    expect(await cache.set('c', 3, { xx: true, get: true })).toBe(1) // stored: exists
    expect(await cache.set('d', 4, { xx: true, get: true })).toBe(null) // refused: missing
    await cache.set('n', null)
    expect(await cache.set('n', 5, { nx: true, get: true })).toBe(null) // refused: holds null
    expect(await cache.get('c')).toBe(3)
    expect(await cache.get('n')).toBe(null)
    expect(seen.set.map(({ key }) => key)).toEqual(['c', 'c', 'n'])
    seen.stop()
  })

  it('reports a set with { get: true } over an old value it cannot read: stored all the same', async () => {
    const limited = open({ maxValueSize: 1000 })
    const unlimited = open({ maxValueSize: null, keyPrefix: limited.keyPrefix })
    await unlimited.set('k', 'x'.repeat(5000))
    await unlimited.set('gone', 'x'.repeat(5000))
    await unlimited.set('kept', 'x'.repeat(5000))
    const seen = record(limited)
    const error = await limited.set('k', 'new', { get: true }).then(
      () => expect.fail('resolved'),
      (caught: unknown) => caught as { removed?: unknown[] },
    )
    expect(error.removed).toHaveLength(1)
    expect(await limited.get('k')).toBe('new')
    // A timeout ≤ 0 deletes, and nx stores nothing over a value: no set, though both reject.
    await expect(limited.set('gone', 'new', { get: true, timeout: 0 })).rejects.toThrow(
      /deleted key 'gone' all the same/,
    )
    await expect(limited.set('kept', 'new', { get: true, nx: true })).rejects.toThrow()
    expect(seen.set).toEqual([{ operation: 'set', key: 'k', bytes: Buffer.byteLength('"new"') }])
    expect(seen.error.map(({ operation }) => operation)).toEqual(['set', 'set', 'set'])
    seen.stop()
  })

  it('reports errors, thrown or ignored, with the method and the typed error', async () => {
    const cache = open()
    await cache.hset('h', 'f', 1)
    const seen = record(cache)
    await expect(cache.get('h')).rejects.toMatchObject({ code: 'E_RESPONSE' })
    await expect(cache.incr('h')).rejects.toMatchObject({ code: 'E_RESPONSE' })
    expect(
      seen.error.map(({ operation, ignored, error }) => [operation, ignored, error.code]),
    ).toEqual([
      ['get', false, 'E_RESPONSE'],
      ['incr', false, 'E_RESPONSE'],
    ])
    seen.stop()

    const ignoring = open({ ignoreExceptions: true, keyPrefix: cache.keyPrefix })
    const quiet = record(ignoring)
    expect(await ignoring.get('h', 'fallback')).toBe('fallback')
    expect(await ignoring.lpush('h', 1)).toBe(null)
    expect(
      quiet.error.map(({ operation, ignored, error }) => [operation, ignored, error.name]),
    ).toEqual([
      ['get', true, 'ResponseError'],
      ['lpush', true, 'ResponseError'],
    ])
    // The failed read is an error, not a miss.
    expect(quiet.miss).toEqual([])
    quiet.stop()
  })

  it('names the method of an error raised before anything is sent, streams and zsets too', async () => {
    const cache = open()
    const seen = record(cache)
    const circular: Record<string, unknown> = {}
    circular.self = circular
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['xadd', () => cache.xadd(123 as never, { a: 1 })],
      ['xadd', () => cache.xadd('s', { a: circular })],
      ['xrange', () => cache.xrange('s', '-', '+', { version: 1.5 })],
      ['xread', () => cache.xread({ s: '0', t: '0' }, { version: 1.5 })],
      ['xreadgroup', () => cache.xreadgroup('g', 'c', { s: '>' }, { version: 1.5 })],
      ['xtrim', () => cache.xtrim(123 as never, { maxlen: 1 })],
      ['zadd', () => cache.zadd('z', [[1, circular]])],
      ['zrange', () => cache.zrange(123 as never, 0, -1)],
      ['zrevrange', () => cache.zrevrange(123 as never, 0, -1)],
      ['lpos', () => cache.lpos('l', circular)],
    ]
    for (const [, call] of calls) await call().catch(() => undefined)
    expect(seen.error.map(({ operation }) => operation)).toEqual(calls.map(([name]) => name))
    seen.stop()
  })

  it('times every public call once: decr, getOrSet and a pipeline are one operation each', async () => {
    const cache = open()
    await cache.set('n', 10)
    expect(ownMethods(cache)).toEqual([])
    const seen = record(cache)
    // Methods are timed by a wrapper put on the instance; `get` times itself (no wrapper).
    expect(ownMethods(cache)).toContain('set')
    expect(ownMethods(cache)).not.toContain('get')
    const before = Date.now()
    await cache.get('n')
    await cache.getMany(new Set(['n', 'm']))
    await cache.decr('n')
    await cache.getOrSet('g', async () => 'v')
    await cache.setMany(new Map([['p', 1]]))
    await cache.rename('p', 'q')
    await cache.pipeline().get('n').incr('n').exec()
    await expect(cache.hget('n', 'f')).rejects.toMatchObject({ code: 'E_RESPONSE' })
    const keys: string[] = []
    for await (const key of cache.iterKeys('*')) keys.push(key)
    expect(keys.sort()).toEqual(['g', 'n', 'q'])
    await cache.clear()
    const ops = seen.operation
    expect(ops.map(({ operation, keyCount, key }) => [operation, keyCount, key])).toEqual([
      ['get', 1, 'n'],
      ['getMany', 2, undefined],
      ['decr', 1, 'n'],
      ['getOrSet', 1, 'g'],
      ['setMany', 1, undefined],
      ['rename', 2, 'p'],
      ['pipeline', 2, undefined],
      ['hget', 1, 'n'],
      ['iterKeys', 0, undefined],
      ['clear', 0, undefined],
    ])
    for (const op of ops) {
      expect(op.durationMs).toBeGreaterThanOrEqual(0)
      expect(op.startTime).toBeGreaterThanOrEqual(before - 1)
      expect(op.startTime).toBeLessThanOrEqual(Date.now() + 1)
    }
    expect(ops.filter((op) => 'error' in op).map((op) => op.operation)).toEqual(['hget'])
    expect(ops.find((op) => op.operation === 'hget')?.error).toMatchObject({ code: 'E_RESPONSE' })
    // The last listener gone, the prototype's methods run untouched again.
    seen.stop()
    expect(ownMethods(cache)).toEqual([])
    await cache.get('n')
    expect(seen.operation).toHaveLength(ops.length)
  })

  it('ends the operation of an iteration left early', async () => {
    const cache = open()
    await cache.setMany({ a: 1, b: 2, c: 3 })
    const seen = record(cache)
    for await (const _ of cache.iterKeys('*')) break
    expect(seen.operation.map((op) => op.operation)).toEqual(['iterKeys'])
    seen.stop()
  })

  it('stops a listener by the function on() returns, or by off()', async () => {
    const cache = open()
    const got: string[] = []
    const listener = ({ key }: { key: string }) => got.push(key)
    const stop = cache.on('miss', listener)
    await cache.get('one')
    stop()
    stop() // a second call does nothing
    await cache.get('two')
    cache.on('miss', listener)
    await cache.get('three')
    cache.off('miss', listener)
    await cache.get('four')
    expect(got).toEqual(['one', 'three'])
    expect(() => cache.on('nope' as CacheEventName, () => {})).toThrow(/unknown event/)
    expect(() => cache.on('hit', 'no' as never)).toThrow(/must be a function/)
  })

  it('keeps the call going when a listener throws, and logs it once', async () => {
    const logged: unknown[][] = []
    const cache = open({ logger: { error: (...args: unknown[]) => logged.push(args) } })
    await cache.set('k', 'v')
    const thrower = () => {
      throw new Error('listener bug')
    }
    cache.on('hit', thrower)
    cache.on('operation', thrower)
    const after: string[] = []
    cache.on('hit', ({ key }) => after.push(key))
    expect(await cache.get('k')).toBe('v')
    expect(await cache.get('k')).toBe('v')
    expect(after).toEqual(['k', 'k'])
    // One line per throwing listener, not per call.
    expect(logged.map(([message]) => String(message))).toEqual([
      expect.stringContaining("a 'hit' listener threw"),
      expect.stringContaining("a 'operation' listener threw"),
    ])
    expect(logged[0]?.[1]).toMatchObject({ message: 'listener bug' })
  })
})

describe('local tier events (redis)', () => {
  let server: { url: string; stop(): Promise<void> }
  let other: ReturnType<typeof createClient>
  const caches: Cache[] = []

  beforeAll(async () => {
    server = await backendServer('redis')
    other = createClient({ url: server.url })
    other.on('error', () => {})
    await other.connect()
  })
  afterAll(async () => {
    for (const cache of caches) await cache.close()
    other.destroy()
    await server.stop()
  })

  async function eventually(check: () => Promise<boolean> | boolean): Promise<void> {
    const until = Date.now() + 20_000
    while (!(await check())) {
      if (Date.now() > until) throw new Error('condition not met in time')
      await delay(10)
    }
  }

  it('reports local hits and the invalidations of the tier', async () => {
    const cache = createCache({ location: server.url, keyPrefix: uniquePrefix('evl'), local: {} })
    caches.push(cache)
    await cache.get('warm-up')
    await eventually(() => cache.localStats()?.tracking === true)
    await cache.set('k', 'v')
    const seen = record(cache)
    // Read until the tier serves it (the write's own invalidation may come after the first read).
    await eventually(async () => {
      await cache.get('k')
      return seen.hit.some((hit) => hit.local)
    })
    await cache.getMany(['k', 'absent'])
    expect(seen.hit.at(-1)).toEqual({ operation: 'getMany', key: 'k', local: true })
    expect(seen.miss.at(-1)).toEqual({ operation: 'getMany', key: 'absent' })
    // Another client writes the key: the tier drops it and says so.
    await other.set(cache.makeKey('k'), '"changed"')
    await eventually(() => seen.invalidate.length > 0)
    expect(seen.invalidate[0]).toEqual({ key: cache.makeKey('k'), count: 1 })
    expect(cache.localStats()?.invalidations).toBeGreaterThanOrEqual(1)
    seen.stop()
  })
})

describe('setMany rejected after storing some keys (redis, an ACL user allowed some keys)', () => {
  let server: RedisServer
  let admin: ReturnType<typeof createClient>
  const caches: Cache[] = []

  beforeAll(async () => {
    server = await startRedis()
    admin = createClient({ url: server.url })
    await admin.connect()
    // Every command, on the keys `app:1:ok*` only.
    await admin.sendCommand(['ACL', 'SETUSER', 'part', 'on', '>part-pw', '~app:1:ok*', '+@all'])
  })
  afterAll(async () => {
    for (const cache of caches) await cache.close()
    await admin?.close()
    await server?.stop()
  })

  /** A fresh cache of the user `part`: its first setMany with a timeout goes as a pipeline. */
  function partial(options: object = {}): Cache {
    const location = server.url.replace('redis://', 'redis://part:part-pw@')
    const cache = createCache({ location, keyPrefix: 'app', ...options })
    caches.push(cache)
    return cache
  }

  it('reports a set for each key the pipeline stored, though the call rejects', async () => {
    const cache = partial()
    const seen = record(cache)
    await expect(cache.setMany({ ok1: 1, bad: 2, ok2: 'two' })).rejects.toMatchObject({
      code: 'E_RESPONSE',
    })
    expect(await admin.sendCommand(['MGET', 'app:1:ok1', 'app:1:bad', 'app:1:ok2'])).toEqual([
      '1',
      null,
      '"two"',
    ])
    expect(seen.set).toEqual([
      { operation: 'setMany', key: 'ok1', bytes: 1 },
      { operation: 'setMany', key: 'ok2', bytes: Buffer.byteLength('"two"') },
    ])
    expect(seen.error.map(({ operation }) => operation)).toEqual(['setMany'])
    seen.stop()
  })

  it('under ignoreExceptions resolves exactly the keys not stored', async () => {
    const cache = partial({ ignoreExceptions: true, logIgnoredExceptions: false })
    const seen = record(cache)
    expect(await cache.setMany({ okn: 1, badn: 2, okm: 3 })).toEqual(['badn'])
    expect(await admin.sendCommand(['EXISTS', 'app:1:okn', 'app:1:okm'])).toBe(2)
    expect(seen.set.map(({ key }) => key)).toEqual(['okn', 'okm'])
    // Without a timeout, one MSET refused whole: nothing stored, every key resolved.
    expect(await cache.setMany({ okx: 1, badx: 2 }, null)).toEqual(['okx', 'badx'])
    expect(await admin.sendCommand(['EXISTS', 'app:1:okx'])).toBe(0)
    seen.stop()
  })
})

/** What a call did: its value, or its error (class and message), and whether it threw at once. */
async function outcomeOf(call: () => unknown): Promise<unknown> {
  let result: unknown
  try {
    result = call()
  } catch (error) {
    return { sync: true, error: errorText(error) }
  }
  try {
    const value = await result
    return { value: value instanceof Map ? [...value] : value }
  } catch (error) {
    return { error: errorText(error) }
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error)
}

describe('an operation listener changes no call of getMany or deleteMany (memory://)', () => {
  const caches: Cache[] = []
  afterAll(async () => {
    for (const cache of caches) await cache.close()
  })

  /** A cache holding u, s, e, r and user; timed by an `operation` listener when `timed`. */
  async function filled(timed: boolean): Promise<Cache> {
    const cache = createCache({ location: `memory://${uniquePrefix('same')}` })
    caches.push(cache)
    await cache.setMany({ u: 1, s: 2, e: 3, r: 4, user: 5 })
    if (timed) cache.on('operation', () => {})
    return cache
  }

  // Each made afresh per call: some are one-shot.
  const inputs: Array<[string, () => unknown]> = [
    ['a string', () => 'user'],
    ['a number', () => 42],
    ['true', () => true],
    ['null', () => null],
    ['undefined', () => undefined],
    ['a plain object', () => ({ u: 1 })],
    [
      'a function with an iterator',
      () => Object.assign(() => 0, { [Symbol.iterator]: [][Symbol.iterator] }),
    ],
    ['an array', () => ['u', 's']],
    ['a Set', () => new Set(['u', 'e'])],
    [
      'a generator (one-shot)',
      () =>
        (function* () {
          yield 'u'
          yield 'r'
        })(),
    ],
    [
      'an iterable whose iterator throws',
      () => ({
        *[Symbol.iterator]() {
          yield 'u'
          throw new Error('the caller iterator broke')
        },
      }),
    ],
    ['an iterable of a number', () => new Set(['u', 7])],
  ]

  for (const method of ['getMany', 'deleteMany'] as const) {
    for (const [name, input] of inputs) {
      it(`${method}(${name}): the same outcome, and the same keys left, with or without`, async () => {
        const results: unknown[] = []
        for (const timed of [false, true]) {
          const cache = await filled(timed)
          const call = cache[method] as (keys: unknown) => unknown
          const outcome = await outcomeOf(() => call.call(cache, input()))
          const left = [...(await cache.getMany(['u', 's', 'e', 'r', 'user'])).keys()]
          results.push({ outcome, left })
        }
        expect(results[1]).toEqual(results[0])
      })
    }
  }

  it('refuses a string of keys with InvalidArgumentError under OpenTelemetry, deleting nothing', async () => {
    const { instrument } = await import('@cachex/redis/otel')
    const cache = await filled(false)
    instrument(cache)
    const seen = record(cache)
    await expect(cache.deleteMany('user' as never)).rejects.toMatchObject({
      code: 'E_INVALID_ARGUMENT',
    })
    await expect(cache.getMany('ab' as never)).rejects.toMatchObject({
      code: 'E_INVALID_ARGUMENT',
    })
    // Rejected, not thrown: the method's own check refuses a non-iterable.
    const rejected = cache.getMany(42 as never)
    expect(rejected).toBeInstanceOf(Promise)
    await expect(rejected).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' })
    expect(await cache.getMany(['u', 's', 'e', 'r', 'user'])).toEqual(
      new Map([
        ['u', 1],
        ['s', 2],
        ['e', 3],
        ['r', 4],
        ['user', 5],
      ]),
    )
    // Each refusal is one error and one failed operation, the same error.
    expect(seen.error.map(({ operation }) => operation)).toEqual([
      'deleteMany',
      'getMany',
      'getMany',
    ])
    const failed = seen.operation.filter((op) => 'error' in op)
    expect(failed.map((op) => op.error)).toEqual(seen.error.map(({ error }) => error))
    // A method on a list of keys names no key, also when handed a string it refuses.
    expect(failed.map((op) => op.key)).toEqual([undefined, undefined, undefined])
    seen.stop()
  })

  it("iterates a caller's one-shot iterator once, and counts its keys", async () => {
    const cache = await filled(true)
    const seen = record(cache)
    let nexts = 0
    const keys = ['u', 'r', 'nope']
    const oneShot: Iterator<string> & Iterable<string> = {
      next: () => {
        nexts++
        const key = keys.shift()
        return key === undefined ? { done: true, value: undefined } : { done: false, value: key }
      },
      [Symbol.iterator]() {
        return this
      },
    }
    expect(await cache.getMany(oneShot)).toEqual(
      new Map([
        ['u', 1],
        ['r', 4],
      ]),
    )
    expect(nexts).toBe(4)
    const op = seen.operation.find(({ operation }) => operation === 'getMany')
    expect(op?.keyCount).toBe(3)
    seen.stop()
  })
})

describe('error events of locks, semaphores and scans (memory://, and a server that refuses)', () => {
  const caches: Cache[] = []
  afterAll(async () => {
    for (const cache of caches) await cache.close()
  })

  type Watched = Cache & { errors: Array<CacheEventMap['error']> }

  /** A cache whose `error` events are kept; timed by an `operation` listener when `timed`. */
  function open(location: string, timed: boolean): Watched {
    const cache = createCache({ location, keyPrefix: uniquePrefix('ee'), socketConnectTimeout: 1 })
    caches.push(cache)
    const errors: Array<CacheEventMap['error']> = []
    cache.on('error', (event) => errors.push(event))
    if (timed) cache.on('operation', () => {})
    return Object.assign(cache, { errors })
  }

  for (const timed of [false, true]) {
    const label = timed ? 'with an operation listener' : 'with error listeners only'

    it(`reports each failure of acquireLock and acquirePermit, ${label}`, async () => {
      const down = open(`redis://127.0.0.1:${await freePort()}/0`, timed)
      const memory = open(`memory://${uniquePrefix('locks')}`, timed)
      const failures: Array<[Watched, string, () => Promise<unknown>]> = [
        [down, 'acquireLock', () => down.acquireLock('l', { timeout: 1, blocking: false })],
        [down, 'acquirePermit', () => down.acquirePermit('s', { limit: 2, blocking: false })],
        [memory, 'acquireLock', () => memory.acquireLock('l', { timeout: -5 })],
        [memory, 'acquireLock', () => memory.acquireLock('', {})],
        [memory, 'acquirePermit', () => memory.acquirePermit('s', { limit: 0 })],
      ]
      for (const [cache, operation, call] of failures) {
        const before = cache.errors.length
        let thrown: unknown
        await call().catch((error: unknown) => {
          thrown = error
        })
        expect(thrown, operation).toBeInstanceOf(Error)
        expect(cache.errors.slice(before), operation).toEqual([
          { operation, error: thrown, ignored: false },
        ])
      }
      // A lock or permits held elsewhere: the LockError is reported too.
      const held = await memory.acquireLock('busy', { timeout: 5 })
      const before = memory.errors.length
      await expect(memory.acquireLock('busy', { blocking: false })).rejects.toMatchObject({
        code: 'E_LOCK',
      })
      expect(memory.errors.slice(before).map(({ operation }) => operation)).toEqual(['acquireLock'])
      await held.release()
      expect(down.errors.map(({ error }) => error.code)).toEqual(['E_CONNECTION', 'E_CONNECTION'])
    })

    it(`reports the bad arguments of iterKeys, hscan, sscan and zscan, still thrown at once, ${label}`, async () => {
      const cache = open(`memory://${uniquePrefix('scans')}`, timed)
      const calls: Array<[string, () => unknown]> = [
        ['iterKeys', () => cache.iterKeys(42 as never)],
        ['iterKeys', () => cache.iterKeys('*', { itersize: 0 })],
        ['hscan', () => cache.hscan(42 as never)],
        ['sscan', () => cache.sscan('s', { count: 0 })],
        ['zscan', () => cache.zscan('z', { match: '' })],
      ]
      for (const [operation, call] of calls) {
        const before = cache.errors.length
        let thrown: unknown
        try {
          call()
        } catch (error) {
          thrown = error
        }
        expect(thrown, operation).toMatchObject({ code: 'E_INVALID_ARGUMENT' })
        expect(cache.errors.slice(before), operation).toEqual([
          { operation, error: thrown, ignored: false },
        ])
      }
    })
  }
})
