// getOrSet at its edges, on Redis and on memory://: a promise handed in is the call's own (its
// rejection never goes unhandled, which would end the process); the misses that joined a grace
// refresh which failed share one call of the factory; close() ends the wait of a caller on
// another call's computation with a ClosedError, its factory not run (docs/stampede.md).
import { fileURLToPath } from 'node:url'
import {
  type Cache,
  ClosedError,
  createCache,
  type GetOrSetOptions,
  InvalidArgumentError,
} from '@cachex/redis'
import { trackUnhandledRejections, uniquePrefix } from '@cachex/test-utils'
import { describe, expect, it } from 'vitest'
import { deploymentsWithMemory, gated, onDeployment, runChild } from './helpers.ts'

const child = fileURLToPath(new URL('./_getorset-edges-child.ts', import.meta.url))

/** A standalone redis-server, then memory://. */
const BACKENDS = deploymentsWithMemory('gos-edges').slice(0, 2)

/** One turn of the event loop: Node reports a rejection nobody handled before it ends. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * Resolves once `count` getOrSet calls of `cache` missed, and the turn in which they join the
 * computation in flight has passed.
 */
function missed(cache: Cache, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0
    const stop = cache.on('miss', ({ operation }) => {
      if (operation !== 'getOrSet' || ++seen < count) return
      stop()
      void turn().then(resolve)
    })
  })
}

/** The call's outcome: its value, or the error it rejected with. */
function settled<T>(call: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return call.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )
}

describe.each(BACKENDS)('$name', (topology) => {
  const deployed = onDeployment(topology, 'gos-edges')
  const { connected } = deployed

  describe('a promise handed to getOrSet is the call’s: its rejection is never unhandled', () => {
    const VARIANTS: Array<[string, GetOrSetOptions]> = [
      ['no option', {}],
      ['grace', { timeout: 60, grace: 5 }],
      ['distributed', { distributed: true }],
    ]

    it.each(VARIANTS)('%s: a hit answers the value held', async (_, options) => {
      const cache = await connected()
      await cache.set('hit', 'held', 60)
      const unhandled = trackUnhandledRejections()
      const upstream = Promise.reject(new Error('not needed'))
      expect(await cache.getOrSet('hit', upstream, options)).toBe('held')
      await turn()
      expect(unhandled()).toEqual([])
    })

    it.each(VARIANTS)(
      '%s: a miss whose promise rejects before the read returns rejects with its error',
      async (_, options) => {
        const cache = await connected()
        const unhandled = trackUnhandledRejections()
        const boom = new Error('upstream failed')
        await expect(cache.getOrSet('miss', Promise.reject(boom), options)).rejects.toBe(boom)
        await turn()
        expect(unhandled()).toEqual([])
        expect(await cache.hasKey('miss')).toBe(false)
      },
    )

    it('an argument refused: rejects with InvalidArgumentError', async () => {
      const cache = await connected()
      const unhandled = trackUnhandledRejections()
      const upstream = Promise.reject(new Error('upstream failed'))
      await expect(cache.getOrSet('k', upstream, { waitTimeout: -1 })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
      await turn()
      expect(unhandled()).toEqual([])
    })

    it('a process handed such promises lives on and exits 0', async () => {
      const proc = runChild(child, [String(deployed.options.location), uniquePrefix('child')])
      const ended = await proc.exitsWithin(30_000)
      const out = proc.out + proc.err
      expect(ended, out).toBe(true)
      expect(proc.exitCode, out).toBe(0)
      expect(proc.out).toContain('got held InvalidArgumentError')
    })
  })

  describe('the misses that joined a failed grace refresh share one call of the factory', () => {
    // Stale 0.2 s after it is stored, gone 1 s later.
    const GRACE: GetOrSetOptions = { timeout: 0.2, grace: 1 }
    const CASES: Array<[string, GetOrSetOptions, GetOrSetOptions]> = [
      ['grace', GRACE, GRACE],
      ['grace + distributed', { ...GRACE, distributed: true }, { ...GRACE, distributed: true }],
      ['grace, misses with no option', GRACE, { timeout: 60 }],
    ]

    it.each(CASES)('%s', async (_, options, missOptions) => {
      const cache = await connected()
      expect(await cache.getOrSet('k', () => 'v1', options)).toBe('v1')
      await expect
        .poll(() => cache.pttl('k'), { interval: 20, timeout: 5000 })
        .toBeLessThanOrEqual(1000)
      // Served stale; its refresh fails only once the value is gone and the misses joined it.
      const refresh = gated<string>(() => {
        throw new Error('database down')
      })
      expect(await cache.getOrSet('k', refresh.factory, options)).toBe('v1')
      await refresh.started
      await expect.poll(() => cache.hasKey('k'), { interval: 20, timeout: 5000 }).toBe(false)
      let calls = 0
      const factory = async () => {
        calls++
        return 'fresh'
      }
      const joined = missed(cache, 20)
      const misses = Array.from({ length: 20 }, () => cache.getOrSet('k', factory, missOptions))
      await joined
      refresh.open()
      expect(await Promise.all(misses)).toEqual(Array(20).fill('fresh'))
      // CacheLike.getOrSet: "Concurrent calls for the same key in this process share one call
      // of the factory".
      expect(calls).toBe(1)
      expect(await cache.get('k')).toBe('fresh')
    })
  })

  describe('close() while callers wait on another call’s computation', () => {
    const VARIANTS: Array<[string, GetOrSetOptions]> = [
      ['no option', { waitTimeout: 30 }],
      ['no option, waitTimeout: null', { waitTimeout: null }],
      ['grace', { timeout: 60, grace: 10, waitTimeout: 30 }],
      ['earlyRecompute', { timeout: 60, earlyRecompute: 1, waitTimeout: 30 }],
      ['distributed', { distributed: true, waitTimeout: 30 }],
    ]

    it.each(VARIANTS)(
      '%s: each rejects with ClosedError, its factory not run',
      async (_, options) => {
        const cache = await connected()
        const unhandled = trackUnhandledRejections()
        const first = gated(() => 'computed')
        const computing = cache.getOrSet('k', first.factory, options)
        await first.started
        let calls = 0
        const factory = async () => {
          calls++
          return 'waiter'
        }
        const joined = missed(cache, 50)
        const waiters = Array.from({ length: 50 }, () =>
          settled(cache.getOrSet('k', factory, options)),
        )
        await joined
        await cache.close()
        for (const outcome of await Promise.all(waiters)) {
          expect(outcome).toEqual({ error: expect.any(ClosedError) })
          const { error } = outcome as { error: Error }
          expect(error.message).toMatch(/getOrSet\('k'\).*closed/)
        }
        expect(calls).toBe(0)
        // The computation they waited on finishes after close(): its caller gets its value.
        first.open()
        expect(await computing).toBe('computed')
        await turn()
        expect(unhandled()).toEqual([])
      },
    )

    it('a call that joins after close() a computation started after it: the same', async () => {
      const cache = await connected()
      let calls = 0
      const factory = async () => `value ${++calls}`
      // Both reads are in flight at close(): the first call's miss then starts a computation,
      // which the second call's miss finds in flight.
      const first = settled(cache.getOrSet('late', factory))
      const second = settled(cache.getOrSet('late', factory))
      await cache.close()
      expect(await first).toEqual({ value: 'value 1' })
      expect(await second).toEqual({ error: expect.any(ClosedError) })
      expect(calls).toBe(1)
    })

    it('a caller that gave up waiting, computing its own value at close(), gets it', async () => {
      const cache = await connected()
      const first = gated(() => 'first')
      const computing = cache.getOrSet('t', first.factory)
      await first.started
      // It waits 50 ms, then calls its own factory, which finishes after close().
      const own = gated(() => 'own')
      const waiter = cache.getOrSet('t', own.factory, { waitTimeout: 0.05 })
      await own.started
      await cache.close()
      own.open()
      expect(await waiter).toBe('own')
      first.open()
      expect(await computing).toBe('first')
    })

    it('under ignoreExceptions: each computes its own value, as a call after close()', async () => {
      const cache = createCache({
        ...deployed.options,
        keyPrefix: uniquePrefix('gos-edges'),
        ignoreExceptions: true,
        logIgnoredExceptions: false,
      })
      await cache.get('connected')
      const first = gated(() => 'computed')
      const computing = cache.getOrSet('k', first.factory, { waitTimeout: 30 })
      await first.started
      const joined = missed(cache, 5)
      const waiters = Array.from({ length: 5 }, (_, i) =>
        cache.getOrSet('k', async () => `waiter ${i}`, { waitTimeout: 30 }),
      )
      await joined
      await cache.close()
      expect(await Promise.all(waiters)).toEqual(Array.from({ length: 5 }, (_, i) => `waiter ${i}`))
      expect(await cache.getOrSet('after', () => 'after close')).toBe('after close')
      first.open()
      expect(await computing).toBe('computed')
    })
  })
})
