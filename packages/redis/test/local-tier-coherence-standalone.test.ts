// Coherence of the local tier on one server, where only one server can show it: through a
// restart of the server (everything it held is lost), and a read reply racing an invalidation
// of its key. local-tier-coherence.test.ts proves the rest on every topology.
import { type Cache, createCache } from '@cachex/redis'
import { delay, type RedisServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, held } from './local-tier-coherence/helpers.ts'

let server: RedisServer
/** A plain node-redis client: the stand-in for redis-cli or another service. */
let other: ReturnType<typeof createClient>
const caches: Cache[] = []

/** A cache whose tracking connection is up (the tier serves from memory only then). */
async function tracked(): Promise<Cache> {
  const cache = createCache({
    location: server.url,
    keyPrefix: uniquePrefix('coherence'),
    local: {},
  })
  caches.push(cache)
  await cache.get('warm-up')
  await eventually(() => cache.localStats()?.tracking === true)
  return cache
}

beforeAll(async () => {
  server = await startRedis()
  other = createClient({ url: server.url })
  other.on('error', () => undefined)
  await other.connect()
})

afterAll(async () => {
  await Promise.all(caches.map((c) => c.close()))
  await other?.close()
  await server?.stop()
})

describe('through a server restart', () => {
  it('never reads a value changed behind its back, and the tier comes back', async () => {
    const own = await startRedis()
    const url = own.url
    const cache = createCache({ location: url, keyPrefix: uniquePrefix('restart'), local: {} })
    const raw = createClient({ url })
    raw.on('error', () => undefined)
    try {
      await raw.connect()
      await cache.get('warm-up')
      await eventually(() => cache.localStats()?.tracking === true)
      await cache.set('k', 'before')
      await cache.set('other', 'before')
      expect(await held(cache, 'k')).toBe('before')
      expect(await held(cache, 'other')).toBe('before')

      // Read all along, from before the crash to after the tier is back.
      const reads: Array<{ value: unknown; start: number }> = []
      let reading = true
      const reader = (async () => {
        while (reading) {
          const start = Date.now()
          try {
            reads.push({ value: await cache.get('k'), start })
          } catch {
            // The server is down: an error, never a stale value.
          }
          await delay(2)
        }
      })()

      await delay(50)
      await own.kill()
      const killed = Date.now()
      await delay(300)
      await own.start()
      // The server kept nothing: 'k' is gone. Write behind the tier's back at once, before
      // (or while) the cache reconnects.
      await raw.sendCommand(['SET', cache.makeKey('k'), JSON.stringify('after')])
      const written = Date.now()
      await eventually(() => cache.localStats()?.tracking === true)
      await eventually(async () => (await cache.get('k')) === 'after')
      // The tier serves again, and is still kept coherent.
      expect(await held(cache, 'k')).toBe('after')
      await raw.sendCommand(['SET', cache.makeKey('k'), JSON.stringify('later')])
      await eventually(async () => (await cache.get('k')) === 'later')
      expect(await held(cache, 'k')).toBe('later')
      // 'other' was lost with the server: never served from memory after the restart.
      expect(await cache.get('other')).toBeNull()
      // The background reader may have waited out the reconnection in one read: let it read on.
      await eventually(() => reads.filter((r) => r.start > written).length >= 10)
      reading = false
      await reader

      // No read started after the write returned 'before' (nor null: the key was written).
      const after = reads.filter((r) => r.start > written)
      expect(after.length).toBeGreaterThan(0)
      expect(after.filter((r) => r.value === 'before' || r.value === null)).toEqual([])
      // No read started after the server died returned 'before' once its restart was done:
      // 'before' only ever comes from the tier, which the loss of tracking emptied.
      const late = reads.filter((r) => r.start > killed + 300 && r.value === 'before')
      expect(late).toEqual([])
      expect(cache.localStats()?.tracking).toBe(true)
    } finally {
      await cache.close()
      await raw.close().catch(() => undefined)
      await own.stop()
    }
  }, 120_000)
})

describe('a read reply and an invalidation of its key, on two sockets', () => {
  it('never holds the value read when its key was written while the read was in flight', async () => {
    const cache = await tracked()
    const rkey = cache.makeKey('race')
    // A large value read just before each race: the read's reply waits behind it on the cache's
    // socket while the write's invalidation arrives on the tracking socket, so the invalidation
    // is seen first. (Read by getMany, whose misses the tier does not hold.)
    await other.sendCommand(['SET', cache.makeKey('big'), JSON.stringify('x'.repeat(8_000_000))])
    const stale: Array<[number, unknown]> = []
    /** Reads that got the old value: their GET ran before the write (the race was set up). */
    let raced = 0
    for (let i = 0; i < 12; i++) {
      await other.sendCommand(['SET', rkey, JSON.stringify(`old-${i}`)])
      // The tier does not hold the key (its invalidation arrived): the next read is a miss.
      await eventually(() => cache.localStats()?.entries === 0)
      const big = cache.getMany(['big'])
      const read = cache.get('race')
      await delay(i % 4)
      await other.sendCommand(['SET', rkey, JSON.stringify(`new-${i}`)])
      const [, got] = await Promise.all([big, read])
      if (got === `old-${i}`) raced++
      // Let any late invalidation arrive, then read twice (the second from memory if held).
      await delay(20)
      for (const value of [await cache.get('race'), await cache.get('race')]) {
        if (value !== `new-${i}`) stale.push([i, value])
      }
    }
    expect(stale).toEqual([])
    expect(raced).toBeGreaterThan(0)
    expect(cache.localStats()?.hits).toBeGreaterThan(0)
  }, 120_000)
})
