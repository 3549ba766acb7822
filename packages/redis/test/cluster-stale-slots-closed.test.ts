// A CLUSTER SLOTS reply of a stale view (one primary's slots named as another's) makes node-redis
// rediscover and close the client of the node it drops: the next walk must not reject with
// ClosedError ("the connection is closed") while the cache is open.
import { ClosedError } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type ClusterEnv, cmd, resp, setupCluster } from './_cluster-proxies.ts'

let env: ClusterEnv
const caches: Array<ReturnType<ClusterEnv['newCache']>> = []
beforeAll(async () => {
  env = await setupCluster(0)
}, 90_000)
afterAll(async () => {
  if (env !== undefined) env.tamper = undefined
  for (const cache of caches) await cache.close().catch(() => undefined)
  await env?.stop()
})

/** CLUSTER SLOTS with the ranges of one primary named as another's. */
async function staleSlots(): Promise<unknown[]> {
  const client = createClient({ socket: { host: '127.0.0.1', port: env.cluster.nodes[0]?.port } })
  client.on('error', () => {})
  await client.connect()
  const raw = (await client.sendCommand(['CLUSTER', 'SLOTS'])) as unknown[][]
  await client.close()
  const slots = raw.map((entry) => {
    const master = entry[2] as unknown[]
    return [
      Number(entry[0]),
      Number(entry[1]),
      [String(master[0]), Number(master[1]), String(master[2])],
    ] as const
  })
  const victim = slots[0]?.[2][1]
  const other = slots.find((entry) => entry[2][1] !== victim)?.[2]
  return slots.map((entry) => (entry[2][1] === victim ? [entry[0], entry[1], other] : entry))
}

async function settle<T>(p: Promise<T>): Promise<{ value?: T; error?: Error }> {
  try {
    return { value: await p }
  } catch (error) {
    return { error: error as Error }
  }
}

it('the walk right after a stale CLUSTER SLOTS does not fail with ClosedError on an open cache', async () => {
  const cache = env.newCache({
    keyPrefix: uniquePrefix('stale-closed'),
    socketTimeout: 5,
    socketConnectTimeout: 5,
  })
  caches.push(cache)
  await cache.setMany({ a: 1, b: 2, c: 3 }, null)
  const stale = await staleSlots()
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
