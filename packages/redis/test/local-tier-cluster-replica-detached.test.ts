// The local tier on a cluster reading from replicas, when a replica reads went to is cut off from
// its primary, which still takes writes: the replica never applies the later writes, so its
// tracking connection never reports them. What the tier read from it must go once it leaves its
// shard's read rotation (its next check, `master_link_status:down`); the tier is up again at once.
// (A cluster node cannot be detached with `REPLICAOF NO ONE`: its link is cut instead.)
import { commandCalls, startCluster } from '@cachex/test-utils'
import { describe, expect, it } from 'vitest'
import { eventually, nextCheck, openers } from './local-tier-helpers.ts'

const { closers, raw, localCache } = openers('cluster-detached')

/** The keys of the test: one hash tag, so one slot, one shard. */
const KEYS = Array.from({ length: 12 }, (_, i) => `{d}k${i}`)

describe('local tier, cluster replica cut off from its primary', () => {
  it('what was read from a replica whose link is down is not served once it left the rotation', async () => {
    const c = await startCluster({ primaries: 3, replicasPerPrimary: 1 })
    closers.push(() => c.stop())
    const cache = localCache({ client: 'cluster', location: [...c.seeds], readFromReplicas: true })
    const rkeys = KEYS.map((key) => cache.makeKey(key))
    const owner = await c.primaryFor(rkeys[0] as string)
    const node = await c.replicaOf(owner)
    expect(node).toBeDefined()
    const primary = await raw(owner.url)
    const replica = await raw((node as NonNullable<typeof node>).url)

    await cache.get('warm-up')
    await eventually(() => cache.localStats()?.tracking === true)
    for (const rkey of rkeys) await primary.sendCommand(['SET', rkey, '"one"'])
    await primary.sendCommand(['WAIT', '1', '5000'])
    // The replica serves reads (it joined cachex's slot map and is tracked): fresh keys of its
    // shard are read on it, one in two.
    const gets = await commandCalls(replica, 'get')
    let n = 0
    await eventually(async () => {
      expect(await cache.get(`{d}probe-${n++}`)).toBeNull()
      return (await commandCalls(replica, 'get')) > gets
    })
    // Right after a check, the replica loses its link and cannot get it back (its primary has no
    // password, so AUTH fails): it stays `role:slave`, `master_link_status:down`. The primary
    // takes 'two' for every key; its tracking reports it, the replica's never will.
    await nextCheck(replica, 1)
    await nextCheck(replica, 1)
    await replica.sendCommand(['CONFIG', 'SET', 'masterauth', 'wrong'])
    await replica.sendCommand(['CLIENT', 'KILL', 'TYPE', 'master'])
    for (const rkey of rkeys) await primary.sendCommand(['SET', rkey, '"two"'])
    // Until the next check the replica is in the rotation: reads alternate between the two
    // nodes, and those on the replica store its 'one'.
    const early: unknown[] = []
    for (const key of KEYS) early.push(await cache.get(key))
    // The scenario ran: a read went to the cut-off replica, and the tier stored its 'one'.
    expect(early).toContain('one')
    const link = String(await replica.sendCommand(['INFO', 'replication']))
    expect(link).toMatch(/master_link_status:down/)

    // Two checks later the replica is out of the rotation: every read says 'two'.
    await nextCheck(replica, 1)
    await nextCheck(replica, 1)
    const late: unknown[] = []
    for (const key of KEYS) late.push(await cache.get(key))
    expect(late).toEqual(KEYS.map(() => 'two'))
    // The tier is back at once: it holds 'two' and serves it from memory.
    expect(cache.localStats()?.tracking).toBe(true)
    const hits = cache.localStats()?.hits ?? 0
    expect(await cache.get(KEYS[0] as string)).toBe('two')
    expect(cache.localStats()?.hits).toBe(hits + 1)
  }, 300_000)
})
