// getOrSet through the local tier: a hot key under `grace` / `earlyRecompute` / `distributed` is
// decided on and served from memory (no round trip), and still refreshes as it does without a tier.
import { type Cache, createCache } from '@cachex/redis'
import { delay, type Monitor, monitor, standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let server: { url: string; stop(): Promise<void> }
let watch: Monitor
let other: ReturnType<typeof createClient>
const caches: Cache[] = []

beforeAll(async () => {
  server = await standaloneServer()
  watch = await monitor(Number(new URL(server.url).port))
  other = createClient({ url: server.url })
  other.on('error', () => undefined)
  await other.connect()
})

afterAll(async () => {
  await Promise.all(caches.map((c) => c.close()))
  await other?.close()
  watch?.stop()
  await server?.stop()
})

/** Waits until `check` holds; bounded only against hangs. */
async function eventually(check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await delay(10)
  }
}

/** A cache with a local tier whose tracking connection is up. */
async function tracked(): Promise<Cache> {
  const cache = createCache({ location: server.url, keyPrefix: uniquePrefix('tgos'), local: {} })
  caches.push(cache)
  await cache.get('warm-up')
  await eventually(() => cache.localStats()?.tracking === true)
  return cache
}

/** Calls `read` until one call is a tier hit (the cache's own write's invalidation drops it once). */
async function heldBy(cache: Cache, read: () => Promise<unknown>): Promise<void> {
  await eventually(async () => {
    const before = cache.localStats()?.hits ?? 0
    await read()
    return cache.localStats()?.hits === before + 1
  })
}

/** The commands on `rkey` (or its companion keys) the server ran since `from`. */
function commandsOn(rkey: string, from: number): string[] {
  return watch.commands
    .slice(from)
    .filter((c) => c.slice(1).some((a) => a === rkey || a.endsWith(`:${rkey}`)))
    .map((c) => (c[0] as string).toUpperCase())
}

const OPTIONS = [
  { name: 'no stampede option', options: { timeout: 300 } },
  { name: 'distributed', options: { timeout: 300, distributed: true } },
  { name: 'grace', options: { timeout: 300, grace: 60 } },
  { name: 'earlyRecompute', options: { timeout: 300, earlyRecompute: 1 } },
  {
    name: 'grace + earlyRecompute + distributed',
    options: { timeout: 300, grace: 60, earlyRecompute: 1, distributed: true },
  },
]

describe('getOrSet through the local tier', () => {
  it.each(OPTIONS)(
    'a hot key with $name is served from memory: hits grow, nothing reaches Redis',
    async ({ options }) => {
      const cache = await tracked()
      let calls = 0
      const factory = async () => {
        calls++
        await delay(20)
        return { n: calls }
      }
      await heldBy(cache, () => cache.getOrSet('hot', factory, options))
      // Our own write's invalidation may land after that hit: let it, and hold the value again.
      await delay(200)
      await heldBy(cache, () => cache.getOrSet('hot', factory, options))
      const from = watch.commands.length
      const before = cache.localStats()?.hits ?? 0
      for (let i = 0; i < 200; i++) {
        expect(await cache.getOrSet('hot', factory, options)).toEqual({ n: 1 })
      }
      // A marker through the same server: every command sent before it has been seen.
      await other.sendCommand(['ECHO', 'marker'])
      await watch.waitFor((c) => c[0]?.toUpperCase() === 'ECHO' && c[1] === 'marker')
      // No GET, PTTL or delta read: every call was decided on from memory. (At most one read, on
      // a machine so loaded that our own write's invalidation took more than 200 ms.)
      const sent = commandsOn(cache.makeKey('hot'), from)
      expect(sent.filter((c) => c === 'GET').length).toBeLessThanOrEqual(
        'earlyRecompute' in options ? 2 : 1,
      )
      expect(sent.filter((c) => c !== 'GET' && c !== 'PTTL')).toEqual([])
      expect((cache.localStats()?.hits ?? 0) - before).toBeGreaterThanOrEqual(199)
      expect(calls).toBe(1)
    },
  )

  it('grace: past the timeout, serves the held value stale while one caller refreshes', async () => {
    const cache = await tracked()
    let calls = 0
    const factory = async () => {
      calls++
      await delay(300)
      return `v${calls}`
    }
    const options = { timeout: 1, grace: 60 }
    await heldBy(cache, () => cache.getOrSet('swr', factory, options))
    // Our own write's invalidation may land after that hit: let it, and hold the value again.
    await delay(200)
    await heldBy(cache, () => cache.getOrSet('swr', factory, options))
    await delay(1200)
    const hits = cache.localStats()?.hits ?? 0
    const stale = await Promise.all(
      Array.from({ length: 10 }, () => cache.getOrSet('swr', factory, options)),
    )
    expect(stale).toEqual(Array(10).fill('v1'))
    // Decided on from memory: the held value knew its Redis expiry.
    expect(cache.localStats()?.hits).toBeGreaterThanOrEqual(hits + 10)
    await expect.poll(() => cache.getOrSet('swr', factory, options), { timeout: 10_000 }).toBe('v2')
    expect(calls).toBe(2)
  })

  it('earlyRecompute: refreshes a held hot key before it expires, one caller at a time', async () => {
    const cache = await tracked()
    let calls = 0
    let running = 0
    let most = 0
    const factory = async () => {
      calls++
      running++
      most = Math.max(most, running)
      await delay(50)
      running--
      return calls
    }
    const options = { timeout: 3, earlyRecompute: 10 }
    expect(await cache.getOrSet('xf', factory, options)).toBe(1)
    const hits = cache.localStats()?.hits ?? 0
    const end = Date.now() + 7000
    while (Date.now() < end) {
      await Promise.all(Array.from({ length: 10 }, () => cache.getOrSet('xf', factory, options)))
      expect(await cache.hasKey('xf')).toBe(true)
      await delay(20)
    }
    expect(calls).toBeGreaterThanOrEqual(3)
    expect(most).toBe(1)
    // Most reads were answered from memory.
    expect((cache.localStats()?.hits ?? 0) - hits).toBeGreaterThan(100)
  })

  it('a write by another client drops the held value: the next getOrSet returns the new one', async () => {
    const cache = await tracked()
    const options = { timeout: 300, grace: 60, earlyRecompute: 1 }
    await heldBy(cache, () => cache.getOrSet('shared', () => 'mine', options))
    await other.sendCommand(['SET', cache.makeKey('shared'), '"theirs"', 'EX', '300'])
    await eventually(async () => (await cache.getOrSet('shared', () => 'x', options)) === 'theirs')
    // And is then held again, with its expiry read from Redis.
    await heldBy(cache, () => cache.getOrSet('shared', () => 'x', options))
    expect(await cache.getOrSet('shared', () => 'x', options)).toBe('theirs')
  })

  it('never serves a held value past its Redis TTL', async () => {
    const cache = await tracked()
    let calls = 0
    const options = { timeout: 1, earlyRecompute: 1 }
    await heldBy(cache, () => cache.getOrSet('short', () => ++calls, options))
    const first = calls
    await delay(1300)
    expect(await cache.getOrSet('short', () => ++calls, options)).toBe(first + 1)
  })
})
