// A stale CLUSTER SLOTS reply at the start of a walk (one primary's slots named as another's): the
// walk visited only the primaries it names, and deletePattern('*') resolved having left a third
// of the keys. Each walked primary's own line of CLUSTER NODES says which slots it serves: the
// walk checks that they cover the map, and walks the owners of the slots they do not.
import { uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { cmd, resp } from './_cluster-proxies.ts'
import { type HoldEnv, setupHoldCluster } from './_hold-proxy.ts'

let env: HoldEnv
beforeAll(async () => {
  env = await setupHoldCluster(0)
}, 90_000)
afterAll(async () => {
  if (env !== undefined) env.tamper = undefined
  await env?.stop()
})

/** The cluster's CLUSTER SLOTS reply, with the ranges of one primary given to another. */
async function staleSlots(): Promise<unknown[]> {
  const client = createClient({ socket: { host: '127.0.0.1', port: env.cluster.nodes[0]?.port } })
  client.on('error', () => undefined)
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

it('deletePattern with a stale CLUSTER SLOTS deletes every key (not a silent partial delete)', async () => {
  const cache = env.newCache({ keyPrefix: uniquePrefix('st1') })
  const names = Array.from({ length: 300 }, (_, i) => `k${i}`)
  await cache.setMany(Object.fromEntries(names.map((k) => [k, 1])), null)
  const stale = await staleSlots()
  env.tamper = (args) => (cmd(args) === 'CLUSTER SLOTS' ? resp(stale) : undefined)
  let deleted: number
  try {
    deleted = await cache.deletePattern('*')
  } finally {
    env.tamper = undefined
  }
  expect({ deleted, left: (await cache.getMany(names)).size }).toEqual({ deleted: 300, left: 0 })
}, 60_000)

it('keys() with a stale CLUSTER SLOTS lists every key', async () => {
  const cache = env.newCache({ keyPrefix: uniquePrefix('st2') })
  const names = Array.from({ length: 90 }, (_, i) => `k${i}`)
  await cache.setMany(Object.fromEntries(names.map((k) => [k, 1])), null)
  const stale = await staleSlots()
  env.tamper = (args) => (cmd(args) === 'CLUSTER SLOTS' ? resp(stale) : undefined)
  let listed: string[]
  try {
    listed = await cache.keys('*')
  } finally {
    env.tamper = undefined
  }
  expect(listed.sort()).toEqual([...names].sort())
}, 60_000)
