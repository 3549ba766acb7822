// The local tier when a replica reads went to is cut off from its primary, which still takes
// writes: the replica never applies the later writes, so its tracking connection never reports
// them. What the tier read from it must go once it leaves the read rotation (its next check) — on
// a replica set (the operator detaches it: `REPLICAOF NO ONE`) and on Sentinel (its link is down
// while it stays `role:slave`); the tier is up again at once.
import type { Cache } from '@cachex/redis'
import { type RedisServer, startReplicaSet, startSentinels } from '@cachex/test-utils'
import { describe, expect, it } from 'vitest'
import { eventually, nextCheck, openers, type Raw } from './local-tier-helpers.ts'

const { closers, raw, localCache } = openers('detached')

async function tracked(cache: Cache): Promise<void> {
  await cache.get('warm-up')
  await eventually(() => cache.localStats()?.tracking === true)
}

/**
 * Writes 'one' under `k`, lets the tier hold it as read from `replica`; `cut` detaches the
 * replica right after a rotation check, and the primary takes 'two'. Reads made before the next
 * check go to the replica (still in the rotation) and store its 'one'; once the replica left the
 * rotation, every read returns 'two'.
 */
async function detachedReadsFresh(
  cache: Cache,
  primary: Raw,
  replica: Raw,
  cut: () => Promise<unknown>,
): Promise<void> {
  await tracked(cache)
  const rkey = cache.makeKey('k')
  await primary.sendCommand(['SET', rkey, '"one"'])
  await eventually(async () => (await cache.get('k')) === 'one')
  // The replica was checked in sync since (and, tracked, serves the reads).
  await nextCheck(replica, 2)
  await nextCheck(replica, 2)
  await cut()
  await primary.sendCommand(['SET', rkey, '"two"'])
  // The primary's invalidation reaches the tier; the next read goes to the replica.
  const early: unknown[] = []
  for (let i = 0; i < 10; i++) {
    early.push(await cache.get('k'))
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  // The scenario ran: a read went to the detached replica, and the tier stored its 'one'.
  expect(early).toContain('one')
  // Two checks later the replica is out of the rotation: reads go to the primary.
  await nextCheck(replica, 2)
  await nextCheck(replica, 2)
  const late: unknown[] = []
  for (let i = 0; i < 5; i++) late.push(await cache.get('k'))
  expect(late).toEqual(['two', 'two', 'two', 'two', 'two'])
  // The tier is back at once: it holds 'two' and serves it from memory.
  expect(cache.localStats()?.tracking).toBe(true)
  const hits = cache.localStats()?.hits ?? 0
  expect(await cache.get('k')).toBe('two')
  expect(cache.localStats()?.hits).toBe(hits + 1)
}

describe('local tier, replica cut off from its primary', () => {
  it('a replica set: what was read from a detached replica is not served once it left the rotation', async () => {
    const set = await startReplicaSet({ replicas: 1 })
    closers.push(() => set.stop())
    const primary = await raw(set.primary.url)
    const replica = await raw((set.replicas[0] as RedisServer).url)
    const cache = localCache({ location: [...set.urls] })
    await detachedReadsFresh(cache, primary, replica, () =>
      replica.sendCommand(['REPLICAOF', 'NO', 'ONE']),
    )
  }, 120_000)

  it('Sentinel: what was read from a replica whose link is down is not served once it left the rotation', async () => {
    const PW = 'pw'
    const d = await startSentinels({ replicas: 1, password: PW })
    closers.push(() => d.stop())
    const primary = await raw(`redis://:${PW}@127.0.0.1:${d.primary.port}`)
    const { port } = d.replicas[0] as RedisServer
    const replica = await raw(`redis://:${PW}@127.0.0.1:${port}`)
    const cache = localCache({ client: 'sentinel', location: d.location, sentinels: d.addresses })
    // The replica loses its link and cannot get it back: it stays `role:slave`, link down.
    await detachedReadsFresh(cache, primary, replica, async () => {
      await replica.sendCommand(['CONFIG', 'SET', 'masterauth', 'wrong'])
      await replica.sendCommand(['CLIENT', 'KILL', 'TYPE', 'master'])
    })
  }, 120_000)
})
