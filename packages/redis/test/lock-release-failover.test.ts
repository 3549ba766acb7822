// A release refused with `FailoverError` ("no write sent … the sentinels are failing over") did
// not run: once the failover is over and the lock expired meanwhile, a retry must reject with
// `LockNotOwnedError`, not resolve as if the refused release had deleted the lock.
import {
  redisCall,
  type SentinelDeployment,
  startSentinels,
  uniquePrefix,
} from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConnectionError, createCache, LockNotOwnedError } from '../src/index.ts'

let d: SentinelDeployment

beforeAll(async () => {
  d = await startSentinels({ replicas: 1 })
}, 120_000)

afterAll(async () => {
  await d?.stop()
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** What `promise` rejects with, or `undefined` when it resolves. */
function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  )
}

describe('a lock release refused during a sentinel failover', () => {
  it('the lock expired meanwhile: the retry after the failover rejects with LockNotOwnedError', async () => {
    const cache = createCache({
      client: 'sentinel',
      location: d.location,
      sentinels: d.addresses,
      keyPrefix: uniquePrefix('lf'),
      socketTimeout: 2,
    })
    try {
      const lock = cache.lock('job', { timeout: 2 })
      expect(await lock.acquire()).toBe(true)
      // On the replica too, so that the failover keeps it.
      await cache.connection.command(['WAIT', '1', '2000'])
      const old = await d.currentPrimary()
      const [sentinel] = d.sentinels
      if (sentinel === undefined) throw new Error('no sentinel started')
      await redisCall(sentinel.url, ['SENTINEL', 'FAILOVER', d.name], 10_000)
      // Until writes are refused for the failover.
      const until = performance.now() + 10_000
      let probe = await rejection(cache.set('probe', 1))
      while ((probe as Error)?.name !== 'FailoverError' && performance.now() < until) {
        await sleep(10)
        probe = await rejection(cache.set('probe', 1))
      }
      const refused = await rejection(lock.release())
      expect((refused as Error)?.name).toBe('FailoverError')
      expect(lock.token).not.toBeNull()
      await d.waitForFailover(old, 60_000)
      await sleep(2500) // the lock expires
      // The first calls after the failover may still be refused while the cache follows it.
      let retry: unknown
      const by = performance.now() + 30_000
      do {
        retry = await rejection(lock.release())
        if (!(retry instanceof ConnectionError)) break
        await sleep(100)
      } while (performance.now() < by)
      expect(retry).toBeInstanceOf(LockNotOwnedError)
    } finally {
      await cache.close()
    }
  }, 180_000)
})
