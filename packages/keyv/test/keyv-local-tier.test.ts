// Keyv over a cache with a local tier: a value the tier holds is read with its expiry from
// memory, so repeated reads send nothing to Redis, and Keyv's `expires` stays right.
import type { Cache } from '@cachex/redis'
import { delay, monitor, redisCall } from '@cachex/test-utils'
import { describe, expect, it } from 'vitest'
import { createKeyv } from '../src/index.ts'
import { testCaches } from './_helpers.ts'

const caches = testCaches()

/** A cache with a local tier whose tracking connection is up. */
async function tracked(): Promise<Cache> {
  const cache = caches.newCache({ local: {} })
  const until = Date.now() + 20_000
  while (cache.localStats()?.tracking !== true) {
    if (Date.now() > until) throw new Error('tracking never came up')
    await cache.get('warm-up')
    await delay(10)
  }
  return cache
}

/** Reads `key` (a user key of `cache`) until the tier serves it. */
async function held(cache: Cache, key: string): Promise<void> {
  const until = Date.now() + 20_000
  for (;;) {
    const before = cache.localStats()?.hits ?? 0
    await cache.get(key)
    if (cache.localStats()?.hits === before + 1) return
    if (Date.now() > until) throw new Error(`the tier never served '${key}'`)
    await delay(10)
  }
}

/** The commands `cache` sent naming `rkeys`, once a marker read shows everything before it ran. */
async function sentFor(
  cache: Cache,
  watch: Awaited<ReturnType<typeof monitor>>,
  rkeys: readonly string[],
): Promise<string[][]> {
  const marker = cache.makeKey(`marker-${Math.random()}`)
  await redisCall(caches.server.url, ['EXISTS', marker])
  await watch.waitFor((c) => c[0] === 'EXISTS' && c[1] === marker)
  return watch.commands.filter((c) => c.slice(1).some((arg) => rkeys.includes(arg)))
}

describe('Keyv over a cache with a local tier', () => {
  it('reads a held value and its expiry from memory: 50 gets, no command', async () => {
    const cache = await tracked()
    const keyv = createKeyv(cache)
    const t0 = Date.now()
    await redisCall(caches.server.url, ['SET', cache.makeKey('keyv:k'), '{"a":1}', 'PX', '60000'])
    const t1 = Date.now()
    await delay(100)
    await held(cache, 'keyv:k')
    const watch = await monitor(caches.server.port)
    try {
      for (let i = 0; i < 50; i++) {
        const before = Date.now()
        const raw = await keyv.getRaw('k')
        const after = Date.now()
        expect(raw?.value).toEqual({ a: 1 })
        // Redis's expiry is within [t0, t1] + 60 s; the tier's, counted from before its read,
        // is never later, and earlier by no more than that read's round trip.
        expect(raw?.expires).toBeLessThanOrEqual(t1 + 60_000 + (after - before) + 1)
        expect(raw?.expires).toBeGreaterThanOrEqual(t0 + 60_000 - 1_000)
        expect(await keyv.get('k')).toEqual({ a: 1 })
      }
      expect(await sentFor(cache, watch, [cache.makeKey('keyv:k')])).toEqual([])
    } finally {
      watch.stop()
    }
    // Redis's own answer: the expiry Keyv saw is within a few ms of it.
    const pttl = Number(await redisCall(caches.server.url, ['PTTL', cache.makeKey('keyv:k')]))
    const expires = (await keyv.getRaw('k'))?.expires as number
    expect(Math.abs(expires - (Date.now() + pttl))).toBeLessThan(250)
  })

  it('getMany of held values sends nothing either, with each expiry', async () => {
    const cache = await tracked()
    const keyv = createKeyv(cache)
    const keys = Array.from({ length: 10 }, (_, i) => `m${i}`)
    const rkeys = keys.map((key) => cache.makeKey(`keyv:${key}`))
    for (const [i, rkey] of rkeys.entries()) {
      await redisCall(caches.server.url, ['SET', rkey, String(i), 'PX', String(60_000 + i * 1000)])
    }
    await redisCall(caches.server.url, ['SET', cache.makeKey('keyv:forever'), '"f"'])
    await delay(100)
    for (const key of [...keys, 'forever']) await held(cache, `keyv:${key}`)
    const watch = await monitor(caches.server.port)
    try {
      for (let round = 0; round < 20; round++) {
        const start = Date.now()
        const raws = await keyv.getManyRaw([...keys, 'forever'])
        expect(raws.map((raw) => raw?.value)).toEqual([...keys.map((_, i) => i), 'f'])
        for (let i = 0; i < keys.length; i++) {
          const left = (raws[i]?.expires as number) - start
          expect(left).toBeGreaterThan(60_000 + i * 1000 - 2_000)
          expect(left).toBeLessThanOrEqual(60_000 + i * 1000 + 1)
        }
        expect(raws[keys.length]).toEqual({ value: 'f' })
        expect(await keyv.getMany(keys)).toEqual(keys.map((_, i) => i))
      }
      const everyKey = [...rkeys, cache.makeKey('keyv:forever')]
      expect(await sentFor(cache, watch, everyKey)).toEqual([])
    } finally {
      watch.stop()
    }
  })

  it('sees an expiry changed by another client once the tier hears of it', async () => {
    const cache = await tracked()
    const keyv = createKeyv(cache)
    const rkey = cache.makeKey('keyv:k')
    await redisCall(caches.server.url, ['SET', rkey, '1', 'PX', '60000'])
    await delay(100)
    await held(cache, 'keyv:k')
    const before = cache.localStats()?.invalidations ?? 0
    await redisCall(caches.server.url, ['PEXPIRE', rkey, '500000'])
    const until = Date.now() + 20_000
    while ((cache.localStats()?.invalidations ?? 0) === before) {
      if (Date.now() > until) throw new Error('no invalidation')
      await delay(10)
    }
    const start = Date.now()
    const expires = (await keyv.getRaw('k'))?.expires as number
    expect(expires - start).toBeGreaterThan(490_000)
    expect(expires - start).toBeLessThanOrEqual(500_000 + (Date.now() - start) + 1)
  })
})
