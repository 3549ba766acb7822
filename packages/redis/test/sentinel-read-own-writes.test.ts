// With the local tier, a read of a key this process wrote a moment ago goes to the primary
// (read-your-writes: a replica may not have the write yet). Under Sentinel such reads were sent
// as writes, which are held back while the primary is failed over: they failed with
// FailoverError ("no write sent…") though the old primary, until the switch, and then the new
// one hold the value. They run as reads on the primary now: none fails during a failover.
import { type Cache, createCache } from '@cachex/redis'
import { delay, type SentinelDeployment, startSentinels, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

describe('reads of keys just written, with the local tier, through a Sentinel failover', () => {
  let deployment: SentinelDeployment
  let cache: Cache
  beforeAll(async () => {
    deployment = await startSentinels({ replicas: 1 })
    cache = createCache({
      client: 'sentinel',
      location: deployment.location,
      sentinels: deployment.addresses,
      keyPrefix: uniquePrefix('ryw-failover'),
      local: {},
    })
  }, 120_000)
  afterAll(async () => {
    await cache?.close()
    await deployment?.stop()
  })

  it('get, hasKey, ttl and getMany of a key just written never fail as writes do', async () => {
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
})
