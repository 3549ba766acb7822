// Sentinels replaced over time (pods given new addresses; the old ones gone, and no longer
// reported after a SENTINEL RESET): cachex used to keep a connection to every sentinel ever
// reported, each reconnecting every 2 s for the life of the cache. A sentinel no view names any
// more is let go; the configured ones are kept; the discovered ones are capped.
import { createServer, type Server } from 'node:net'
import { createCache } from '@cachex/redis'
import { delay, startRedis } from '@cachex/test-utils'
import { expect, it } from 'vitest'
import { masterFields, startFakeSentinel } from './_fake-sentinel.ts'

/** A server that counts the connections made to it and drops each at once (a dead sentinel). */
interface Counting {
  server: Server
  port: number
  connections: number
}

async function startCounting(): Promise<Counting> {
  const counting: Counting = { server: createServer(), port: 0, connections: 0 }
  counting.server.on('connection', (socket) => {
    counting.connections++
    socket.destroy()
  })
  await new Promise<void>((resolve) => counting.server.listen(0, '127.0.0.1', resolve))
  counting.port = (counting.server.address() as { port: number }).port
  return counting
}

function sentinelsOf(servers: readonly Counting[]) {
  return servers.map((s) => [
    'name',
    `127.0.0.1:${s.port}`,
    'ip',
    '127.0.0.1',
    'port',
    String(s.port),
    'flags',
    'sentinel',
  ])
}

async function until(condition: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms
  while (!condition() && performance.now() < end) await delay(50)
}

/** The servers connected to in a 3.5 s window (a live link reconnects at most 2 s apart). */
async function connectedTo(servers: readonly Counting[]): Promise<Counting[]> {
  const before = servers.map((s) => s.connections)
  await delay(3500)
  return servers.filter((s, i) => s.connections > (before[i] as number))
}

it('drops the connections to sentinels no view names any more', async () => {
  const primary = await startRedis()
  const fs = await startFakeSentinel()
  let current: Counting[] = []
  const all: Counting[] = []
  fs.answers = {
    master: masterFields('mymaster', '127.0.0.1', primary.port),
    replicas: [],
    sentinels: () => sentinelsOf(current),
  }
  const cache = createCache({
    client: 'sentinel',
    location: 'redis://mymaster/0',
    sentinels: [['127.0.0.1', fs.port]],
    sentinelOptions: { scanInterval: 100 },
  } as never)
  try {
    await cache.set('k', 1)
    for (let generation = 0; generation < 6; generation++) {
      const fresh = [await startCounting(), await startCounting(), await startCounting()]
      all.push(...fresh)
      current = fresh
      // Each is connected to once it is reported.
      await until(() => fresh.every((s) => s.connections > 0), 15_000)
      expect(fresh.map((s) => s.connections > 0)).toEqual([true, true, true])
    }
    current = []
    // None is reported any more: within a while, none is connected to again.
    let left = all
    const end = performance.now() + 30_000
    while (left.length > 0 && performance.now() < end) left = await connectedTo(all)
    expect(left.map((s) => s.port)).toEqual([])
    // The configured sentinel is kept: the cache still works and follows it.
    expect(await cache.get('k')).toBe(1)
    expect(fs.clients.size).toBeGreaterThan(0)
  } finally {
    await cache.close()
    await fs.close()
    await primary.stop()
    for (const s of all) s.server.close()
  }
}, 120_000)

it('connects to at most 64 sentinels besides the configured ones', async () => {
  const primary = await startRedis()
  const a = await startFakeSentinel()
  const b = await startFakeSentinel()
  const ofA: Counting[] = []
  const ofB: Counting[] = []
  for (const list of [ofA, ofB]) for (let i = 0; i < 40; i++) list.push(await startCounting())
  const all = [...ofA, ...ofB]
  for (const [fake, list] of [
    [a, ofA],
    [b, ofB],
  ] as const) {
    fake.answers = {
      master: masterFields('mymaster', '127.0.0.1', primary.port),
      replicas: [],
      sentinels: () => sentinelsOf(list),
    }
  }
  const cache = createCache({
    client: 'sentinel',
    location: 'redis://mymaster/0',
    sentinels: [
      ['127.0.0.1', a.port],
      ['127.0.0.1', b.port],
    ],
    sentinelOptions: { scanInterval: 200 },
  } as never)
  try {
    await cache.set('k', 1)
    await until(() => all.filter((s) => s.connections > 0).length >= 64, 15_000)
    await delay(1000)
    const connected = await connectedTo(all)
    expect(connected.length).toBeGreaterThan(0)
    expect(connected.length).toBeLessThanOrEqual(64)
    // Both configured sentinels are kept.
    expect(a.clients.size).toBeGreaterThan(0)
    expect(b.clients.size).toBeGreaterThan(0)
    expect(await cache.get('k')).toBe(1)
  } finally {
    await cache.close()
    await a.close()
    await b.close()
    await primary.stop()
    for (const s of all) s.server.close()
  }
}, 120_000)
