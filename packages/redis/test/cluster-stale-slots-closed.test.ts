// A CLUSTER SLOTS reply of a stale view (one primary's slots named as another's) makes node-redis
// rediscover and close the client of the node it drops: the next walk must not reject with
// ClosedError ("the connection is closed") while the cache is open.
import { ClosedError } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { expect, it } from 'vitest'
import { cmd, resp, settle, staleSlots, useCluster } from './_cluster-proxies.ts'

const env = useCluster(0)

it('the walk right after a stale CLUSTER SLOTS does not fail with ClosedError on an open cache', async () => {
  const cache = env.newCache({
    keyPrefix: uniquePrefix('stale-closed'),
    socketTimeout: 5,
    socketConnectTimeout: 5,
  })
  await cache.setMany({ a: 1, b: 2, c: 3 }, null)
  const stale = await staleSlots(env.cluster)
  env.tamper = (args) => (cmd(args) === 'CLUSTER SLOTS' ? resp(stale) : undefined)
  await settle(cache.keys('*'))
  env.tamper = undefined
  const next = await settle(cache.keys('*'))
  expect(next.error).not.toBeInstanceOf(ClosedError)
  // Once the map is right again, every key is found.
  let keys: string[] = []
  for (let i = 0; i < 20 && keys.length !== 3; i++) {
    const walked = await settle(cache.keys('*'))
    expect(walked.error).not.toBeInstanceOf(ClosedError)
    keys = (walked.value ?? []).sort()
    if (keys.length !== 3) await new Promise((resolve) => setTimeout(resolve, 200))
  }
  expect(keys).toEqual(['a', 'b', 'c'])
}, 60_000)
