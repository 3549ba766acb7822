// A one-node Redis Cluster (the usual dev/CI set-up: one node, `CLUSTER ADDSLOTSRANGE 0 16383`)
// that never learned its own IP names itself with an empty host in `CLUSTER SLOTS`
// (`[[0,16383,["",port,id,[]]]]`): the host of the node asked, as node-redis reads it. A fresh
// cache — its own cluster or a handed-in one — serves its first calls at once, without waiting
// for a refresh of its own.
import { type RedisServer, redisCall, startRedis, uniquePrefix } from '@cachex/test-utils'
import { createCluster } from '@redis/client'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type Cache, createCache } from '../src/index.ts'

let node: RedisServer
const caches: Cache[] = []

beforeAll(async () => {
  node = await startRedis({
    args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
  })
  await redisCall(node.url, ['CLUSTER', 'ADDSLOTSRANGE', '0', '16383'])
  for (let i = 0; i < 300; i++) {
    if (String(await redisCall(node.url, ['CLUSTER', 'INFO'])).includes('cluster_state:ok')) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const slots = (await redisCall(node.url, ['CLUSTER', 'SLOTS'])) as unknown[][]
  // The set-up this is about: the node names itself with no host.
  expect((slots[0]?.[2] as unknown[] | undefined)?.[0]).toBe('')
}, 60_000)

afterAll(async () => {
  for (const cache of caches) await cache.close().catch(() => undefined)
  await node?.stop()
})

/** What `p` gives, or `ERR <message>`. */
const outcome = (p: Promise<unknown>) =>
  p.then(String, (error: Error) => `ERR ${error.message.slice(0, 120)}`)

it('a cache of its own: the first calls succeed right after createCache', async () => {
  const cache = createCache({
    client: 'cluster',
    location: [node.url],
    keyPrefix: uniquePrefix('one'),
  })
  caches.push(cache)
  const out: string[] = []
  for (const key of ['a', 'b', 'c']) out.push(await outcome(cache.set(key, 1)))
  out.push(await outcome(cache.get('a')))
  expect(out).toEqual(['true', 'true', 'true', '1'])
}, 30_000)

it('a handed-in node-redis cluster: its first calls succeed right after createCache', async () => {
  const given = createCluster({ rootNodes: [{ url: node.url }] })
  await given.connect()
  try {
    const cache = createCache({
      client: 'cluster',
      location: given as never,
      keyPrefix: uniquePrefix('given'),
    })
    caches.push(cache)
    const out: string[] = []
    for (const key of ['a', 'b']) out.push(await outcome(cache.set(key, 2)))
    out.push(await outcome(cache.get('b')))
    expect(out).toEqual(['true', 'true', '2'])
  } finally {
    await given.close()
  }
}, 30_000)
