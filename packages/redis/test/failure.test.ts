import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { delay, freePort, timed } from '@cachex/test-utils'
import { useFailureHarness } from '@cachex/test-utils/failures'
import { describe, expect, it } from 'vitest'
import {
  BackpressureError,
  type Cache,
  ConnectionError,
  type CreateCacheOptions,
  createCache,
  InvalidArgumentError,
  TimeoutError,
} from '../src/index.ts'

/** Every call is bounded by 0.5 s here; the tests allow ten times that. */
const FAST = { socketConnectTimeout: 0.5, socketTimeout: 0.5 }
const SETTLE_MS = 5000

const { server, closeAfterTest } = useFailureHarness()

function cacheFor(location: string, options: CreateCacheOptions = {}): Cache {
  return closeAfterTest(createCache({ location, keyPrefix: 'f', ...FAST, ...options }))
}

async function eventually<T>(fn: () => Promise<T>, ms: number, every = 100): Promise<T> {
  const until = performance.now() + ms
  for (;;) {
    try {
      return await fn()
    } catch (error) {
      if (performance.now() > until) throw error
      await delay(every)
    }
  }
}

/** A full garbage collection, so that RSS samples count what is held, not what awaits collection. */
function fullGc(): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

const MB = 2 ** 20

/** The calls of the ignoreExceptions tests, with what each resolves to when Redis is away. */
function ignoredCalls(cache: Cache): Array<[string, Promise<unknown>, unknown]> {
  return [
    ['get default', cache.get('k', 'fallback'), 'fallback'],
    ['get', cache.get('k'), null],
    ['set', cache.set('k', 'v'), false],
    ['add', cache.add('k', 'v'), false],
    ['delete', cache.delete('k'), false],
    ['hasKey', cache.hasKey('k'), false],
    ['incr', cache.incr('n'), null],
    ['touch', cache.touch('k', 10), false],
    ['ttl', cache.ttl('k'), 0],
    ['setMany', cache.setMany({ a: 1, b: 2 }), ['a', 'b']],
    ['setMany timeout', cache.setMany({ a: 1 }, { timeout: 5 }), ['a']],
    ['deleteMany', cache.deleteMany(['a', 'b']), 0],
    ['keys', cache.keys('*'), []],
    ['deletePattern', cache.deletePattern('*'), 0],
    ['clear', cache.clear(), undefined],
    ['hget', cache.hget('h', 'f'), null],
    ['lpush', cache.lpush('l', 'x'), null],
  ]
}

describe('server stopped', () => {
  it('without ignoreExceptions, calls reject with a ConnectionError within the bound', async () => {
    const s = await server()
    const cache = cacheFor(s.url)
    await cache.set('k', 'v')
    await s.stop()
    for (const call of [cache.get('k'), cache.set('k', 'v'), cache.getMany(['k']), cache.keys()]) {
      const result = await timed(call)
      expect(result.error).toBeInstanceOf(ConnectionError)
      expect(result.ms).toBeLessThan(SETTLE_MS)
    }
  })

  it('with ignoreExceptions, every call resolves its fallback', async () => {
    const s = await server()
    const cache = cacheFor(s.url, { ignoreExceptions: true })
    await cache.set('k', 'stored')
    expect(await cache.get('k')).toBe('stored')
    await s.stop()
    const many = await timed(cache.getMany(['k', 'x']))
    expect(many.error).toBeUndefined()
    expect(many.value).toBeInstanceOf(Map)
    expect((many.value as Map<string, unknown>).size).toBe(0)
    expect(many.ms).toBeLessThan(SETTLE_MS)
    const calls = ignoredCalls(cache)
    const results = await Promise.all(calls.map(([, call]) => timed(call)))
    for (const [i, result] of results.entries()) {
      const [name, , expected] = calls[i] as [string, Promise<unknown>, unknown]
      expect(result.error, name).toBeUndefined()
      expect(result.value, name).toEqual(expected)
      expect(result.ms, name).toBeLessThan(SETTLE_MS)
    }
    // getOrSet computes the value when the cache cannot be read
    expect(await cache.getOrSet('k', () => 'computed')).toBe('computed')
  })

  it('with ignoreExceptions, nothing listening at all gives the defaults too', async () => {
    const port = await freePort()
    const cache = cacheFor(`redis://127.0.0.1:${port}`, { ignoreExceptions: true })
    const result = await timed(cache.get('k', 'fallback'))
    expect(result.value).toBe('fallback')
    expect(result.ms).toBeLessThan(SETTLE_MS)
    expect(await cache.set('k', 'v')).toBe(false)
  })

  it('logIgnoredExceptions logs each kind of ignored error once, not once per call', async () => {
    const s = await server()
    const logged: unknown[][] = []
    const logger = { error: (...args: unknown[]) => logged.push(args) }
    const cache = cacheFor(s.url, { ignoreExceptions: true, logIgnoredExceptions: true, logger })
    expect(await cache.get('k')).toBeNull()
    expect(logged).toHaveLength(0)
    await s.stop()
    expect(await cache.get('k', 1)).toBe(1)
    expect(await cache.set('k', 2)).toBe(false)
    for (let i = 0; i < 20; i++) expect(await cache.get('k', i)).toBe(i)
    const kinds = logged.map((entry) => /\((E_[A-Z_]+)\)/.exec(String(entry[0]))?.[1])
    expect(logged.length).toBeGreaterThanOrEqual(1)
    expect(new Set(kinds).size).toBe(logged.length) // one line per kind
    for (const entry of logged) {
      expect(String(entry[0])).toMatch(/ConnectionError|TimeoutError|ClosedError/)
    }
  })

  it('does not log without logIgnoredExceptions', async () => {
    const s = await server()
    const logged: unknown[] = []
    const cache = cacheFor(s.url, {
      ignoreExceptions: true,
      logger: { error: (...args: unknown[]) => logged.push(args) },
    })
    await s.stop()
    expect(await cache.get('k', 'd')).toBe('d')
    expect(logged).toEqual([])
  })
})

describe('ignoreExceptions and other errors', () => {
  it('ignores error replies from the server', async () => {
    const s = await server()
    const cache = cacheFor(s.url, { ignoreExceptions: true })
    await cache.lpush('list', 'x')
    // WRONGTYPE: GET on a list
    expect(await cache.get('list', 'fallback')).toBe('fallback')
    expect(await cache.hget('list', 'f')).toBeNull()
  })

  it('still surfaces programming errors', async () => {
    const s = await server()
    const cache = cacheFor(s.url, { ignoreExceptions: true })
    await expect(cache.set('k', 'v', { nx: true, xx: true })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    )
    await expect(cache.get(42 as unknown as string)).rejects.toBeInstanceOf(InvalidArgumentError)
  })
})

describe('server paused (SIGSTOP)', () => {
  it('calls reject with typed errors within the bound, and the same cache works after resume', async () => {
    const s = await server()
    const cache = cacheFor(s.url)
    await cache.set('k', 'before')
    try {
      s.pause()
      const calls: Array<Promise<{ ms: number; error?: unknown }>> = [
        timed(cache.get('k')),
        timed(cache.set('k', 'during')),
        timed(cache.getMany(['k', 'j'])),
      ]
      await delay(100)
      calls.push(timed(cache.get('k')))
      // The first call to time out rejects with TimeoutError and resets the connection; the
      // calls still waiting behind it reject then, with a ConnectionError.
      const results = await Promise.all(calls)
      for (const result of results) {
        expect(result.error).toBeInstanceOf(ConnectionError)
        expect(result.ms).toBeLessThan(500 + 2000)
      }
      expect(results.some((result) => result.error instanceof TimeoutError)).toBe(true)
      // while the server is still frozen, calls fail at once
      const later = await timed(cache.get('k'))
      expect(later.error).toBeInstanceOf(ConnectionError)
      expect(later.ms).toBeLessThan(250)
    } finally {
      s.resume()
    }
    const back = await timed(eventually(() => cache.get('k'), SETTLE_MS))
    expect(back.error).toBeUndefined()
    // the SET sent during the pause may or may not have run: a timed-out write has an unknown outcome
    expect(['before', 'during']).toContain(back.value)
    expect(await cache.set('k', 'after')).toBe(true)
    expect(await cache.get('k')).toBe('after')
  })

  it('with ignoreExceptions, calls resolve their defaults within the bound', async () => {
    const s = await server()
    const cache = cacheFor(s.url, { ignoreExceptions: true })
    await cache.set('k', 'v')
    try {
      s.pause()
      const get = await timed(cache.get('k', 'fallback'))
      expect(get.value).toBe('fallback')
      expect(get.ms).toBeLessThan(SETTLE_MS)
      const many = await timed(cache.getMany(['k']))
      expect((many.value as Map<string, unknown>).size).toBe(0)
      expect(many.ms).toBeLessThan(250) // the connection is known down: no wait
      const set = await timed(cache.set('k', 'w'))
      expect(set.value).toBe(false)
      expect(set.ms).toBeLessThan(250)
    } finally {
      s.resume()
    }
    await eventually(async () => {
      if ((await cache.set('k', 'x')) !== true) throw new Error('not back yet')
    }, SETTLE_MS)
    expect(await cache.get('k')).toBe('x')
  })

  it('a deletePattern cut short by the pause rejects cleanly, with no stray rejection', async () => {
    const s = await server()
    const cache = cacheFor(s.url, { scanItersize: 10 })
    const entries: Record<string, number> = {}
    for (let i = 0; i < 5000; i++) entries[`del:${i}`] = i
    await cache.setMany(entries, { timeout: null })
    const deleting = timed(cache.deletePattern('del:*'))
    await delay(30)
    try {
      s.pause()
      const result = await deleting
      expect(result.error).toBeInstanceOf(ConnectionError)
      expect(result.ms).toBeLessThan(SETTLE_MS)
      // every UNLINK sent before the pause is pending too; let them all time out
      await delay(1200)
    } finally {
      s.resume()
    }
  })
})

describe('restart', () => {
  it('under load, every call settles and the cache works again by itself', async () => {
    const s = await server()
    const cache = cacheFor(s.url, { socketConnectTimeout: 1, socketTimeout: 2 })
    await cache.set('k', 'v')
    const calls: Array<Promise<unknown>> = []
    const observe = (p: Promise<unknown>) =>
      calls.push(
        p.then(
          () => 'ok',
          (error: unknown) => {
            expect(error).toBeInstanceOf(ConnectionError)
            return 'failed'
          },
        ),
      )
    for (let i = 0; i < 500; i++) {
      observe(i % 2 === 0 ? cache.set(`k${i % 20}`, { i }) : cache.get(`k${i % 20}`))
    }
    const killed = s.kill()
    for (let i = 0; i < 300; i++) observe(cache.getMany([`k${i % 20}`, 'k']))
    await killed
    for (let i = 0; i < 200; i++) observe(cache.incr('missing').catch(() => undefined))
    await s.start()
    const settled = await timed(Promise.all(calls))
    expect(settled.ms).toBeLessThan(15_000)
    expect(settled.value).toContain('failed')
    const back = await timed(
      eventually(async () => {
        await cache.set('after', { ok: true })
        return cache.get('after')
      }, 8000),
    )
    expect(back.error).toBeUndefined()
    expect(back.value).toEqual({ ok: true })
  }, 40_000)
})

describe('Redis down: calls fail fast (circuit breaker)', () => {
  it('with ignoreExceptions, 1,000 gets take under 1 s after the first, and the cache works again within one reconnect interval of the server coming back', async () => {
    const s = await server()
    // the default bounds: before, each of these gets waited its 5 s socketConnectTimeout
    const cache = cacheFor(s.url, {
      ignoreExceptions: true,
      socketConnectTimeout: 5,
      socketTimeout: 5,
    })
    await cache.set('k', 'stored')
    await s.kill()
    const downAt = performance.now()
    const first = await timed(cache.get('k', 'fallback'))
    expect(first.value).toBe('fallback')
    expect(first.ms).toBeLessThan(2500)
    const started = performance.now()
    let fallbacks = 0
    for (let i = 0; i < 1000; i++)
      if ((await cache.get('k', 'fallback')) === 'fallback') fallbacks++
    const ms = performance.now() - started
    console.log(`1,000 gets with Redis down: ${ms.toFixed(0)} ms`)
    expect(fallbacks).toBe(1000)
    expect(ms).toBeLessThan(1000)
    // down long enough for the reconnection backoff to reach its cap (2 s)
    await delay(Math.max(0, 4000 - (performance.now() - downAt)))
    await s.start()
    const back = await timed(
      eventually(
        async () => {
          if ((await cache.set('k', 'again')) !== true) throw new Error('not back yet')
        },
        10_000,
        10,
      ),
    )
    console.log(`the cache works again ${back.ms.toFixed(0)} ms after Redis came back`)
    expect(back.error).toBeUndefined()
    // one reconnect interval (at most 2 s), plus a margin for a busy machine
    expect(back.ms).toBeLessThan(2000 + 2000)
    expect(await cache.get('k')).toBe('again')
  }, 30_000)
})

describe('a stalled server (SIGSTOP) under a write load', () => {
  it('6,400 sets/s of 10 KB: the heap and buffers grow by less than 64 MB (RSS 96 MB), every call settles with a typed error, and the cache works again after SIGCONT', async () => {
    const gc = fullGc()
    const s = await server()
    // the default bounds and cap, as a user gets them
    const cache = cacheFor(s.url, { socketConnectTimeout: 5, socketTimeout: 5 })
    const value = 'x'.repeat(10 * 1024)
    const rate = 6400
    const outcomes = new Map<string, number>()
    const settled: Array<Promise<unknown>> = []
    let sent = 0
    const send = () => {
      sent++
      const call = cache.set(`k${sent % 64}`, value).then(
        () => 'ok',
        (error: unknown) => {
          if (!(error instanceof ConnectionError)) throw error
          return error.constructor.name
        },
      )
      settled.push(
        call.then((kind) => {
          outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1)
        }),
      )
    }
    /**
     * Sends `rate` sets a second for `ms`, catching up when the event loop was late — by at most
     * 100 ms of sets at once: on a busy machine a late loop would otherwise send seconds of sets in
     * one burst, whose arguments (10 KB each, all alive until the cap refuses them) are the
     * test's memory, not the cache's.
     */
    const load = async (ms: number, sample?: () => void) => {
      const started = performance.now()
      const before = sent
      let tick = 0
      while (performance.now() - started < ms) {
        const behind = Math.floor(((performance.now() - started) / 1000) * rate) - (sent - before)
        const due = Math.min(behind, rate / 10)
        for (let i = 0; i < due; i++) send()
        await delay(10)
        if (++tick % 50 === 0) sample?.()
      }
    }
    // The same load on the healthy server first, so that the heap has grown to what this load
    // needs anyway; what the stall adds on top is what is measured.
    await load(2000)
    await Promise.all(settled.splice(0))
    outcomes.clear()
    gc()
    const held = () => {
      const memory = process.memoryUsage()
      return memory.heapUsed + memory.external
    }
    const rss0 = process.memoryUsage().rss
    const held0 = held()
    let growth = 0
    let heldGrowth = 0
    const sentBefore = sent
    try {
      s.pause()
      const sample = () => {
        gc()
        growth = Math.max(growth, process.memoryUsage().rss - rss0)
        heldGrowth = Math.max(heldGrowth, held() - held0)
      }
      await load(6000, sample)
      sample()
      // nothing hangs: every call settles within its bound of being sent
      const all = await timed(Promise.all(settled))
      expect(all.error).toBeUndefined()
      expect(all.ms).toBeLessThan(5000 + 5000)
    } finally {
      s.resume()
    }
    console.log(
      `${sent - sentBefore} sets while the server was stopped: RSS grew by ${(growth / MB).toFixed(1)} MB, the heap and buffers by ${(heldGrowth / MB).toFixed(1)} MB; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`,
    )
    // RSS also counts V8's spare pages and the allocator's: 52 MB with this file alone, 66 MB once
    // in CI with every core busy, for 35 MB held.
    expect(growth).toBeLessThan(96 * MB)
    // what is held, V8's spare pages aside: the queued commands, capped by maxInFlightBytes
    expect(heldGrowth).toBeLessThan(64 * MB)
    // every call was rejected with a typed error: the timeout, the reset, the cap
    expect(outcomes.get('ok') ?? 0).toBe(0)
    expect(outcomes.get('TimeoutError')).toBeGreaterThan(0)
    expect(outcomes.get(BackpressureError.name)).toBeGreaterThan(0)
    await eventually(async () => {
      if ((await cache.set('after', 'ok')) !== true) throw new Error('not back yet')
    }, SETTLE_MS)
    expect(await cache.get('after')).toBe('ok')
  }, 60_000)
})
