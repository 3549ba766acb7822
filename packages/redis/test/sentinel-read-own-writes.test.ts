// With the local tier, a read of a key this process wrote a moment ago goes to the primary
// (read-your-writes: a replica may not have the write yet). Under Sentinel such reads were sent
// as writes, which are held back while the primary is failed over: they failed with
// FailoverError ("no write sent…") though the old primary, until the switch, and then the new
// one hold the value. They run as reads on the primary now: none fails during a failover. And a
// batch of such reads in flight on a frozen primary the sentinels replace runs again on the new
// one, as a single command does (its replies held the reset's ConnectionError).
import { type Cache, createCache } from '@cachex/redis'
import {
  delay,
  redisCall,
  type SentinelDeployment,
  startSentinels,
  uniquePrefix,
} from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

describe('reads of keys just written, with the local tier, through a Sentinel failover', () => {
  let deployment: SentinelDeployment
  let cache: Cache
  const prefix = uniquePrefix('ryw-failover')
  beforeAll(async () => {
    deployment = await startSentinels({ replicas: 1 })
    cache = createCache({
      client: 'sentinel',
      location: deployment.location,
      sentinels: deployment.addresses,
      keyPrefix: prefix,
      local: {},
    })
  }, 120_000)
  afterAll(async () => {
    await cache?.close()
    await deployment?.stop()
  })

  it('get, hasKey, ttl, getMany and getOrSet (grace, earlyRecompute) of a key just written never fail as writes do', async () => {
    await cache.set('k', 'v')
    const failed: string[] = []
    let reads = 0
    let running = true
    const loop = (async () => {
      for (let i = 0; running; i++) {
        // A write may be held back (FailoverError): the reads after it are what is checked.
        await cache.set('k', `v${i}`).catch(() => undefined)
        const results = await Promise.allSettled([
          cache.get('k'),
          cache.hasKey('k'),
          cache.ttl('k'),
          cache.getMany(['k', 'other']),
          cache.getOrSet('k', () => 'computed', 300, { grace: 30 }),
          cache.getOrSet('k', () => 'computed', 300, { earlyRecompute: 1 }),
        ])
        reads += results.length
        for (const result of results) {
          if (result.status === 'rejected') {
            const error = result.reason as Error
            failed.push(`${error.constructor.name}: ${error.message.slice(0, 160)}`)
          }
        }
        await delay(10)
      }
    })()
    await delay(300)
    // SENTINEL FAILOVER: the old primary stays up and answers until the switch.
    await deployment.failover(60_000)
    await delay(500)
    running = false
    await loop
    expect(reads).toBeGreaterThan(20)
    expect(failed).toEqual([])
  }, 120_000)

  it('reads of a key just written, in flight on a frozen primary the sentinels replace, answer from the new one', async () => {
    await cache.set('frozen', 'v1', 300)
    // Replicated, so that the replica the sentinels promote holds it.
    // The first test failed the primary over: the one in place now is frozen.
    const old = await deployment.currentPrimary()
    const replica = [deployment.primary, ...deployment.replicas].find((server) => server !== old)
    if (replica === undefined) throw new Error('no replica')
    await expect
      .poll(() => redisCall(replica.url, ['GET', `${prefix}:1:frozen`]), { timeout: 20_000 })
      .toBeTruthy()
    old.pause()
    const settle = <T>(promise: Promise<T>) =>
      promise.then(
        (value) => ({ value }),
        (error: Error) => ({ error: `${error.constructor.name}: ${error.message.slice(0, 160)}` }),
      )
    const reads = {
      get: settle(cache.get('frozen')),
      pipeline: settle(
        cache
          .pipeline()
          .get('frozen')
          .exec()
          .then((replies) => replies[0]),
      ),
      hasKey: settle(cache.hasKey('frozen')),
      getMany: settle(cache.getMany(['frozen']).then((found) => found.get('frozen'))),
    }
    try {
      await deployment.waitForFailover(old, 60_000)
      expect({
        get: await reads.get,
        pipeline: await reads.pipeline,
        hasKey: await reads.hasKey,
        getMany: await reads.getMany,
      }).toEqual({
        get: { value: 'v1' },
        pipeline: { value: 'v1' },
        hasKey: { value: true },
        getMany: { value: 'v1' },
      })
    } finally {
      old.resume()
    }
  }, 120_000)
})
