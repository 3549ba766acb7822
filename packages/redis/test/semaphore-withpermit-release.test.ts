// A `Semaphore` used by one withPermit() after another (an app-wide `cache.semaphore('jobs')`).
// When a withPermit's release failed, the semaphore kept its token for a retry that withPermit's
// caller has no way to make, and refused every later withPermit with LockError ("already holds
// permits… release them first"): for good after an error reply (a READONLY of a failover, which
// is not tried again in the background), until a background try after a timeout. And a
// withPermit whose fn gave the permits back itself (`semaphore.release()`) rejected with
// LockError where withLock resolves.
import { createCache } from '@cachex/redis'
import { delay, redisCall, uniquePrefix } from '@cachex/test-utils'
import { useFailureHarness } from '@cachex/test-utils/failures'
import { describe, expect, it } from 'vitest'

const { server, closeAfterTest } = useFailureHarness()

/** How many holders the semaphore `key` has on the server, within `ms` once it is none. */
async function holdersWithin(url: string, key: string, ms: number): Promise<number> {
  const end = Date.now() + ms
  for (;;) {
    const holders = Number(await redisCall(url, ['ZCARD', key]))
    if (holders === 0 || Date.now() > end) return holders
    await delay(100)
  }
}

describe('withPermit after a withPermit whose release failed', () => {
  it('runs after an error reply (the server demoted while fn ran), and the permits are released behind', async () => {
    const s = await server()
    const prefix = uniquePrefix('sem-readonly')
    const cache = closeAfterTest(createCache({ location: s.url, keyPrefix: prefix }))
    // No timeout: permits left held would be held for ever.
    const semaphore = cache.semaphore('jobs', { limit: 3, timeout: null })
    await expect(
      semaphore.withPermit(async () => {
        await redisCall(s.url, ['REPLICAOF', '127.0.0.1', '1'])
      }),
    ).rejects.toThrow(/READONLY/)
    await redisCall(s.url, ['REPLICAOF', 'NO', 'ONE'])
    await expect(semaphore.withPermit(async () => 'ran')).resolves.toBe('ran')
    // The first withPermit's permits, tried again 1 s after.
    expect(await holdersWithin(s.url, `${prefix}:1:jobs`, 10_000)).toBe(0)
  }, 30_000)

  it('runs right after a release that timed out, and the permits are released behind it', async () => {
    const s = await server()
    const prefix = uniquePrefix('sem-timeout')
    const cache = closeAfterTest(
      createCache({ location: s.url, keyPrefix: prefix, socketTimeout: 0.2 }),
    )
    const semaphore = cache.semaphore('jobs', { limit: 3, timeout: null })
    await expect(
      semaphore.withPermit(async () => {
        await redisCall(s.url, ['CLIENT', 'PAUSE', '400', 'WRITE'])
      }),
    ).rejects.toThrow(/did not complete within/)
    await delay(600)
    // Taken and given back before the first's background try: which must not be dropped by it.
    await expect(semaphore.withPermit(async () => 'ran')).resolves.toBe('ran')
    expect(await holdersWithin(s.url, `${prefix}:1:jobs`, 10_000)).toBe(0)
  }, 30_000)
})

describe('withPermit whose fn gave the permits back itself', () => {
  it.each([
    ['redis', true],
    ['memory', false],
  ])('resolves with fn’s result (%s)', async (_kind, real) => {
    const location = real ? (await server()).url : `memory://${uniquePrefix('sem-self')}`
    const cache = closeAfterTest(createCache({ location, keyPrefix: uniquePrefix('sem-self') }))
    const semaphore = cache.semaphore('jobs', { limit: 2 })
    await expect(
      semaphore.withPermit(async () => {
        await semaphore.release()
        return 'done'
      }),
    ).resolves.toBe('done')
    // And the next one takes permits.
    await expect(semaphore.withPermit(async () => 'again')).resolves.toBe('again')
  })
})
