import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { type Cache, createCache, InvalidArgumentError } from '@cachex/redis'
import { delay, timed, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer } from './helpers.ts'

describe.each(BACKENDS)('%s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    cache = createCache({ location: server.url, keyPrefix: uniquePrefix('gos') })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  describe('getOrSet shares one computation per key in a process', () => {
    it('calls the factory once for 50 concurrent callers and gives all the same value', async () => {
      let calls = 0
      const factory = async () => {
        calls++
        await new Promise((r) => setTimeout(r, 50))
        return { n: calls }
      }
      const results = await Promise.all(
        Array.from({ length: 50 }, () => cache.getOrSet('hot', factory, { timeout: 60 })),
      )
      expect(calls).toBe(1)
      for (const r of results) expect(r).toEqual({ n: 1 })
      expect(await cache.get('hot')).toEqual({ n: 1 })
    })

    it('keeps keys apart and computes again once the value is gone', async () => {
      let calls = 0
      const factory = () => ++calls
      const [a, b] = await Promise.all([
        cache.getOrSet('a1', factory),
        cache.getOrSet('b1', factory),
      ])
      expect(new Set([a, b])).toEqual(new Set([1, 2]))
      await cache.delete('a1')
      expect(await cache.getOrSet('a1', factory)).toBe(3)
    })

    it('rejects every waiter when the factory fails, and the next call tries again', async () => {
      let calls = 0
      const failing = async () => {
        calls++
        await new Promise((r) => setTimeout(r, 20))
        throw new Error('backend down')
      }
      const settled = await Promise.allSettled(
        Array.from({ length: 10 }, () => cache.getOrSet('flaky', failing)),
      )
      expect(calls).toBe(1)
      expect(settled.every((s) => s.status === 'rejected')).toBe(true)
      expect(await cache.getOrSet('flaky', () => 'ok')).toBe('ok')
    })

    it('shares per version: another version computes on its own', async () => {
      let calls = 0
      const factory = () => ++calls
      const [v1, v2] = await Promise.all([
        cache.getOrSet('ver', factory),
        cache.getOrSet('ver', factory, { version: 2 }),
      ])
      expect(calls).toBe(2)
      expect(await cache.get('ver')).toBe(v1)
      expect(await cache.get('ver', null, { version: 2 })).toBe(v2)
    })
  })

  /** A factory that never settles, counting its calls. */
  function hungFactory(): { factory: () => Promise<string>; calls(): number } {
    let calls = 0
    return {
      factory: () => {
        calls++
        return new Promise<string>(() => {})
      },
      calls: () => calls,
    }
  }

  /** Timers alive in this process (a waiter must not cost one). */
  function timers(): number {
    return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length
  }

  describe("getOrSet bounds the wait on another call's computation (waitTimeout)", () => {
    it('a caller waiting on a hung computation rejects with ClosedError when the cache closes', async () => {
      const own = createCache({ location: server.url, keyPrefix: uniquePrefix('gos-close') })
      await own.set('warm', 1)
      // The first caller's factory never settles (a hung upstream call).
      own.getOrSet('k', () => new Promise<never>(() => {})).catch(() => undefined)
      const waiters = [undefined, null, 60].map((waitTimeout) =>
        own.getOrSet('k', async () => 'mine', { waitTimeout }).catch((error: unknown) => error),
      )
      await delay(100)
      await own.close()
      // It used to wait out waitTimeout (10 s by default; for ever with null), its timer
      // keeping the process alive.
      const outcomes = await Promise.race([
        Promise.all(waiters),
        delay(5000).then(() => 'still waiting'),
      ])
      expect(outcomes).not.toBe('still waiting')
      for (const outcome of outcomes as unknown[]) {
        expect((outcome as Error).name).toBe('ClosedError')
      }
    })

    it('a waiter on a hung factory computes its own value after waitTimeout', async () => {
      const hung = hungFactory()
      void cache.getOrSet('hung', hung.factory)
      await delay(20)
      const result = await timed(cache.getOrSet('hung', () => 'mine', { waitTimeout: 0.2 }))
      expect(result.value).toBe('mine')
      // The bound plus its tick, with room for a busy machine; without a bound it never settles.
      expect(result.ms).toBeGreaterThanOrEqual(190)
      expect(result.ms).toBeLessThan(5000)
      expect(hung.calls()).toBe(1)
      expect(await cache.get('hung')).toBe('mine')
    })

    it('thousands of waiters share a handful of timers, and later callers do not join a hung computation', async () => {
      const hung = hungFactory()
      void cache.getOrSet('many', hung.factory)
      // The flight exists once its factory runs (its get of the missing key came first).
      while (hung.calls() === 0) await delay(5)
      const before = timers()
      let ownCalls = 0
      const own = async () => {
        ownCalls++
        return 'own'
      }
      const waiters = Array.from({ length: 5000 }, () =>
        cache.getOrSet('many', own, { waitTimeout: 1 }),
      )
      await delay(150)
      // One timer for the flight (and whatever the connection runs), not one per waiter.
      expect(timers() - before).toBeLessThanOrEqual(2)
      expect(ownCalls).toBe(0)
      const results = await timed(Promise.all(waiters))
      expect(results.error).toBeUndefined()
      expect(new Set(results.value)).toEqual(new Set(['own']))
      expect(ownCalls).toBe(5000)
      expect(hung.calls()).toBe(1)
      // The hung computation was given up: a new caller for a missing key computes at once.
      await cache.delete('many')
      const next = await timed(cache.getOrSet('many', () => 'fresh', { waitTimeout: 60 }))
      expect(next.value).toBe('fresh')
      expect(next.ms).toBeLessThan(5000)
      expect(hung.calls()).toBe(1)
    })

    it('waiters still share a computation that ends within their bound', async () => {
      let calls = 0
      const slow = async () => {
        calls++
        await delay(100)
        return calls
      }
      const results = await Promise.all(
        Array.from({ length: 20 }, () => cache.getOrSet('shared', slow, { waitTimeout: 30 })),
      )
      expect(calls).toBe(1)
      expect(new Set(results)).toEqual(new Set([1]))
    })

    it('waitTimeout: null waits as long as it takes; 0 never waits', async () => {
      let release: (value: string) => void = () => {}
      const first = cache.getOrSet('nul', () => new Promise<string>((r) => (release = r)))
      await delay(20)
      let zeroCalls = 0
      expect(await cache.getOrSet('nul', () => `zero${++zeroCalls}`, { waitTimeout: 0 })).toBe(
        'zero1',
      )
      await cache.delete('nul')
      const patient = cache.getOrSet('nul', () => 'never called', { waitTimeout: null })
      await delay(300)
      release('shared')
      expect(await first).toBe('shared')
      expect(await patient).toBe('shared')
    })

    it('rejects a bad waitTimeout with InvalidArgumentError', async () => {
      for (const waitTimeout of [
        -1,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        '1' as unknown as number,
      ]) {
        await expect(cache.getOrSet('bad', 1, { waitTimeout })).rejects.toBeInstanceOf(
          InvalidArgumentError,
        )
      }
    })

    it('keeps nothing once every caller settled: the computed value can be collected', async () => {
      setFlagsFromString('--expose-gc')
      const gc = runInNewContext('gc') as () => void
      let ref: WeakRef<object> | undefined
      await (async () => {
        const value = { big: 'x'.repeat(1 << 20) }
        ref = new WeakRef(value)
        let release: (v: object) => void = () => {}
        const gate = new Promise<object>((r) => (release = r))
        const factory = () => gate
        const callers = [
          cache.getOrSet('gone', factory, { timeout: 0 }),
          cache.getOrSet('gone', factory, { timeout: 0 }),
          cache.getOrSet('gone', factory, { timeout: 0, waitTimeout: 0.05 }),
        ]
        // The third caller gives up after 50 ms and calls the factory too.
        await delay(150)
        release(value)
        await Promise.all(callers)
      })()
      for (let i = 0; i < 5 && ref?.deref() !== undefined; i++) {
        await delay(10)
        gc()
      }
      expect(ref?.deref()).toBeUndefined()
    })
  })
})
