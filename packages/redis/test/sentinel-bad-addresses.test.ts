// A sentinel that reports addresses no server can have (a port out of 1..65535 or not a number),
// or a replica list far too long: the primary so reported is no primary (a typed error, and the
// sentinels are asked again until they answer right), a replica so reported is skipped, at most
// 64 replicas are taken from one view, and close() leaves no connection behind.
import { type AddressInfo, createServer, type Socket } from 'node:net'
import { CachexError, ConnectionError, createCache } from '@cachex/redis'
import {
  type RedisServer,
  type ReplicaSet,
  redisCall,
  startReplicaSet,
  timed,
} from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type FakeSentinel, masterFields, nodeFields, startFakeSentinel } from './_fake-sentinel.ts'

let set: ReplicaSet
let fs: FakeSentinel
const crashes: unknown[] = []
const onCrash = (error: unknown) => crashes.push(error)

beforeAll(async () => {
  set = await startReplicaSet({ replicas: 1 })
  fs = await startFakeSentinel()
  process.on('uncaughtException', onCrash)
  process.on('unhandledRejection', onCrash)
}, 60_000)

afterAll(async () => {
  process.off('uncaughtException', onCrash)
  process.off('unhandledRejection', onCrash)
  await fs?.close()
  await set?.stop()
})

function firstReplica(): RedisServer {
  return set.replicas[0] as RedisServer
}

/** Every sentinel answer right from now on. */
function honest(): void {
  fs.answers = {
    master: masterFields('mymaster', '127.0.0.1', set.primary.port),
    replicas: [nodeFields('127.0.0.1', firstReplica().port)],
    sentinels: [],
  }
}

function openCache() {
  return createCache({
    client: 'sentinel',
    location: 'redis://mymaster/0',
    sentinels: [['127.0.0.1', fs.port]],
    socketTimeout: 1,
    socketConnectTimeout: 2,
  })
}

/** Whether a set and a get round trip within `ms`. */
async function worksWithin(cache: ReturnType<typeof openCache>, ms: number): Promise<boolean> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    const value = Math.random()
    const done = await timed(cache.set('works', value).then(() => cache.get('works')))
    if (done.value === value) return true
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return false
}

/** How many GETs the server at `url` ran. */
async function gets(url: string): Promise<number> {
  const stats = String(await redisCall(url, ['INFO', 'commandstats']))
  return Number(/cmdstat_get:calls=(\d+)/.exec(stats)?.[1] ?? 0)
}

for (const port of [99999, 'abc'] as const) {
  it(`SENTINEL MASTER answers port ${port}: a typed error, then the cache works once the sentinel answers right`, async () => {
    honest()
    fs.answers.master = masterFields('mymaster', '127.0.0.1', port)
    const cache = openCache()
    try {
      const write = await timed(cache.set('k', 1))
      expect(write.error).toBeInstanceOf(ConnectionError)
      const text = (write.error as Error).message
      expect(text).toMatch(/invalid address/)
      expect(text).toContain("sentinel service 'mymaster'")
      expect(text).toMatch(/port/)
      expect(text).not.toMatch(/\*\*\*/)
      expect(text.length).toBeLessThan(1000)
      if (port === 99999) expect(text).toContain('99999')
      const read = await timed(cache.get('k'))
      expect(read.error).toBeInstanceOf(CachexError)
      expect((read.error as Error).message).not.toMatch(/Cannot read properties/)
      honest()
      expect(await worksWithin(cache, 15_000), 'works within 15 s of right answers').toBe(true)
      expect(crashes.map(String)).toEqual([])
    } finally {
      await cache.close()
    }
  }, 60_000)
}

it('SENTINEL REPLICAS lists replicas with a bad port or no host: writes go to the primary, the valid replica serves reads', async () => {
  honest()
  const replica = firstReplica()
  fs.answers.replicas = [
    nodeFields('127.0.0.1', 99999),
    nodeFields('', replica.port),
    nodeFields('127.0.0.1', 'abc'),
    nodeFields('127.0.0.1', replica.port),
  ]
  const cache = openCache()
  try {
    const write = await timed(cache.set('k', 1))
    expect(write.error).toBeUndefined()
    // Replication is asynchronous: the replica has the write before reads of it are checked.
    const until0 = Date.now() + 15_000
    while ((await redisCall(replica.url, ['GET', cache.makeKey('k')])) === null) {
      if (Date.now() > until0) throw new Error('the write did not reach the replica within 15 s')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const before = await gets(replica.url)
    const until = Date.now() + 15_000
    let served = false
    while (!served && Date.now() < until) {
      expect(await cache.get('k')).toBe(1)
      served = (await gets(replica.url)) > before
      if (!served) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(served, 'the valid replica serves reads').toBe(true)
    expect(crashes.map(String)).toEqual([])
  } finally {
    await cache.close()
  }
}, 60_000)

it('+switch-master to a bad port: writes stay on the primary', async () => {
  honest()
  const cache = openCache()
  try {
    await cache.set('k', 1)
    const until = Date.now() + 10_000
    while (!fs.log.some((args) => args[0]?.toLowerCase() === 'psubscribe')) {
      if (Date.now() > until) throw new Error('never subscribed')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    fs.publish('+switch-master', `mymaster 127.0.0.1 ${set.primary.port} 127.0.0.1 99999`)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(await worksWithin(cache, 5_000)).toBe(true)
    expect(crashes.map(String)).toEqual([])
  } finally {
    await cache.close()
  }
}, 60_000)

it('SENTINEL REPLICAS with 1,000 entries: a bounded first call, at most 64 replicas, nothing left after close()', async () => {
  honest()
  // A sink: accepts connections, reads what comes (so that it sees a client close), never answers.
  const held = new Set<Socket>()
  // The replicas connected to (the address each connection came to), ever and now.
  const addresses = new Set<string>()
  const connected = new Map<string, number>()
  let peak = 0
  const sink = createServer((socket) => {
    const to = socket.localAddress ?? ''
    held.add(socket)
    addresses.add(to)
    connected.set(to, (connected.get(to) ?? 0) + 1)
    peak = Math.max(peak, connected.size)
    socket.resume()
    socket.on('error', () => {})
    socket.on('close', () => {
      held.delete(socket)
      const left = (connected.get(to) ?? 1) - 1
      if (left === 0) connected.delete(to)
      else connected.set(to, left)
    })
  })
  await new Promise<void>((resolve) => sink.listen(0, '0.0.0.0', resolve))
  const port = (sink.address() as AddressInfo).port
  const replica = firstReplica()
  fs.answers.replicas = [
    nodeFields('127.0.0.1', replica.port),
    nodeFields('127.0.0.1', replica.port),
    ...Array.from({ length: 1000 }, (_, i) =>
      nodeFields(`127.0.${2 + Math.floor(i / 250)}.${1 + (i % 250)}`, port),
    ),
  ]
  const cache = openCache()
  try {
    let last = performance.now()
    let maxGap = 0
    const ticker = setInterval(() => {
      const now = performance.now()
      maxGap = Math.max(maxGap, now - last)
      last = now
    }, 20)
    const write = await timed(cache.set('k', 1))
    await new Promise((resolve) => setTimeout(resolve, 2000))
    clearInterval(ticker)
    // Soft: every measure is reported, and the sockets are counted after close() all the same.
    expect.soft(write.error).toBeUndefined()
    expect.soft(write.ms, 'the first set (ms)').toBeLessThan(10_000)
    expect.soft(maxGap, 'the longest the event loop was blocked (ms)').toBeLessThan(2000)
    expect.soft(addresses.size, 'replicas connected to').toBeLessThanOrEqual(64)
    expect.soft(peak, 'replicas connected to at once').toBeLessThanOrEqual(64)
    expect(crashes.map(String)).toEqual([])
  } finally {
    await cache.close()
    await new Promise((resolve) => setTimeout(resolve, 3000))
    const left = held.size
    for (const socket of held) socket.destroy()
    sink.close()
    expect(left, 'sockets still open 3 s after close()').toBe(0)
  }
}, 150_000)
