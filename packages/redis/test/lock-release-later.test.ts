// A release at the end of `withLock`, `await using` or `withPermit` that fails unsent or without an
// answer — dropped by `CLIENT PAUSE … WRITE` (as a failover pauses writes) after it timed out, or
// refused unsent because the connection is known down after a blip during the function — used to
// leave a lock without a timeout (the default) held for ever: the caller has nothing left to retry.
// It is now tried again in the background, with the same token, and the caller still gets the error.
import { type Cache, createCache, LockNotOwnedError, TimeoutError } from '@cachex/redis'
import { delay, redisCall, timed } from '@cachex/test-utils'
import { useFailureHarness } from '@cachex/test-utils/failures'
import { describe, expect, it } from 'vitest'
import { eventually } from './local-tier-helpers.ts'

const { server, closeAfterTest } = useFailureHarness()

async function setUp(): Promise<{ url: string; cache: Cache; pause(): Promise<unknown> }> {
  const s = await server()
  const cache: Cache = closeAfterTest(
    createCache({ location: s.url, keyPrefix: 'rl', socketTimeout: 1, socketConnectTimeout: 1 }),
  )
  // Longer than socketTimeout: the release times out, and the reset connection drops it unrun.
  const pause = () => redisCall(s.url, ['CLIENT', 'PAUSE', '1500', 'WRITE'], 5000)
  return { url: s.url, cache, pause }
}

/** Whether `key` exists, asked over a connection of its own. */
async function exists(url: string, key: string): Promise<boolean> {
  return (await redisCall(url, ['EXISTS', key], 5000)) === 1
}

describe('a failed release at the end of a block is tried again in the background', () => {
  it('withLock, writes paused at release time: rejects, then the lock is freed', async () => {
    const { url, cache, pause } = await setUp()
    const r = await timed(cache.lock('L').withLock(async () => void (await pause())))
    expect(r.error).toBeInstanceOf(TimeoutError)
    await eventually(async () => !(await exists(url, cache.makeKey('L'))), 15_000)
    expect(await cache.lock('L').acquire({ blocking: false })).toBe(true)
  }, 30_000)

  it('withLock, the server frozen for a socketTimeout during fn: the release refused unsent is sent later', async () => {
    const s = await server()
    const cache: Cache = closeAfterTest(
      createCache({ location: s.url, keyPrefix: 'rl', socketTimeout: 1, socketConnectTimeout: 1 }),
    )
    const r = await timed(
      cache.lock('L').withLock(async () => {
        s.pause()
        try {
          await cache.get('x').catch(() => undefined) // times out: the connection is reset
        } finally {
          s.resume()
        }
        return 'done'
      }),
    )
    expect(r.error).toBeDefined()
    expect(r.error).not.toBeInstanceOf(LockNotOwnedError)
    await eventually(async () => !(await exists(s.url, cache.makeKey('L'))), 15_000)
  }, 30_000)

  it('await using acquireLock: rejects, then the lock is freed', async () => {
    const { url, cache, pause } = await setUp()
    const r = await timed(
      (async () => {
        await using _lock = await cache.acquireLock('L')
        await pause()
      })(),
    )
    expect(r.error).toBeInstanceOf(TimeoutError)
    await eventually(async () => !(await exists(url, cache.makeKey('L'))), 15_000)
  }, 30_000)

  it('withPermit (no timeout): rejects, then the permit is given back', async () => {
    const { cache, pause } = await setUp()
    const options = { limit: 1, timeout: null }
    const r = await timed(
      cache.semaphore('S', options).withPermit(async () => void (await pause())),
    )
    expect(r.error).toBeInstanceOf(TimeoutError)
    await eventually(
      // Calls refused while the connection reconnects count as not yet.
      () =>
        cache
          .semaphore('S', options)
          .acquire({ blocking: false })
          .catch(() => false),
      15_000,
    )
  }, 30_000)

  it('a plain release() left alone after it failed: freed, and the lock knows it', async () => {
    const { url, cache, pause } = await setUp()
    const lock = cache.lock('L')
    expect(await lock.acquire()).toBe(true)
    await pause()
    await expect(lock.release()).rejects.toBeInstanceOf(TimeoutError)
    expect(lock.token).not.toBeNull()
    await eventually(async () => !(await exists(url, cache.makeKey('L'))), 15_000)
    await eventually(() => lock.token === null, 5_000)
  }, 30_000)

  it('a release that found the lock lost is not tried again', async () => {
    const { url, cache } = await setUp()
    const key = cache.makeKey('L')
    const r = await timed(
      cache.lock('L').withLock(async () => {
        await redisCall(url, ['SET', key, 'someone-else'], 5000)
      }),
    )
    expect(r.error).toBeInstanceOf(LockNotOwnedError)
    await delay(1500)
    expect(String(await redisCall(url, ['GET', key], 5000))).toBe('someone-else')
  }, 30_000)
})
