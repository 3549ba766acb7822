// A listed read replica re-pointed (`REPLICAOF`) at a different primary, holding another data set,
// stays `role:slave` with `master_link_status:up`: it must leave the read rotation all the same
// (its `master_replid` is not the configured primary's), with or without the local tier, so that
// no read returns the other data set and the cache's own writes stay visible to its reads. A
// `FAILOVER` among the configured servers changes no data set: the replica chained behind the
// demoted primary keeps serving reads.
import { type Cache, createCache } from '@cachex/redis'
import {
  commandCalls,
  delay,
  type RedisServer,
  startRedis,
  startReplicaSet,
} from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, describe, expect, it } from 'vitest'

const newClient = (url: string) => createClient({ url })
type Raw = ReturnType<typeof newClient>

const closers: Array<() => Promise<unknown>> = []
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined)
})

async function raw(server: RedisServer): Promise<Raw> {
  const client = newClient(server.url)
  client.on('error', () => {})
  await client.connect()
  closers.push(async () => client.destroy())
  return client
}

async function field(client: Raw, name: string): Promise<string> {
  const text = String(await client.sendCommand(['INFO', 'replication']))
  return new RegExp(`^${name}:(.*)$`, 'm').exec(text)?.[1]?.trim() ?? ''
}

async function until(what: string, fn: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await delay(50)
  }
}

/** A primary with one replica, a cache on both, and another server holding "theirs" under `k`. */
async function setup(local: boolean) {
  const set = await startReplicaSet({ replicas: 1 })
  closers.push(() => set.stop())
  const other = await startRedis()
  closers.push(() => other.stop())
  const cache: Cache = createCache({
    location: [...set.urls],
    ...(local ? { local: { maxEntries: 1000 } } : {}),
  } as Parameters<typeof createCache>[0])
  closers.push(() => cache.close())
  const [primary, replica, elsewhere] = await Promise.all(
    [set.primary, set.replicas[0] as RedisServer, other].map(raw),
  )
  return {
    set,
    other,
    cache,
    primary: primary as Raw,
    replica: replica as Raw,
    elsewhere: elsewhere as Raw,
  }
}

describe('a listed replica re-pointed at another primary', () => {
  for (const local of [false, true]) {
    it(`serves no read${local ? ' (local tier on)' : ''}: reads see the configured primary's data set`, async () => {
      const { other, cache, primary, replica, elsewhere } = await setup(local)
      if (local) {
        await cache.get('warm')
        await until('tracking', async () => cache.localStats()?.tracking === true)
      }
      await cache.set('k', 'ours')
      await primary.sendCommand(['WAIT', '1', '2000'])
      await elsewhere.sendCommand(['SET', cache.makeKey('k'), '"theirs"'])

      await replica.sendCommand(['REPLICAOF', '127.0.0.1', String(other.port)])
      await until(
        're-pointed replica in sync',
        async () =>
          (await field(replica, 'master_port')) === String(other.port) &&
          (await field(replica, 'master_link_status')) === 'up',
      )
      await delay(3000) // a few rotation checks (one a second)

      const seen: unknown[] = []
      for (let i = 0; i < 20; i++) seen.push(await cache.get('k'))
      expect(seen.every((v) => v === 'ours')).toBe(true)
      // The cache's own writes stay visible to its reads.
      await cache.set('fresh', 1)
      await delay(2500) // past the read-your-writes window
      const fresh: unknown[] = []
      for (let i = 0; i < 10; i++) fresh.push(await cache.get('fresh'))
      expect(fresh.every((v) => v === 1)).toBe(true)
    }, 60_000)
  }
})

describe('a FAILOVER among the configured servers', () => {
  it('changes no data set: the replica chained behind the demoted primary keeps serving reads', async () => {
    const set = await startReplicaSet({ replicas: 2 })
    closers.push(() => set.stop())
    const cache = createCache({ location: [...set.urls] })
    closers.push(() => cache.close())
    const [primary, promoted, chained] = await Promise.all([set.primary, ...set.replicas].map(raw))
    await cache.set('k', 'v')
    await primary?.sendCommand(['WAIT', '2', '2000'])
    const target = set.replicas[0] as RedisServer
    await primary?.sendCommand(['FAILOVER', 'TO', '127.0.0.1', String(target.port)])
    await until(
      'failover',
      async () =>
        (await field(promoted as Raw, 'role')) === 'master' &&
        (await field(primary as Raw, 'master_link_status')) === 'up' &&
        (await field(chained as Raw, 'master_replid')) ===
          (await field(promoted as Raw, 'master_replid')) &&
        (await field(chained as Raw, 'master_link_status')) === 'up',
    )
    await delay(2500) // a few rotation checks
    await chained?.sendCommand(['CONFIG', 'RESETSTAT'])
    for (let i = 0; i < 20; i++) expect(await cache.get('k')).toBe('v')
    expect(await commandCalls(chained as Raw, 'get')).toBe(20)
  }, 60_000)
})
