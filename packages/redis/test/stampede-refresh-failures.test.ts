// getOrSet's refresh (`grace`, `earlyRecompute`) when things go wrong: a factory that keeps failing
// is retried after a backoff, not on every hit (the stale value is served meanwhile, and each
// failure is logged once); a key of another type and a delta companion of another type are
// handled as plain getOrSet handles them; and a factory returning `undefined` is named plainly.
import { type Cache, createCache, type GetOrSetOptions, jsonSerializer } from '@cachex/redis'
import { delay, standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer, raw } from './helpers.ts'

const opened: Cache[] = []
afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()))
})

/** Waits until `check` holds; bounded only against hangs. */
async function eventually(check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await delay(10)
  }
}

/**
 * Calls getOrSet with `factory` 10 at a time for `ms`, expecting `expected` from every call;
 * resolves how many calls were made.
 */
async function hammer(
  cache: Cache,
  key: string,
  factory: () => Promise<string>,
  options: GetOrSetOptions,
  ms: number,
  expected: string,
): Promise<number> {
  const until = performance.now() + ms
  let requests = 0
  while (performance.now() < until) {
    const values = await Promise.all(
      Array.from({ length: 10 }, () => cache.getOrSet(key, factory, options)),
    )
    expect(new Set(values)).toEqual(new Set([expected]))
    requests += 10
    await delay(5)
  }
  return requests
}

describe.each(BACKENDS)('%s: a failing refresh backs off', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache
  const logged: unknown[][] = []
  const logger = { error: (...args: unknown[]) => logged.push(args), warn: () => {} }

  beforeAll(async () => {
    server = await backendServer(backend)
    cache = createCache({ location: server.url, keyPrefix: uniquePrefix('rfail'), logger })
    opened.push(cache)
  })

  afterAll(async () => {
    await server?.stop()
  })

  const graced: GetOrSetOptions = { timeout: 1, grace: 600 }
  let calls = 0
  const failing = async (): Promise<string> => {
    calls++
    throw new Error('database down')
  }

  /** Stores `key` with getOrSet, then waits until it is past its timeout (stale, in its grace). */
  async function stale(c: Cache, key: string): Promise<void> {
    expect(await c.getOrSet(key, () => 'old', graced)).toBe('old')
    await delay(1100)
  }

  it('grace: hits for 2.5 s call the failing factory a few times, not once per hit', async () => {
    await stale(cache, 'grace')
    calls = 0
    const before = logged.length
    const requests = await hammer(cache, 'grace', failing, graced, 2500, 'old')
    await delay(50) // the last background refresh settles
    // Retried after 1 s, then 2 s: at t≈0 and t≈1 s (a third at t≈3 s is past the window).
    expect(requests).toBeGreaterThan(100)
    expect(calls).toBeGreaterThanOrEqual(2)
    expect(calls).toBeLessThanOrEqual(3)
    // One log line per failure: at most once per backoff.
    const lines = logged.slice(before)
    expect(lines).toHaveLength(calls)
    expect(String(lines[0]?.[0])).toContain("getOrSet('grace') kept the current value")
    expect(await cache.get('grace')).toBe('old')
  }, 30_000)

  it('grace: a factory that recovers refreshes the value on the first hit after the backoff', async () => {
    await stale(cache, 'recovers')
    calls = 0
    expect(await cache.getOrSet('recovers', failing, graced)).toBe('old')
    await eventually(() => calls === 1)
    let fresh = 0
    const recovered = async () => {
      fresh++
      return 'new'
    }
    // Within the backoff (1 s): served stale, no call.
    for (let i = 0; i < 20; i++) {
      expect(await cache.getOrSet('recovers', recovered, graced)).toBe('old')
      await delay(10)
    }
    expect(fresh).toBe(0)
    await delay(1000)
    expect(await cache.getOrSet('recovers', recovered, graced)).toBe('old')
    await eventually(async () => (await cache.get('recovers')) === 'new')
    expect(fresh).toBe(1)
    // A success forgets the failures: the next stale value is refreshed at once again.
    await delay(1100)
    expect(await cache.getOrSet('recovers', recovered, graced)).toBe('new')
    await eventually(() => fresh === 2)
  }, 30_000)

  it('grace: a miss is not held back by a failed refresh (an invalidated key computes at once)', async () => {
    await stale(cache, 'miss')
    calls = 0
    expect(await cache.getOrSet('miss', failing, graced)).toBe('old')
    await eventually(() => calls === 1)
    await cache.delete('miss')
    expect(await cache.getOrSet('miss', async () => 'fresh', graced)).toBe('fresh')
    // And the miss's failure is the caller's, as it has nothing else to answer.
    await cache.delete('miss')
    await expect(cache.getOrSet('miss', failing, graced)).rejects.toThrow('database down')
  }, 30_000)

  it('remembers at most 10,000 failing keys per cache: past that, the oldest is retried first', async () => {
    const keys = Array.from({ length: 10_001 }, (_, i) => `many:${i}`)
    // Stored with less time than the grace: every hit finds them stale.
    await cache.setMany(Object.fromEntries(keys.map((k) => [k, 'old'])), 60)
    const failed = new Set<string>()
    const failingFor = (key: string) => async (): Promise<string> => {
      failed.add(key)
      throw new Error('database down')
    }
    const before = logged.length
    for (let i = 0; i < keys.length; i += 500) {
      const batch = keys.slice(i, i + 500)
      const values = await Promise.all(batch.map((k) => cache.getOrSet(k, failingFor(k), graced)))
      expect(new Set(values)).toEqual(new Set(['old']))
    }
    await eventually(() => failed.size === keys.length)
    expect(logged.length - before).toBe(keys.length)
    failed.clear()
    // The first key's failure was dropped to make room for the last one's: retried at once (and
    // its failure, noted again, drops the next oldest). The last one still waits.
    const first = keys[0] as string
    const last = keys[10_000] as string
    for (const k of [last, first]) {
      expect(await cache.getOrSet(k, failingFor(k), graced)).toBe('old')
    }
    await eventually(() => failed.size > 0)
    await delay(100)
    expect([...failed]).toEqual([first])
  }, 60_000)

  it('earlyRecompute: a draw whose recomputation fails is not redrawn on every hit', async () => {
    // A beta so large that every hit of a value with a compute time recomputes it.
    const early: GetOrSetOptions = { timeout: 60, earlyRecompute: 1e300 }
    const seeded = await cache.getOrSet(
      'early',
      async () => {
        await delay(20)
        return 'v1'
      },
      early,
    )
    expect(seeded).toBe('v1')
    calls = 0
    const before = logged.length
    const requests = await hammer(cache, 'early', failing, early, 2500, 'v1')
    expect(requests).toBeGreaterThan(100)
    expect(calls).toBeGreaterThanOrEqual(2)
    expect(calls).toBeLessThanOrEqual(3)
    expect(logged.length - before).toBe(calls)
  }, 30_000)
})

describe('with a local tier: a failing refresh of a value held in memory backs off too', () => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache
  const logged: unknown[][] = []

  beforeAll(async () => {
    server = await standaloneServer()
    cache = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('rfail-tier'),
      logger: { error: (...args: unknown[]) => logged.push(args), warn: () => {} },
      local: {},
    })
    opened.push(cache)
    await cache.get('warm-up')
    await eventually(() => cache.localStats()?.tracking === true)
  })

  afterAll(async () => {
    await server?.stop()
  })

  it('hits for 2.5 s, most answered from memory, call the failing factory a few times', async () => {
    const graced: GetOrSetOptions = { timeout: 1, grace: 600 }
    expect(await cache.getOrSet('tier', () => 'old', graced)).toBe('old')
    await delay(1100)
    let calls = 0
    const failing = async (): Promise<string> => {
      calls++
      throw new Error('database down')
    }
    const hitsBefore = cache.localStats()?.hits ?? 0
    const requests = await hammer(cache, 'tier', failing, graced, 2500, 'old')
    await delay(50)
    expect(requests).toBeGreaterThan(100)
    expect((cache.localStats()?.hits ?? 0) - hitsBefore).toBeGreaterThan(requests / 2)
    expect(calls).toBeGreaterThanOrEqual(2)
    expect(calls).toBeLessThanOrEqual(3)
    expect(logged).toHaveLength(calls)
  }, 30_000)
})

describe('keys of another type under grace / earlyRecompute', () => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache
  let ignoring: Cache

  beforeAll(async () => {
    server = await standaloneServer()
    const keyPrefix = uniquePrefix('rtype')
    cache = createCache({ location: server.url, keyPrefix })
    ignoring = createCache({
      location: server.url,
      keyPrefix,
      ignoreExceptions: true,
      logger: { error: () => {}, warn: () => {} },
    })
    opened.push(cache, ignoring)
  })

  afterAll(async () => {
    await server?.stop()
  })

  const controlled: GetOrSetOptions[] = [
    { grace: 5, timeout: 10 },
    { earlyRecompute: 1 },
    { grace: 5, timeout: 10, earlyRecompute: 1 },
  ]

  it('a key holding a hash rejects with the message plain getOrSet gives', async () => {
    await cache.hset('hash', 'field', 'x')
    const message = (o: GetOrSetOptions) =>
      cache
        .getOrSet('hash', () => 'v', o)
        .then(
          () => 'resolved',
          (e: Error) => `${e.name}: ${e.message}`,
        )
    const plain = await message({})
    expect(plain).toContain("getOrSet() on key 'hash': it holds a hash")
    for (const o of controlled) expect(await message(o)).toBe(plain)
  })

  it('under ignoreExceptions, such a key answers the computed value, as plain getOrSet does', async () => {
    await ignoring.hset('hash-ignored', 'field', 'x')
    expect(await ignoring.getOrSet('hash-ignored', () => 'v')).toBe('v')
    for (const o of controlled)
      expect(await ignoring.getOrSet('hash-ignored', () => 'v', o)).toBe('v')
    expect(await raw(cache, 'TYPE', cache.makeKey('hash-ignored'))).toBe('hash')
  })

  it('a delta companion of another type is no compute time: the present value is served', async () => {
    await cache.set('delta', 'present', 60)
    await raw(cache, 'HSET', `__cachex:delta:${cache.makeKey('delta')}`, 'f', '1')
    for (const o of controlled) {
      let called = false
      const got = await cache.getOrSet(
        'delta',
        () => {
          called = true
          return 'new'
        },
        { ...o, timeout: 60 },
      )
      expect(got).toBe('present')
      expect(called).toBe(false)
    }
  })
})

describe('a factory returning undefined', () => {
  let server: { url: string; stop(): Promise<void> }

  beforeAll(async () => {
    server = await standaloneServer()
  })

  afterAll(async () => {
    await server?.stop()
  })

  it('is refused with a plain sentence, by both JSON writers', async () => {
    for (const serializer of [jsonSerializer(), jsonSerializer({ pythonFormat: true })]) {
      const cache = createCache({
        location: server.url,
        keyPrefix: uniquePrefix('undef'),
        serializer,
      })
      opened.push(cache)
      const message = await cache
        .getOrSet('u', async () => undefined)
        .then(
          () => 'resolved',
          (e: Error) => e.message,
        )
      expect(message).toBe(
        "cannot store key 'u': json cannot serialize this value: undefined cannot be stored as JSON (store null instead)",
      )
      await expect(cache.set('u', undefined)).rejects.toThrow(
        'undefined cannot be stored as JSON (store null instead)',
      )
    }
  })
})
