// The script a fresh cache runs to learn whether its user may run scripts (sent after the first
// batch of sets with an expiry, which goes as a pipeline of `SET … PX` until then): the batch's
// callers are answered with their writes, not held up by it; and a server without `EVAL` (renamed
// away, a proxy without scripts) is asked once, not after every batch.
import { fakeRedis, type RedisServer, startRedis } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache } from '../src/index.ts'

/** `{ value }` of `promise`, or `'timed out'` after `ms` milliseconds. */
function within<T>(promise: Promise<T>, ms: number): Promise<{ value: T } | 'timed out'> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(() => resolve('timed out'), ms)
  })
  return Promise.race([promise.then((value) => ({ value })), late]).finally(() =>
    clearTimeout(timer),
  )
}

describe('a server that never answers the script', () => {
  let fake: Awaited<ReturnType<typeof fakeRedis>>
  beforeAll(async () => {
    // Answers every command +OK at once, but never EVAL or EVALSHA (a stalled reply).
    fake = await fakeRedis((name) => (name === 'EVALSHA' || name === 'EVAL' ? '' : undefined))
  })
  afterAll(async () => fake?.close())

  it("a fresh cache's first sets with an expiry are answered once their writes are", async () => {
    const cache = createCache({ location: fake.url, socketTimeout: null })
    try {
      const sets = Promise.all([cache.set('a', 1, 60), cache.set('b', 2, 60)])
      // Both SETs are answered at once; only the script is not, and nothing bounds it.
      expect(await within(sets, 3000)).toEqual({ value: [true, true] })
    } finally {
      await cache.close()
    }
  })
})

describe('a server without EVAL (renamed away)', () => {
  let server: RedisServer
  let admin: ReturnType<typeof createClient>
  beforeAll(async () => {
    server = await startRedis({
      args: ['--rename-command', 'EVAL', '', '--rename-command', 'EVALSHA', ''],
    })
    admin = createClient({ url: server.url })
    await admin.connect()
  })
  afterAll(async () => {
    await admin?.close()
    await server?.stop()
  })

  /** Error replies the server has sent (each script sent fails with `ERR unknown command`). */
  async function errorReplies(): Promise<number> {
    const info = String(await admin.sendCommand(['INFO', 'errorstats']))
    return Number(/errorstat_ERR:count=(\d+)/.exec(info)?.[1] ?? 0)
  }

  it('is asked once whether scripts run, and every write is stored', async () => {
    const cache = createCache({ location: server.url, keyPrefix: 'noeval' })
    try {
      await expect(admin.sendCommand(['EVAL', 'return 1', '0'])).rejects.toThrow(/unknown command/)
      await cache.get('warm') // connected; no script sent yet
      const before = await errorReplies()
      for (let i = 0; i < 20; i++) {
        expect(await cache.setMany({ [`m${i}a`]: i, [`m${i}b`]: -i - 1 }, 60)).toEqual([])
        expect(
          await Promise.all([cache.set(`p${i}a`, i, 60), cache.set(`p${i}b`, -i - 1, 60)]),
        ).toEqual([true, true])
      }
      // Once the script's failure is in (a read sent after it is answered after it).
      await cache.get('warm')
      expect((await errorReplies()) - before).toBeLessThanOrEqual(1)
      for (let i = 0; i < 20; i++) {
        for (const prefix of ['m', 'p']) {
          const stored = await cache.getMany([`${prefix}${i}a`, `${prefix}${i}b`])
          expect([prefix, i, stored]).toEqual([
            prefix,
            i,
            new Map([
              [`${prefix}${i}a`, i],
              [`${prefix}${i}b`, -i - 1],
            ]),
          ])
          expect(await cache.ttl(`${prefix}${i}b`)).toBeGreaterThan(50)
        }
      }
    } finally {
      await cache.close()
    }
  })
})
