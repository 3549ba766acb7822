// getOrSet's refresh (`earlyRecompute`, or a stale value within its `grace`) against writes made
// while its factory runs: a `set()` or a `delete()` made meanwhile wins, and a refresh that fails
// hands its stale value to no one but the caller that was served it.
import { type Cache, createCache, type GetOrSetOptions } from '@cachex/redis'
import { delay, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer, gated, raw } from './helpers.ts'

/** Waits until `key` is gone from Redis (expired past its grace); at most 20 s. */
async function untilGone(cache: Cache, key: string): Promise<void> {
  for (let i = 0; i < 200 && (await cache.hasKey(key)); i++) await delay(100)
  expect(await cache.hasKey(key)).toBe(false)
}

describe.each(BACKENDS)('%s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache
  const logged: unknown[] = []

  beforeAll(async () => {
    server = await backendServer(backend)
    cache = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('refresh'),
      logger: { error: (...args: unknown[]) => logged.push(args) },
    })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  // A beta so large that every hit of a value with a compute time recomputes it.
  const early: GetOrSetOptions = { timeout: 60, earlyRecompute: 1e300 }

  /** Stores `key` through getOrSet with a compute time, so that the next hit refreshes it. */
  async function seed(key: string, options: GetOrSetOptions): Promise<void> {
    const value = await cache.getOrSet(
      key,
      async () => {
        await delay(20)
        return 'v1'
      },
      options,
    )
    expect(value).toBe('v1')
  }

  describe('a refresh does not replace what was written while it ran', () => {
    it('earlyRecompute: a set() made meanwhile stays, and the caller gets it', async () => {
      await seed('early-set', early)
      const refresh = gated(() => 'v2 from an old read')
      const call = cache.getOrSet('early-set', refresh.factory, early)
      await refresh.started
      await cache.set('early-set', 'newer', 60)
      refresh.open()
      expect(await call).toBe('newer')
      expect(await cache.get('early-set')).toBe('newer')
    })

    it('earlyRecompute: a key deleted meanwhile stays deleted', async () => {
      await seed('early-delete', early)
      const refresh = gated(() => 'v2 from an old read')
      const call = cache.getOrSet('early-delete', refresh.factory, early)
      await refresh.started
      expect(await cache.delete('early-delete')).toBe(true)
      refresh.open()
      expect(await call).toBe('v2 from an old read')
      expect(await cache.get('early-delete')).toBeNull()
    })

    it('earlyRecompute: with nothing written meanwhile, the refresh replaces the value', async () => {
      await seed('early-alone', early)
      const refresh = gated(() => 'v2')
      const call = cache.getOrSet('early-alone', refresh.factory, early)
      await refresh.started
      refresh.open()
      expect(await call).toBe('v2')
      expect(await cache.get('early-alone')).toBe('v2')
      expect(await cache.ttl('early-alone')).toBeGreaterThan(50)
    })

    it('earlyRecompute: a set() of the same value without expiry, or a touch(), made meanwhile stays', async () => {
      await seed('early-persist', early)
      const refresh = gated(() => 'v2')
      const call = cache.getOrSet('early-persist', refresh.factory, early)
      await refresh.started
      await cache.set('early-persist', 'v1', null) // the same bytes: only its expiry changed
      refresh.open()
      expect(await call).toBe('v1')
      expect(await cache.ttl('early-persist')).toBeNull()

      await seed('early-touch', early)
      const second = gated(() => 'v2')
      const touched = cache.getOrSet('early-touch', second.factory, early)
      await second.started
      expect(await cache.touch('early-touch', 600)).toBe(true)
      second.open()
      expect(await touched).toBe('v1')
      expect(await cache.ttl('early-touch')).toBeGreaterThan(500)
    })

    it('earlyRecompute: a value whose bytes are not UTF-8 (another writer) is refreshed', async () => {
      const rkey = cache.makeKey('not-utf8')
      // JSON text holding a byte no UTF-8 decoder keeps (the json codec reads text), and the
      // compute time a getOrSet stores beside a value.
      const bytes = Buffer.from([0x22, 0xff, 0x22]) as unknown as string
      await raw(cache, 'SET', rkey, bytes, 'PX', '60000')
      await raw(cache, 'SET', `__cachex:delta:${rkey}`, '50', 'PX', '60000')
      expect(await cache.getOrSet('not-utf8', () => 'fixed', early)).toBe('fixed')
      expect(await cache.get('not-utf8')).toBe('fixed')
    })

    for (const distributed of [false, true]) {
      it(`grace${distributed ? ' + distributed' : ''}: a set() made during a stale value's refresh stays`, async () => {
        const key = `grace-set-${distributed}`
        const options: GetOrSetOptions = { timeout: 1, grace: 30, distributed }
        await seed(key, options)
        await delay(1100) // past its timeout, well within its grace
        const refresh = gated(() => 'v2 from an old read')
        expect(await cache.getOrSet(key, refresh.factory, options)).toBe('v1') // stale, at once
        await refresh.started
        await cache.set(key, 'newer', 600)
        refresh.open()
        await delay(300) // the refresh settles in the background (it used to store 'v2' here)
        expect(await cache.get(key)).toBe('newer')
        expect(await cache.getOrSet(key, () => 'never', options)).toBe('newer')
      })
    }
  })

  describe('a refresh that fails keeps its stale value to itself', () => {
    for (const distributed of [false, true]) {
      it(`grace${distributed ? ' + distributed' : ''}: a miss after the grace ran out computes, it does not get the expired value`, async () => {
        const key = `grace-fail-${distributed}`
        const options: GetOrSetOptions = { timeout: 1, grace: 1, distributed }
        await seed(key, options)
        await delay(1100) // within the grace
        const refresh = gated((): string => {
          throw new Error('the database is down')
        })
        expect(await cache.getOrSet(key, refresh.factory, options)).toBe('v1')
        await refresh.started
        await untilGone(cache, key) // past timeout + grace, the refresh still running
        const miss = cache.getOrSet(key, () => 'fresh', options)
        refresh.open()
        expect(await miss).toBe('fresh')
        expect(await cache.get(key)).toBe('fresh')
      })
    }

    it('a plain getOrSet (no stampede options) joining a failed refresh computes too', async () => {
      const options: GetOrSetOptions = { timeout: 1, grace: 1 }
      await seed('grace-fail-plain', options)
      await delay(1100)
      const refresh = gated((): string => {
        throw new Error('the database is down')
      })
      expect(await cache.getOrSet('grace-fail-plain', refresh.factory, options)).toBe('v1')
      await refresh.started
      await untilGone(cache, 'grace-fail-plain')
      const miss = cache.getOrSet('grace-fail-plain', () => 'fresh', 1)
      refresh.open()
      expect(await miss).toBe('fresh')
    })
  })
})
