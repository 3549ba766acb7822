import { delay, freePort, timed } from '@cachex/test-utils'
import { useFailureHarness } from '@cachex/test-utils/failures'
import { describe, expect, it } from 'vitest'
import {
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

async function eventually<T>(fn: () => Promise<T>, ms: number): Promise<T> {
  const until = performance.now() + ms
  for (;;) {
    try {
      return await fn()
    } catch (error) {
      if (performance.now() > until) throw error
      await delay(100)
    }
  }
}

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
  it('calls reject with TimeoutError, and the same cache works after resume', async () => {
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
      for (const result of await Promise.all(calls)) {
        expect(result.error).toBeInstanceOf(TimeoutError)
        expect(result.ms).toBeLessThan(500 + 2000)
      }
    } finally {
      s.resume()
    }
    const back = await timed(cache.get('k'))
    expect(back.error).toBeUndefined()
    // the SET sent during the pause may have run once the server woke up
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
      const set = await timed(cache.set('k', 'w'))
      expect(set.value).toBe(false)
    } finally {
      s.resume()
    }
    expect(await cache.set('k', 'x')).toBe(true)
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
