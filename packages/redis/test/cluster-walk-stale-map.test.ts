// A stale CLUSTER SLOTS reply at the start of a walk (one primary's slots named as another's): the
// walk visited only the primaries it names, and deletePattern('*') resolved having left a third
// of the keys. Each walked primary's own line of CLUSTER NODES says which slots it serves: the
// walk checks that they cover the map, and walks the owners of the slots they do not. (node-redis's
// own rediscovery, fed the same stale reply, may close a node's client under a SCAN: that walk
// fails with a ConnectionError — typed, not silently partial — and is run again.)
import { ConnectionError } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { expect, it } from 'vitest'
import { cmd, resp, staleSlots } from './_cluster-proxies.ts'
import { useHoldCluster } from './_hold-proxy.ts'

const env = useHoldCluster(0)

/** `walk()`'s result, run again (at most 5 times) while it fails with a typed ConnectionError. */
async function whole<T>(walk: () => Promise<T>): Promise<{ value: T; failed: number }> {
  for (let failed = 0; ; failed++) {
    try {
      return { value: await walk(), failed }
    } catch (error) {
      if (!(error instanceof ConnectionError) || failed >= 4) throw error
    }
  }
}

it('deletePattern with a stale CLUSTER SLOTS deletes every key (not a silent partial delete)', async () => {
  const cache = env.newCache({ keyPrefix: uniquePrefix('st1') })
  const names = Array.from({ length: 300 }, (_, i) => `k${i}`)
  await cache.setMany(Object.fromEntries(names.map((k) => [k, 1])), null)
  const stale = await staleSlots(env.cluster)
  env.tamper = (args) => (cmd(args) === 'CLUSTER SLOTS' ? resp(stale) : undefined)
  let run: { value: number; failed: number }
  try {
    run = await whole(() => cache.deletePattern('*'))
  } finally {
    env.tamper = undefined
  }
  expect((await cache.getMany(names)).size).toBe(0)
  // A walk that resolved at once deleted every key (a failed one's deletions are not counted).
  if (run.failed === 0) expect(run.value).toBe(300)
}, 60_000)

it('keys() with a stale CLUSTER SLOTS lists every key', async () => {
  const cache = env.newCache({ keyPrefix: uniquePrefix('st2') })
  const names = Array.from({ length: 90 }, (_, i) => `k${i}`)
  await cache.setMany(Object.fromEntries(names.map((k) => [k, 1])), null)
  const stale = await staleSlots(env.cluster)
  env.tamper = (args) => (cmd(args) === 'CLUSTER SLOTS' ? resp(stale) : undefined)
  let listed: string[]
  try {
    listed = (await whole(() => cache.keys('*'))).value
  } finally {
    env.tamper = undefined
  }
  expect(listed.sort()).toEqual([...names].sort())
}, 60_000)
