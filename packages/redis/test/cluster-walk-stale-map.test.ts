// A stale CLUSTER SLOTS reply at the start of a walk (one primary's slots named as another's): the
// walk visited only the primaries it names, and deletePattern('*') resolved having left a third
// of the keys. Each walked primary's own line of CLUSTER NODES says which slots it serves: the
// walk checks that they cover the map, and walks the owners of the slots they do not.
import { uniquePrefix } from '@cachex/test-utils'
import { expect, it } from 'vitest'
import { cmd, resp, staleSlots } from './_cluster-proxies.ts'
import { useHoldCluster } from './_hold-proxy.ts'

const env = useHoldCluster(0)

it('deletePattern with a stale CLUSTER SLOTS deletes every key (not a silent partial delete)', async () => {
  const cache = env.newCache({ keyPrefix: uniquePrefix('st1') })
  const names = Array.from({ length: 300 }, (_, i) => `k${i}`)
  await cache.setMany(Object.fromEntries(names.map((k) => [k, 1])), null)
  const stale = await staleSlots(env.cluster)
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
  const stale = await staleSlots(env.cluster)
  env.tamper = (args) => (cmd(args) === 'CLUSTER SLOTS' ? resp(stale) : undefined)
  let listed: string[]
  try {
    listed = await cache.keys('*')
  } finally {
    env.tamper = undefined
  }
  expect(listed.sort()).toEqual([...names].sort())
}, 60_000)
