// The local tier when a node stays down: a replica whose tracking connection is not up serves no
// read, so the tier comes back up without it — on a replica set, on Sentinel after a failover
// whose old primary stays dead, and on a cluster reading from replicas — and never serves a
// value older than a raw write.
import type { Cache } from '@cachex/redis'
import {
  monitor,
  type RedisServer,
  startCluster,
  startReplicaSet,
  startSentinels,
} from '@cachex/test-utils'
import { createCluster } from '@redis/client'
import { describe, expect, it } from 'vitest'
import { eventually, openers, type Raw } from './local-tier-helpers.ts'

const { closers, raw, localCache } = openers('localdown')

const hits = (cache: Cache) => cache.localStats()?.hits ?? 0

/**
 * `write` stores `value` under `key` behind the cache's back; then the cache returns it within a
 * bounded wait, never the old value again, and the tier serves it (hits grow with every read).
 */
async function writeSeen(
  cache: Cache,
  key: string,
  value: string,
  write: (rkey: string, json: string) => Promise<unknown>,
): Promise<void> {
  await write(cache.makeKey(key), JSON.stringify(value))
  await eventually(async () => (await cache.get(key)) === value)
  // Once seen, never the old value again.
  for (let i = 0; i < 50; i++) expect(await cache.get(key)).toBe(value)
  // Served from the tier once it holds it: the next 20 reads are all hits.
  await eventually(() => cache.localStats()?.tracking === true)
  await eventually(async () => {
    const before = hits(cache)
    const got = await cache.get(key)
    expect(got).toBe(value)
    return hits(cache) === before + 1
  })
  const before = hits(cache)
  for (let i = 0; i < 20; i++) expect(await cache.get(key)).toBe(value)
  expect(hits(cache)).toBe(before + 20)
}

/** Kills every connection of `node` but `node`'s own and a monitor's. */
async function killClients(
  node: Raw,
  only: (line: string) => boolean = () => true,
): Promise<number> {
  let killed = 0
  const me = String(await node.sendCommand(['CLIENT', 'ID']))
  const clients = String(await node.sendCommand(['CLIENT', 'LIST', 'TYPE', 'normal']))
  for (const line of clients.split('\n')) {
    const id = /^id=(\d+) /.exec(line)?.[1]
    if (id === undefined || id === me || /flags=\S*O/.test(line) || !only(line)) continue
    await node.sendCommand(['CLIENT', 'KILL', 'ID', id]).then(
      () => killed++,
      () => undefined,
    )
  }
  return killed
}

const isTrackingOn = (command: string[]) =>
  command[0]?.toUpperCase() === 'CLIENT' &&
  command[1]?.toUpperCase() === 'TRACKING' &&
  command[2]?.toUpperCase() === 'ON'

describe('local tier with a replica that stays down', () => {
  it('comes back up without it, invalidates, and lets it back only once it is tracked', async () => {
    const set = await startReplicaSet({ replicas: 2 })
    closers.push(() => set.stop())
    const primary = await raw(set.primary.url)
    // Reads go to both replicas: the write is acknowledged by both (or, with one down, after a
    // bounded wait) before "once seen, never the old value again" is asked of them. Without
    // it, one replica can still lag the other by a write (seen in CI: null after 'one').
    const set1 = async (rkey: string, json: string) => {
      await primary.sendCommand(['SET', rkey, json])
      await primary.sendCommand(['WAIT', '2', '2000'])
    }
    const cache = localCache({ location: [...set.urls] })
    await writeSeen(cache, 'k', 'one', set1)

    // One replica dies for good: after a bounded wait the tier is up again and serves.
    const dead = set.replicas[0] as RedisServer
    await dead.kill()
    await writeSeen(cache, 'k', 'two', set1)
    await writeSeen(cache, 'k', 'three', set1)
    // Misses still read (from the live replica or the primary) while it is down.
    expect(await cache.get('missing')).toBeNull()

    // It comes back (empty, then resyncs). Every connection to it is dropped once a monitor
    // watches, so that its first read is seen: it comes only after its tracking is on.
    await dead.start()
    const watch = await monitor(dead.port)
    closers.push(async () => watch.stop())
    const back = await raw(dead.url)
    await killClients(back)
    // A read of a key (GET, or the PTTL the tier asks with it).
    const isRead = (command: string[]) => command[1]?.includes(':miss-') === true
    let n = 0
    await eventually(async () => {
      expect(await cache.get(`miss-${n++}`)).toBeNull()
      return watch.commands.some(isRead)
    })
    const firstRead = watch.commands.findIndex(isRead)
    const trackingOn = watch.commands.findIndex(isTrackingOn)
    expect(trackingOn).toBeGreaterThanOrEqual(0)
    expect(trackingOn).toBeLessThan(firstRead)
    await writeSeen(cache, 'k', 'four', set1)
  }, 180_000)
})

describe('local tier on Sentinel whose old primary stays down', () => {
  it('comes back up after the failover, serves hits, and invalidates', async () => {
    const d = await startSentinels({ replicas: 1 })
    closers.push(() => d.stop())
    const cache = localCache({ client: 'sentinel', location: d.location, sentinels: d.addresses })
    let primary = await raw(d.primary.url)
    const write = (rkey: string, json: string) =>
      primary.sendCommand(['SET', rkey, json, 'EX', '300'])
    await writeSeen(cache, 'k', 'one', write)

    // Reads never fail: one every 10 ms from the kill until the cache writes to the new primary.
    // A read that finds no replica waits for one or for the new primary (a replica checked just
    // as its primary died is out until it is promoted; the sentinels drop the promoted one's
    // clients, its tracking with them, before they announce it).
    const failures: unknown[] = []
    let reads = 0
    let reading = true
    const reader = (async () => {
      while (reading) {
        await cache.get('k').then(
          () => reads++,
          (error: unknown) => failures.push(error),
        )
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    })()
    const old: RedisServer = d.primary
    await old.kill()
    const promoted = await d.waitForFailover(old, 120_000)
    primary = await raw(promoted.url)
    // The old primary never comes back: the tier is up again, serves, and invalidates.
    await eventually(async () => {
      try {
        await write(cache.makeKey('k'), JSON.stringify('two'))
        return true
      } catch {
        return false
      }
    }, 120_000)
    await eventually(
      () =>
        cache.set('probe', 1).then(
          () => true,
          () => false,
        ),
      120_000,
    )
    reading = false
    await reader
    expect(failures).toEqual([])
    expect(reads).toBeGreaterThan(0)
    await writeSeen(cache, 'k', 'two', write)
    await writeSeen(cache, 'k', 'three', write)
  }, 300_000)
})

describe('local tier on a cluster reading from replicas whose replica stays down', () => {
  it('comes back up without it, serves hits, and invalidates', async () => {
    const c = await startCluster({ primaries: 3, replicasPerPrimary: 1 })
    closers.push(() => c.stop())
    const other = createCluster({ rootNodes: c.seeds.map((url) => ({ url })) })
    other.on('error', () => undefined)
    await other.connect()
    closers.push(() => other.close())
    const cache = localCache({
      client: 'cluster',
      location: [...c.seeds],
      readFromReplicas: true,
    })
    const write = (rkey: string, json: string) => other.set(rkey, json)
    await writeSeen(cache, 'k', 'one', write)

    // The replica of the key's shard dies for good.
    const owner = await c.primaryFor(cache.makeKey('k'))
    const replica = await c.replicaOf(owner)
    expect(replica).toBeDefined()
    await c.kill(replica as NonNullable<typeof replica>)
    await writeSeen(cache, 'k', 'two', write)
    await writeSeen(cache, 'k', 'three', write)
  }, 300_000)
})

describe('local tier on a cluster reading from a replica that cannot be tracked', () => {
  it('reads nothing from it while its tracking is down, keeps the tier up, and lets it back once tracked', async () => {
    const c = await startCluster({ primaries: 3, replicasPerPrimary: 1 })
    closers.push(() => c.stop())
    const other = createCluster({ rootNodes: c.seeds.map((url) => ({ url })) })
    other.on('error', () => undefined)
    await other.connect()
    closers.push(() => other.close())
    const cache = localCache({ client: 'cluster', location: [...c.seeds], readFromReplicas: true })
    const write = (rkey: string, json: string) => other.set(rkey, json)
    await writeSeen(cache, 'k', 'one', write)

    // The replica of the key's shard refuses CLIENT TRACKING: its tracking connection cannot
    // come back, while the node itself stays alive and in sync.
    const owner = await c.primaryFor(cache.makeKey('k'))
    const node = (await c.replicaOf(owner)) as NonNullable<Awaited<ReturnType<typeof c.replicaOf>>>
    expect(node).toBeDefined()
    const replica = await raw(node.url)
    // Once the cache tracks it (a replica joins cachex's slot map once it has synced).
    const trackingLine = (line: string) => / resp=3\b/.test(line) && /flags=\S*t/.test(line)
    await eventually(async () =>
      String(await replica.sendCommand(['CLIENT', 'LIST']))
        .split('\n')
        .some(trackingLine),
    )
    await replica.sendCommand(['ACL', 'SETUSER', 'default', '-client|tracking'])
    const watch = await monitor(node.port)
    closers.push(async () => watch.stop())
    // Its tracking connection may be replaced between the list above and the kill (the new one
    // then fails CLIENT TRACKING): what must hold is that none is left tracking.
    await eventually(async () => {
      await killClients(replica, trackingLine)
      return !String(await replica.sendCommand(['CLIENT', 'LIST']))
        .split('\n')
        .some(trackingLine)
    })
    await writeSeen(cache, 'k', 'two', write)
    // Misses on the key's shard: none is read from that replica.
    const sameShard: string[] = []
    for (let i = 0; sameShard.length < 30 && i < 1000; i++) {
      const primary = await c.primaryFor(cache.makeKey(`miss-${i}`))
      if (primary.port === owner.port) sameShard.push(`miss-${i}`)
    }
    expect(sameShard.length).toBe(30)
    const mark = watch.commands.length
    for (const key of sameShard) expect(await cache.get(key)).toBeNull()
    // A read of a key (GET, or the PTTL the tier asks with it).
    const isRead = (command: string[]) => command[1]?.includes(':miss-') === true
    expect(watch.commands.slice(mark).filter(isRead)).toEqual([])
    await writeSeen(cache, 'k', 'three', write)

    // Tracking allowed again: its tracking connection comes back on its next connection, and
    // only then does it serve reads.
    await replica.sendCommand(['ACL', 'SETUSER', 'default', '+client|tracking'])
    const from = watch.commands.length
    await killClients(replica, (line) => / resp=3\b/.test(line))
    // Fresh keys (a key read once may be held by the tier): a third of them on its shard.
    const isReadAgain = (command: string[]) => command[1]?.includes(':again-') === true
    let n = 0
    await eventually(async () => {
      expect(await cache.get(`again-${n++}`)).toBeNull()
      return watch.commands.slice(from).some(isReadAgain)
    })
    const seen = watch.commands.slice(from)
    const trackingOn = seen.findIndex(isTrackingOn)
    expect(trackingOn).toBeGreaterThanOrEqual(0)
    expect(trackingOn).toBeLessThan(seen.findIndex(isReadAgain))
    await writeSeen(cache, 'k', 'four', write)
  }, 300_000)
})
