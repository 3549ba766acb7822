// Coherence of the local tier (standalone), by writes it did not make: from Django (django-redis,
// the interop harness), from another cachex process, through a server restart; a randomized
// history of writer and reader processes checked for linearizability per key (modulo the
// invalidation delay); read-after-write.
import { type Cache, createCache } from '@cachex/redis'
import { delay, type RedisServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DjangoBatch } from './interop/django.ts'
import { type Op, report, staleReads, startChild } from './local-tier-coherence/helpers.ts'

let server: RedisServer
/** A plain node-redis client: the stand-in for redis-cli or another service. */
let other: ReturnType<typeof createClient>
const caches: Cache[] = []

function localCache(options: object = {}): Cache {
  const cache = createCache({
    location: server.url,
    keyPrefix: uniquePrefix('coherence'),
    local: {},
    ...options,
  })
  caches.push(cache)
  return cache
}

/**
 * Waits until `check` holds (a check that throws, such as a read while the connection is still
 * reconnecting, does not hold yet); bounded only against hangs.
 */
async function eventually(check: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms
  const holds = async () => {
    try {
      return await check()
    } catch {
      return false
    }
  }
  while (!(await holds())) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await delay(10)
  }
}

/** A cache whose tracking connection is up (the tier serves from memory only then). */
async function tracked(options: object = {}): Promise<Cache> {
  const cache = localCache(options)
  await cache.get('warm-up')
  await eventually(() => cache.localStats()?.tracking === true)
  return cache
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

describe('writes by others invalidate the local copy', () => {
  it('a write from Django (django-redis) replaces the value this process holds', async () => {
    const cache = await tracked({ serializer: 'pickle' })
    await cache.set('k', { from: 'node' })
    expect(await held(cache, 'k')).toEqual({ from: 'node' })
    const batch = new DjangoBatch()
    const written = batch.set('k', { from: 'django' }, { timeout: 300 })
    const deleted = batch.delete('gone')
    const results = await batch.run({
      url: server.url,
      serializer: 'pickle',
      compressor: 'none',
      prefix: cache.keyPrefix,
    })
    expect(results.value(written)).toBe(true)
    results.value(deleted)
    // Django's write is acknowledged: the invalidation is at most one round trip behind.
    await eventually(async () => {
      const value = (await cache.get('k')) as { from: string }
      return value.from === 'django'
    })
    expect(await held(cache, 'k')).toEqual({ from: 'django' })
    // And a delete by Django drops it too.
    await cache.set('gone', 1)
    await held(cache, 'gone')
    const again = new DjangoBatch()
    again.delete('gone')
    await again.run({
      url: server.url,
      serializer: 'pickle',
      compressor: 'none',
      prefix: cache.keyPrefix,
    })
    await eventually(async () => (await cache.get('gone')) === null)
  }, 120_000)

  it('a write from another cachex process replaces the value this process holds', async () => {
    const cache = await tracked()
    await cache.set('k', 'mine')
    expect(await held(cache, 'k')).toBe('mine')
    const child = startChild(['set', server.url, cache.keyPrefix, 'k', '"theirs"'])
    await child.line('done')
    expect(await child.exited).toBe(0)
    await eventually(async () => (await cache.get('k')) === 'theirs')
    expect(await held(cache, 'k')).toBe('theirs')
    expect(cache.localStats()?.invalidations).toBeGreaterThan(0)
  }, 120_000)
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

describe('read-after-write', () => {
  it('a process that wrote a value never reads its previous one afterwards', async () => {
    const cache = await tracked()
    const rkey = cache.makeKey('k')
    let stop = false
    // Reads in flight all along (they race with the writes), and another client writing too.
    const background = (async () => {
      while (!stop) {
        await Promise.all([cache.get('k'), cache.get('k'), delay(1)])
      }
    })()
    /** The other client's last acknowledged write. */
    let acked = -1
    const foreign = (async () => {
      for (let j = 0; !stop; j++) {
        await other.sendCommand(['SET', rkey, JSON.stringify(`other-${j}`)])
        acked = j
        await delay(7)
      }
    })()
    const bad: Array<[number, unknown]> = []
    for (let i = 0; i < 300; i++) {
      const before = acked
      await cache.set('k', i)
      const back = await cache.get('k')
      // Its own write, or a later one by the other client: never one of its own older values,
      // nor one the other client had written before this write.
      const ok =
        typeof back === 'number'
          ? back === i
          : typeof back === 'string' && Number(back.slice('other-'.length)) > before
      if (!ok) bad.push([i, back])
      if (i % 3 === 0) await delay(1)
    }
    stop = true
    await Promise.all([background, foreign])
    expect(bad).toEqual([])
    // Once the other writer stops, its last write is what this process reads.
    await cache.set('k', 'last')
    expect(await cache.get('k')).toBe('last')
    expect(await held(cache, 'k')).toBe('last')
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

describe('randomized: writer and reader processes', () => {
  it('every read returns a value current at some instant of the read (per key, modulo one invalidation delay)', async () => {
    const prefix = uniquePrefix('history')
    const keys = ['a', 'b', 'c']
    const seeder = createCache({ location: server.url, keyPrefix: prefix })
    caches.push(seeder)
    const seeded: Op[] = []
    for (const key of keys) {
      const start = Date.now()
      await seeder.set(key, `init:${key}`, 300)
      seeded.push([key, `init:${key}`, start, Date.now()])
    }
    const ms = '5000'
    const keyList = keys.join(',')
    const writers = [1, 2].map((w) =>
      startChild(['writer', server.url, prefix, `w${w}`, keyList, ms, String(1000 + w)]),
    )
    const readers = [1, 2].map((r) =>
      startChild(['reader', server.url, prefix, `r${r}`, keyList, ms, String(2000 + r)]),
    )
    const children = [...writers, ...readers]
    await Promise.all(children.map((c) => c.line('ready')))
    for (const c of children) c.process.stdin?.write('go\n')
    const writerReports = await Promise.all(writers.map(report))
    const readerReports = await Promise.all(readers.map(report))
    expect(await Promise.all(children.map((c) => c.exited))).toEqual([0, 0, 0, 0])

    const writes = [...seeded, ...writerReports.flatMap((r) => r.ops)]
    const reads = readerReports.flatMap((r) => r.ops)
    // The history is worth checking: many writes, many reads, most of them from memory, and
    // values seen changing.
    expect(writes.length).toBeGreaterThan(20)
    expect(reads.length).toBeGreaterThan(300)
    const hits = readerReports.reduce((n, r) => n + r.hits, 0)
    const misses = readerReports.reduce((n, r) => n + r.misses, 0)
    expect(hits).toBeGreaterThan(misses)
    expect(new Set(reads.map((r) => r[1])).size).toBeGreaterThan(10)

    // Writers never read one of their own older values after a write.
    expect(writerReports.flatMap((r) => r.violations)).toEqual([])
    // Each read's value was current at some instant of [start - 1 s, end] (1 s: one
    // invalidation's trip, with room for a loaded machine). The writers pause 2–3 s between
    // bursts, so a stale copy that outlives its invalidation (a lost message, a read reply that
    // lost the race) is seen for longer than that.
    const stale = staleReads(writes, reads, 1000)
    expect(stale.slice(0, 5)).toEqual([])
  }, 120_000)
})
