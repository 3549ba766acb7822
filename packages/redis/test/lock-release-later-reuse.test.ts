// A release handed to the background after it failed (see lock-release-later.test.ts), and the
// same Lock or Semaphore used again: an acquire() of the same Lock does not cancel the background
// release of its stale token (it waited for ever on that very token), an extend() that sends
// nothing does not either, and a background try that finds the hold already gone (the failed
// release ran after all) counts as released (a Semaphore refused every acquire() after it).
import { type Cache, createCache, LockError, TimeoutError } from '@cachex/redis'
import { delay, redisCall, timed } from '@cachex/test-utils'
import { useFailureHarness } from '@cachex/test-utils/failures'
import { describe, expect, it } from 'vitest'

const { server, closeAfterTest } = useFailureHarness()

async function setUp() {
  const s = await server()
  const cache: Cache = closeAfterTest(
    createCache({ location: s.url, keyPrefix: 'rv', socketTimeout: 1, socketConnectTimeout: 1 }),
  )
  const pause = () => redisCall(s.url, ['CLIENT', 'PAUSE', '1500', 'WRITE'], 5000)
  return { url: s.url, cache, pause }
}

const get = async (url: string, key: string) => await redisCall(url, ['GET', key], 5000)

describe('the same Lock used again after its release failed', () => {
  it('withLock fails to release; the same Lock object acquire()s again: it gets the lock (the stale token is freed)', async () => {
    const { url, cache, pause } = await setUp()
    const lock = cache.lock('job') // no timeout (the default)
    const r = await timed(lock.withLock(async () => void (await pause())))
    expect(r.error).toBeInstanceOf(TimeoutError)
    const stale = lock.token
    expect(stale).not.toBeNull()
    // Wait for the 1.5 s pause to end (but not for the first background try, ~1 s after the failure).
    await delay(600)
    // A job loop re-running `lock.withLock(...)` does exactly this.
    const got = await lock.acquire({ blockingTimeout: 8 })
    const holder = await get(url, cache.makeKey('job'))
    expect({ got, staleStillHeld: String(holder) === stale }).toEqual({
      got: true,
      staleStillHeld: false,
    })
  }, 30_000)

  it('a no-timeout Lock: an extend() that throws LockError at once (sends nothing) leaves the background release on', async () => {
    const { url, cache, pause } = await setUp()
    const lock = cache.lock('job2')
    const r = await timed(lock.withLock(async () => void (await pause())))
    expect(r.error).toBeInstanceOf(TimeoutError)
    await expect(lock.extend(5)).rejects.toBeInstanceOf(LockError) // "cannot extend a lock with no timeout"
    await delay(7_000) // past the 1 s and 5 s tries
    expect(await redisCall(url, ['EXISTS', cache.makeKey('job2')], 5000)).toBe(0)
  }, 30_000)
})

describe('semaphore: background release after a release that ran unanswered', () => {
  it('the same Semaphore can take a permit again once the server is back', async () => {
    const s = await server()
    const cache: Cache = closeAfterTest(
      createCache({ location: s.url, keyPrefix: 'sv', socketTimeout: 1, socketConnectTimeout: 1 }),
    )
    const sem = cache.semaphore('S', { limit: 1, timeout: null })
    const r = await timed(
      sem.withPermit(async () => {
        s.pause()
        setTimeout(() => s.resume(), 1500)
      }),
    )
    expect(r.error).toBeDefined()
    // withPermit lets its token go (its caller has nothing to retry with): the release is the
    // background's.
    expect(sem.token).toBeNull()
    await delay(7_000) // past the 1 s and 5 s background tries; the server is long back
    // The permit is really gone on the server: the release ran when the server woke.
    expect(await redisCall(s.url, ['EXISTS', cache.makeKey('S')], 5000)).toBe(0)
    const again = await sem.acquire({ blocking: false }).then(
      (v) => v,
      (e: unknown) => e,
    )
    expect(again).not.toBeInstanceOf(LockError)
    expect(again).toBe(true)
  }, 30_000)

  it('same for a Lock: token/owned agree once the background try found the key gone', async () => {
    const s = await server()
    const cache: Cache = closeAfterTest(
      createCache({ location: s.url, keyPrefix: 'sv2', socketTimeout: 1, socketConnectTimeout: 1 }),
    )
    const lock = cache.lock('L')
    const r = await timed(
      lock.withLock(async () => {
        s.pause()
        setTimeout(() => s.resume(), 1500)
      }),
    )
    expect(r.error).toBeDefined()
    await delay(7_000)
    expect({ token: lock.token, owned: await lock.owned() }).toEqual({ token: null, owned: false })
  }, 30_000)
})
