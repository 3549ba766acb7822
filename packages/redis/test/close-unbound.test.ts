// docs/api.md: `close()` takes any number of arguments because it is handed as a callback
// (core/src/_arity.ts). Handed so, it is called without its `this` (`process.once('SIGTERM',
// cache.close)`, an EventEmitter listener, `.then(cache.close)`): it used to throw a TypeError
// (`Cannot read properties of undefined (reading '#closing')`), leaving the cache open and the
// process running. (`caches.close` and the admin handler's `close` are closures: they were fine.)
import { EventEmitter } from 'node:events'
import { ClosedError, createCache } from '@cachex/redis'
import { standaloneServer, trackUnhandledRejections, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let server: { url: string; stop(): Promise<void> }
beforeAll(async () => {
  server = await standaloneServer()
})
afterAll(async () => {
  await server?.stop()
})

/** Whether `cache` is closed: a call rejects with `ClosedError`; else it is closed now. */
async function closedAlready(cache: ReturnType<typeof createCache>): Promise<boolean> {
  const after = await cache.get('k').then(
    () => 'still open',
    (error: unknown) => error,
  )
  if (after instanceof ClosedError) return true
  await cache.close()
  return false
}

describe('cache.close handed as a callback', () => {
  it('closes the cache when called without its this, passed an argument', async () => {
    const cache = createCache({ location: server.url, keyPrefix: uniquePrefix('cb') })
    await cache.set('k', 1)
    const close = cache.close as (reason?: unknown) => Promise<void>
    let outcome: unknown = 'resolved'
    try {
      await close('SIGTERM')
    } catch (error) {
      outcome = error
    }
    const closed = await closedAlready(cache)
    expect(String(outcome)).toBe('resolved')
    expect(closed).toBe(true)
    // Called again, unbound or not, it resolves with the first.
    await close()
    await cache.close()
  })

  it('as an EventEmitter listener: no unhandled rejection, the cache is closed', async () => {
    const unhandled = trackUnhandledRejections()
    const cache = createCache({ location: 'memory://', keyPrefix: uniquePrefix('cb') })
    await cache.set('k', 1)
    const shutdown = new EventEmitter()
    shutdown.once('shutdown', cache.close as (...args: unknown[]) => void)
    let thrown: unknown
    try {
      shutdown.emit('shutdown', 'SIGTERM')
    } catch (error) {
      thrown = error
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
    const closed = await closedAlready(cache)
    expect(String(thrown)).toBe('undefined')
    expect(unhandled().map(String)).toEqual([])
    expect(closed).toBe(true)
  })

  it('as a promise callback (.then(cache.close))', async () => {
    const cache = createCache({ location: 'memory://', keyPrefix: uniquePrefix('cb') })
    await cache.set('k', 1)
    await Promise.resolve('done').then(cache.close)
    expect(await closedAlready(cache)).toBe(true)
  })

  it('each cache closes its own: one handed unbound does not close another', async () => {
    const a = createCache({ location: 'memory://', keyPrefix: uniquePrefix('cb') })
    const b = createCache({ location: 'memory://', keyPrefix: uniquePrefix('cb') })
    await a.set('k', 1)
    await b.set('k', 1)
    const closeA = a.close
    await closeA()
    expect(await closedAlready(a)).toBe(true)
    expect(await b.get('k')).toBe(1)
    await b.close()
  })
})
