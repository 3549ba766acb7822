// The local tier behind a Redis that closes idle clients (`timeout N`, which managed services
// often set): the tracking connection sends nothing of its own while no key is written, so
// without a keepalive the server closed it after N seconds, and each close emptied the tier.
// It pings (once a minute by default, `clientOptions.pingInterval` wins), so it stays up. A
// minute is longer than a test may wait: the tests set a shorter interval, and the default is
// pinned on its own.
import { connect } from 'node:net'
import { type Cache, createCache } from '@cachex/redis'
import {
  type ClusterNode,
  delay,
  type RedisServer,
  startCluster,
  startRedis,
  uniquePrefix,
} from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { held } from './local-tier-coherence/helpers.ts'
import { eventually } from './local-tier-helpers.ts'

/** The server's idle timeout, in seconds: 8 keepalives of 500 ms, a margin for a busy machine. */
const IDLE_SECONDS = 4

let server: RedisServer
const closers: Array<() => Promise<unknown>> = []

beforeAll(async () => {
  server = await startRedis({ args: ['--timeout', String(IDLE_SECONDS)] })
})

afterEach(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined)
  closers.length = 0
})

afterAll(async () => {
  await server?.stop()
})

function localCache(options: object): Cache {
  const cache = createCache({ keyPrefix: uniquePrefix('idle'), local: {}, ...options })
  closers.push(() => cache.close())
  return cache
}

/** The IDs of the tracking connections (`flags=…t…`) the server at `url` holds. */
async function trackingIds(url: string): Promise<string[]> {
  const client = createClient({ url })
  client.on('error', () => undefined)
  await client.connect()
  try {
    const list = String(await client.sendCommand(['CLIENT', 'LIST']))
    return list
      .split('\n')
      .filter((line) => /\sflags=\S*t/.test(line))
      .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
      .filter((id): id is string => id !== undefined)
      .sort()
  } finally {
    client.destroy()
  }
}

/**
 * A bare TCP connection to `node` that sends nothing; `closed` resolves once the server closes
 * it for being idle (`timeout`). Opened after the tracking connections last spoke, so they have
 * been idle longer: without a keepalive the server has closed them by then too.
 */
async function idleProbe(node: { host: string; port: number }): Promise<{ closed: Promise<void> }> {
  const socket = connect({ host: node.host, port: node.port })
  closers.push(async () => socket.destroy())
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  // Wrapped: an async function returning the promise itself would wait for it.
  return { closed }
}

/** Waits (bounded only against hangs) until every probe was closed by its server. */
async function idleUntil(probes: ReadonlyArray<{ closed: Promise<void> }>): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the server did not close the idle probe')), 30_000)
  })
  try {
    await Promise.race([Promise.all(probes.map((probe) => probe.closed)), hang])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Holds a value in the tier, stays idle past the server's `timeout`, then checks that the
 * tracking connections of `nodes` are the same ones and the next read is a tier hit.
 */
async function survivesIdle(
  cache: Cache,
  nodes: ReadonlyArray<{ url: string; host: string; port: number }>,
): Promise<void> {
  await cache.get('warm-up')
  await eventually(() => cache.localStats()?.tracking === true)
  await cache.set('k', { v: 1 }, 300)
  expect(await held(cache, 'k')).toEqual({ v: 1 })
  const before = await Promise.all(nodes.map((node) => trackingIds(node.url)))
  for (const ids of before) expect(ids.length).toBeGreaterThan(0)

  await idleUntil(await Promise.all(nodes.map(idleProbe)))

  // The server's view: the very same tracking connections, none closed and reopened.
  expect(await Promise.all(nodes.map((node) => trackingIds(node.url)))).toEqual(before)
  // The tier's: still holding the value, served from memory.
  const stats = cache.localStats()
  expect(stats?.tracking).toBe(true)
  expect(stats?.entries).toBeGreaterThan(0)
  const hits = stats?.hits ?? 0
  expect(await cache.get('k')).toEqual({ v: 1 })
  expect(cache.localStats()?.hits).toBe(hits + 1)
}

describe('the tracking connection behind a server that closes idle clients', () => {
  it("takes clientOptions.pingInterval (real time): a user's interval wins", async () => {
    const cache = localCache({ location: server.url, clientOptions: { pingInterval: 500 } })
    await survivesIdle(cache, [server])
  })

  it("takes a handed-in client's own pingInterval (real time)", async () => {
    const given = createClient({ url: server.url, pingInterval: 500 })
    given.on('error', () => undefined)
    await given.connect()
    closers.push(() => given.close())
    const cache = localCache({ location: given })
    await survivesIdle(cache, [server])
  })

  it('keeps every tracking connection of a cluster alive (clientOptions.pingInterval)', async () => {
    const cluster = await startCluster({
      primaries: 3,
      replicasPerPrimary: 0,
      args: ['--timeout', String(IDLE_SECONDS)],
    })
    closers.push(() => cluster.stop())
    const primaries: ClusterNode[] = await cluster.primaries()
    const cache = localCache({
      client: 'cluster',
      location: [...cluster.seeds],
      clientOptions: { pingInterval: 500 },
    })
    await survivesIdle(cache, primaries)
  }, 60_000)

  it('stays up for a user the ACL refuses PING: only the keepalive is refused', async () => {
    const admin = createClient({ url: server.url })
    admin.on('error', () => undefined)
    await admin.connect()
    closers.push(() => admin.close())
    await admin.sendCommand(['ACL', 'SETUSER', 'noping', 'on', '>pw', '~*', '&*', '+@all', '-ping'])
    const url = server.url.replace('redis://', 'redis://noping:pw@')
    const cache = localCache({ location: url, clientOptions: { pingInterval: 200 } })
    await cache.get('warm-up')
    await eventually(() => cache.localStats()?.tracking === true)
    await cache.set('k', 1, 300)
    expect(await held(cache, 'k')).toBe(1)
    // Several keepalives refused (NOPERM) meanwhile.
    await delay(1_000)
    expect(cache.localStats()?.tracking).toBe(true)
    const hits = cache.localStats()?.hits ?? 0
    expect(await cache.get('k')).toBe(1)
    expect(cache.localStats()?.hits).toBe(hits + 1)
  })
})
