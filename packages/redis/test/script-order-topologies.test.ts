// Scripts in call order where a node that never ran them takes over: a Sentinel failover, a
// cluster failover, a slot moved to a new node. The first script call there went EVALSHA, met
// NOSCRIPT, and its EVAL retry ran after the get called behind it (which read the value before
// the incr). The connection's `generation` changes with the nodes, and a cluster resends a
// redirected EVALSHA as an EVAL.
import { type Cache, createCache, keySlot } from '@cachex/redis'
import {
  type SentinelDeployment,
  startCluster,
  startSentinels,
  type TestCluster,
  uniquePrefix,
} from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from './local-tier-helpers.ts'

/** An incr and a get of `key` in one tick: the get must see the increment. */
async function incrThenGet(cache: Cache, key: string): Promise<[unknown, unknown]> {
  return Promise.all([cache.incr(key), cache.get(key)])
}

describe('Sentinel: after a failover', () => {
  let deployment: SentinelDeployment
  let cache: Cache

  beforeAll(async () => {
    deployment = await startSentinels({ replicas: 1 })
    cache = createCache({
      client: 'sentinel',
      location: deployment.location,
      sentinels: deployment.addresses,
      keyPrefix: uniquePrefix('sof'),
    })
  })

  afterAll(async () => {
    await cache?.close()
    await deployment?.stop()
  })

  it('the first incr on the new primary is not overtaken by the get after it', async () => {
    await cache.set('n', 1)
    expect(await cache.incr('n')).toBe(2) // the script has run: EVALSHA from now on
    await cache.connection.command(['WAIT', '1', '5000'])
    const old = await deployment.currentPrimary()
    await old.kill()
    await deployment.waitForFailover(old, 60_000)
    await eventually(async () => (await cache.set('n', 2).catch(() => false)) === true)
    expect(await incrThenGet(cache, 'n')).toEqual([3, 3])
  })
})

describe('Cluster: a node that never ran the scripts takes a slot over', () => {
  let cluster: TestCluster
  const opened: Cache[] = []

  beforeAll(async () => {
    cluster = await startCluster({ primaries: 3, replicasPerPrimary: 1 })
  })

  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close()))
    await cluster?.stop()
  })

  function fresh(): Cache {
    const cache = createCache({
      client: 'cluster',
      location: [...cluster.seeds],
      keyPrefix: uniquePrefix('cof'),
    })
    opened.push(cache)
    return cache
  }

  it('a slot moved to a new node: the first incr there is not overtaken', async () => {
    const cache = fresh()
    await cache.set('m', 1)
    expect(await cache.incr('m')).toBe(2)
    await cluster.moveSlot(keySlot(cache.makeKey('m')), await cluster.addNode())
    // The cache's map is stale: both go to the old node, meet MOVED and follow it.
    expect(await incrThenGet(cache, 'm')).toEqual([3, 3])
  })

  it("a primary's replica takes over: the first incr there is not overtaken", async () => {
    const cache = fresh()
    await cache.set('f', 1)
    expect(await cache.incr('f')).toBe(2)
    const rkey = cache.makeKey('f')
    const before = await cluster.primaryFor(rkey)
    await cache.connection.command(['WAIT', '1', '5000'], { key: rkey })
    await cluster.kill(before)
    await eventually(async () =>
      cluster.primaryFor(rkey).then(
        (node) => node.port !== before.port,
        () => false,
      ),
    )
    await eventually(async () => (await cache.get('f').catch(() => null)) === 2)
    expect(await incrThenGet(cache, 'f')).toEqual([3, 3])
  })
})
