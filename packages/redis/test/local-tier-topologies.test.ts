// The local tier on a primary with replicas and on Sentinel: a tracking connection on every data
// node that may serve a read; a write by a raw client on the primary drops the local copy, and a
// lost tracking connection or a failover never lets a stale value be read.
import type { Cache } from '@cachex/redis'
import {
  type ClusterNode,
  commandCalls,
  type RedisServer,
  startCluster,
  startReplicaSet,
  startSentinels,
} from '@cachex/test-utils'
import { createCluster } from '@redis/client'
import { describe, expect, it } from 'vitest'
import { eventually, openers, type Raw } from './local-tier-helpers.ts'

const { closers, raw, localCache } = openers('localtopo')

async function tracked(cache: Cache): Promise<void> {
  await cache.get('warm-up')
  await eventually(() => cache.localStats()?.tracking === true)
}

/** Reads `key` until a read is served by the tier; the value. */
async function held(cache: Cache, key: string): Promise<unknown> {
  let value: unknown
  await eventually(async () => {
    const before = cache.localStats()?.hits ?? 0
    value = await cache.get(key)
    return cache.localStats()?.hits === before + 1
  })
  return value
}

/** Kills every RESP3 connection of `node` (the tracking connections). */
async function killTracking(node: Raw): Promise<number> {
  const list = String(await node.sendCommand(['CLIENT', 'LIST']))
  const ids = list
    .split('\n')
    .filter((line) => /flags=\S*t/.test(line) || / resp=3 /.test(line))
    .map((line) => /id=(\d+)/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined)
  for (const id of ids) await node.sendCommand(['CLIENT', 'KILL', 'ID', id])
  return ids.length
}

describe('local tier on a primary with replicas', () => {
  it('tracks every node: a raw write on the primary drops the copy; a lost tracking connection never serves stale', async () => {
    const set = await startReplicaSet({ replicas: 2 })
    closers.push(() => set.stop())
    const primary = await raw(set.primary.url)
    const replicas = await Promise.all(set.replicas.map((r) => raw(r.url)))
    const cache = localCache({ location: [...set.urls] })
    await tracked(cache)
    const rkey = cache.makeKey('k')

    await primary.sendCommand(['SET', rkey, '"one"'])
    await eventually(async () => (await cache.get('k')) === 'one')
    expect(await held(cache, 'k')).toBe('one')
    await primary.sendCommand(['SET', rkey, '"two"'])
    await eventually(async () => (await cache.get('k')) === 'two')
    expect(await held(cache, 'k')).toBe('two')

    // Expiry on the primary reaches the replicas as a DEL: the copy goes too.
    await primary.sendCommand(['PEXPIRE', rkey, '300'])
    await eventually(async () => (await cache.get('k')) === null)

    // A tracking connection lost on one replica: the tier is emptied and bypassed, then back.
    await primary.sendCommand(['SET', rkey, '"three"', 'EX', '300'])
    expect(await held(cache, 'k')).toBe('three')
    expect(await killTracking(replicas[0] as Raw)).toBeGreaterThan(0)
    await primary.sendCommand(['SET', rkey, '"four"', 'EX', '300'])
    await eventually(async () => (await cache.get('k')) === 'four')
    await eventually(() => cache.localStats()?.tracking === true)
    expect(await held(cache, 'k')).toBe('four')
    await primary.sendCommand(['SET', rkey, '"five"', 'EX', '300'])
    await eventually(async () => (await cache.get('k')) === 'five')
  }, 180_000)
})

describe('local tier on a primary with replicas: a pipeline that writes many keys', () => {
  it('reads each key it wrote on the primary next, as a write of that key alone would', async () => {
    // A replica applies a write after its primary: reading a key this process just wrote from a
    // replica could return the value before the write. Every key of an MSET or UNLINK counts.
    const set = await startReplicaSet({ replicas: 2 })
    closers.push(() => set.stop())
    const primary = await raw(set.primary.url)
    const cache = localCache({ location: [...set.urls] })
    await tracked(cache)
    const keys = ['p1', 'p2', 'p3']
    /** How many of reading `keys` ran on the primary. */
    const onPrimary = async () => {
      const before = await commandCalls(primary, 'get')
      for (const key of keys) await cache.get(key)
      return (await commandCalls(primary, 'get')) - before
    }
    for (const start of [() => cache.pipeline(), () => cache.transaction()]) {
      await start()
        .setMany(Object.fromEntries(keys.map((k) => [k, 2])), null)
        .exec()
      expect(await onPrimary()).toBe(keys.length)
      await start()
        .setMany(Object.fromEntries(keys.map((k) => [k, 4])), 0)
        .exec()
      expect(await onPrimary()).toBe(keys.length)
      await start().deleteMany(keys).exec()
      expect(await onPrimary()).toBe(keys.length)
    }
  })
})

describe('local tier on a primary with replicas: reading its own writes while replication lags', () => {
  it('after deletePattern, clearAllVersions, clear, delete and expire, get, hasKey and ttl read the primary', async () => {
    const set = await startReplicaSet({ replicas: 2 })
    closers.push(() => set.stop())
    const primary = await raw(set.primary.url)
    const replicas = await Promise.all(set.replicas.map((r) => raw(r.url)))
    /** `write` by a new cache while the replicas apply nothing, then `read` 4 times. */
    const lagging = async (
      write: (cache: Cache) => Promise<unknown>,
      read: (cache: Cache) => Promise<unknown>,
    ): Promise<unknown[]> => {
      const cache = localCache({ location: [...set.urls] })
      await tracked(cache)
      // Reads go to the replicas once the cache found them in sync: 5 reads in a row there.
      let onReplicas = 0
      await eventually(async () => {
        const info = await cache.connection.command(['INFO', 'replication'], { readonly: true })
        onReplicas = /role:slave/.test(String(info)) ? onReplicas + 1 : 0
        return onReplicas >= 5
      })
      const rkey = cache.makeKey('k')
      // Written long ago (not by this process), on every node.
      await primary.sendCommand(['SET', rkey, '"old"'])
      await eventually(async () => {
        for (const replica of replicas) {
          if ((await replica.sendCommand(['GET', rkey])) !== '"old"') return false
        }
        return true
      })
      // A replica paused for writes applies none of its primary's, and still serves reads.
      for (const replica of replicas)
        await replica.sendCommand(['CLIENT', 'PAUSE', '5000', 'WRITE'])
      try {
        await write(cache)
        const seen: unknown[] = []
        for (let i = 0; i < 4; i++) seen.push(await read(cache))
        return seen
      } finally {
        for (const replica of replicas) await replica.sendCommand(['CLIENT', 'UNPAUSE'])
      }
    }
    const get = (cache: Cache) => cache.get('k')
    const none = [null, null, null, null]
    expect(await lagging((cache) => cache.delete('k'), get)).toEqual(none)
    expect(await lagging((cache) => cache.deletePattern('k*'), get)).toEqual(none)
    expect(await lagging((cache) => cache.clearAllVersions(), get)).toEqual(none)
    expect(await lagging((cache) => cache.clear(), get)).toEqual(none)
    expect(
      await lagging(
        (cache) => cache.delete('k'),
        (cache) => cache.hasKey('k'),
      ),
    ).toEqual([false, false, false, false])
    const ttls = await lagging(
      (cache) => cache.expire('k', 100),
      (cache) => cache.ttl('k'),
    )
    for (const ttl of ttls) expect(ttl).toBeGreaterThan(90)
    // getOrSet with grace or earlyRecompute reads the value with its expiry: on the primary too
    for (const stampede of [{ grace: 60 }, { earlyRecompute: 1 }]) {
      const read = await lagging(
        (cache) => cache.set('k', 'new', 300),
        (cache) => cache.getOrSet('k', () => 'computed', { timeout: 300, ...stampede }),
      )
      expect(read).toEqual(['new', 'new', 'new', 'new'])
    }
    // and a pipeline of reads only
    const piped = await lagging(
      (cache) => cache.set('k', 'new', 300),
      async (cache) => (await cache.pipeline().get('k').exec())[0],
    )
    expect(piped).toEqual(['new', 'new', 'new', 'new'])
    // and a pipelined getMany whose written key is not the one it routes by (its first)
    const many = await lagging(
      (cache) => cache.set('k', 'new', 300),
      async (cache) => {
        const [found] = await cache.pipeline().getMany(['other', 'k']).exec()
        return (found as Map<string, unknown>).get('k')
      },
    )
    expect(many).toEqual(['new', 'new', 'new', 'new'])
  })
})

describe('local tier on Sentinel', () => {
  it('drops the copy on a raw write, and across a failover serves no stale value, then comes back', async () => {
    const d = await startSentinels({ replicas: 1 })
    closers.push(() => d.stop())
    const cache = localCache({
      client: 'sentinel',
      location: d.location,
      sentinels: d.addresses,
    })
    await tracked(cache)
    const rkey = cache.makeKey('k')
    let primary = await raw(d.primary.url)

    await primary.sendCommand(['SET', rkey, '"one"', 'EX', '300'])
    await eventually(async () => (await cache.get('k')) === 'one')
    expect(await held(cache, 'k')).toBe('one')
    await primary.sendCommand(['SET', rkey, '"two"', 'EX', '300'])
    await eventually(async () => (await cache.get('k')) === 'two')
    expect(await held(cache, 'k')).toBe('two')

    // Failover: the old primary dies, the replica is promoted; a write on the new primary.
    const old: RedisServer = d.primary
    await old.kill()
    const promoted = await d.waitForFailover(old, 120_000)
    primary = await raw(promoted.url)
    await primary.sendCommand(['SET', rkey, '"three"', 'EX', '300'])
    // Never the old value once the new primary has the new one.
    await eventually(async () => (await cache.get('k')) === 'three')
    expect(await cache.get('k')).toBe('three')

    // The old primary back (as a replica): every node tracked again, the tier serves.
    await old.start()
    await eventually(() => cache.localStats()?.tracking === true, 120_000)
    expect(await held(cache, 'k')).toBe('three')
    await primary.sendCommand(['SET', rkey, '"four"', 'EX', '300'])
    await eventually(async () => (await cache.get('k')) === 'four')
    expect(await cache.get('k')).toBe('four')
  }, 300_000)
})

describe('local tier on a cluster', () => {
  it('tracks every primary: a raw write drops the copy, on whichever node the key lives', async () => {
    const c = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
    closers.push(() => c.stop())
    const other = createCluster({ rootNodes: c.seeds.map((url) => ({ url })) })
    other.on('error', () => undefined)
    await other.connect()
    closers.push(() => other.close())
    const cache = localCache({ client: 'cluster', location: [...c.seeds] })
    await tracked(cache)
    // Keys spread over the slots of every primary.
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f']) {
      const rkey = cache.makeKey(name)
      await other.set(rkey, '"one"')
      await eventually(async () => (await cache.get(name)) === 'one')
      expect(await held(cache, name)).toBe('one')
      await other.set(rkey, '"two"')
      await eventually(async () => (await cache.get(name)) === 'two')
      expect(await held(cache, name)).toBe('two')
    }
  }, 180_000)
})

describe('local tier on a cluster that changes', () => {
  it('serves no stale value when a tracking connection is killed, a slot moves or a primary fails over', async () => {
    const c = await startCluster({ primaries: 3, replicasPerPrimary: 1 })
    closers.push(() => c.stop())
    const other = createCluster({ rootNodes: c.seeds.map((url) => ({ url })) })
    other.on('error', () => undefined)
    await other.connect()
    closers.push(() => other.close())
    const cache = localCache({ client: 'cluster', location: [...c.seeds] })
    await tracked(cache)
    const rkey = cache.makeKey('k')
    const write = async (value: string) => {
      await other.set(rkey, JSON.stringify(value))
      await eventually(async () => (await cache.get('k')) === value)
      expect(await held(cache, 'k')).toBe(value)
    }
    await write('one')

    // The tracking connection of the key's node killed, then a write behind its back.
    const owner = await c.primaryFor(rkey)
    const node = await raw(owner.url)
    expect(await killTracking(node)).toBeGreaterThan(0)
    await other.set(rkey, '"two"')
    await eventually(async () => (await cache.get('k')) === 'two')
    await eventually(() => cache.localStats()?.tracking === true)
    await write('three')

    // Resharding: the key's slot moves to another primary; writes go there now.
    const slot = Number(await node.sendCommand(['CLUSTER', 'KEYSLOT', rkey]))
    const target = (await c.primaries()).find((p) => p.port !== owner.port) as ClusterNode
    await c.moveSlot(slot, target)
    await write('four')
    await write('five')

    // Failover: the key's primary dies, its replica is promoted.
    const before = await c.primaryFor(rkey)
    await c.kill(before)
    await eventually(
      async () => (await c.primaryFor(rkey).catch(() => before)).port !== before.port,
      120_000,
    )
    await eventually(async () => {
      try {
        await other.set(rkey, '"six"')
        return true
      } catch {
        return false
      }
    }, 120_000)
    await eventually(async () => (await cache.get('k').catch(() => null)) === 'six', 120_000)
    await eventually(() => cache.localStats()?.tracking === true, 120_000)
    await write('seven')
  }, 300_000)
})
