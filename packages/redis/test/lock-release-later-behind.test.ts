// A release refused unsent (known not to have run) is handed to the background. The background's
// first try is sent to a frozen server and times out — but runs when the server thaws (deleting
// the lock). The next try finds the key gone: released by this holder's own try, not lost (it
// was taken for lost, and the next release() rejected with LockNotOwnedError though nobody else
// ever held the lock).
import { BackpressureError, type Cache, createCache } from '@cachex/redis'
import { delay, redisCall } from '@cachex/test-utils'
import { useFailureHarness } from '@cachex/test-utils/failures'
import { describe, expect, it } from 'vitest'

const { server, closeAfterTest } = useFailureHarness()

describe('background release: its own unanswered try', () => {
  it('a background try that timed out but ran is not taken for a lost lock', async () => {
    const s = await server()
    const cache: Cache = closeAfterTest(
      createCache({
        location: s.url,
        keyPrefix: 'bl',
        socketTimeout: 2,
        socketConnectTimeout: 2,
        maxInFlightBytes: 8000,
      }),
    )
    const lock = cache.lock('L') // no timeout
    expect(await lock.acquire()).toBe(true)
    const key = cache.makeKey('L')
    // Writes paused 400 ms: a big SET sits in flight, and the release is refused unsent.
    await redisCall(s.url, ['CLIENT', 'PAUSE', '400', 'WRITE'], 5000)
    const big = cache.set('big', 'x'.repeat(7000)).catch((e: unknown) => e)
    await delay(20)
    const t0 = performance.now()
    const r = await lock.release().then(
      () => 'resolved',
      (e: unknown) => e,
    )
    expect(r).toBeInstanceOf(BackpressureError)
    await big
    // Freeze the server before the first background try (t0 + 1 s): it is sent and times out (2 s).
    await delay(Math.max(0, 800 - (performance.now() - t0)))
    s.pause()
    await delay(3_700 - (performance.now() - t0)) // the try timed out at ~3 s
    s.resume() // the frozen server now runs the try it read: the lock is deleted by our token
    for (let i = 0; i < 40 && lock.token !== null; i++) await delay(500)
    expect(await redisCall(s.url, ['EXISTS', key], 5000)).toBe(0)
    expect(lock.token).toBeNull()
    // Nobody else ever held the lock: this holder's background try released it.
    const again = await lock.release().then(
      () => 'resolved',
      (e: unknown) => (e as Error).constructor.name,
    )
    expect(again).toBe('resolved')
  }, 60_000)
})
