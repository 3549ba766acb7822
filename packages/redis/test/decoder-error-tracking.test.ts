// The local tier's tracking connection after a reply node-redis cannot decode: node-redis keeps
// the socket out of step (see decoder-error-reset.test.ts), so the tier went down and never came
// back (no 'ready' again). The tracking connection is replaced, and the tier is on again.
import { createCache } from '@cachex/redis'
import { delay, redisCall, uniquePrefix } from '@cachex/test-utils'
import { expect, it } from 'vitest'
import { proxiedRedis, type Tamper } from './_resp-proxy.ts'

const fx = proxiedRedis()
const { crashes } = fx

/** Polls `check` every 50 ms for up to 15 s (a bound that only proves nothing hangs). */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return
    await delay(50)
  }
  throw new Error(`${what} within 15 s`)
}

for (const [label, reply] of [
  ['a type byte RESP does not have', '?x\r\n'],
  ['a reply nested 50,000 arrays deep', `${'*1\r\n'.repeat(50_000)}:1\r\n`],
] as const) {
  it(`CLIENT TRACKING … BCAST answered with ${label}: the tier comes back on`, async () => {
    let garbled = 0
    const tamper: Tamper = (args) => {
      const bcast =
        args[0]?.toUpperCase() === 'CLIENT' && args.some((a) => a.toUpperCase() === 'BCAST')
      if (!bcast || garbled > 0) return undefined
      garbled++
      return reply
    }
    fx.proxy.tamper = tamper
    const cache = createCache({
      location: fx.proxy.url,
      keyPrefix: uniquePrefix('trk'),
      local: { maxEntries: 100 },
    })
    try {
      await cache.set('k', 'one')
      await until(async () => {
        await cache.get('k')
        return garbled > 0
      }, 'the tracking connection did not ask for BCAST')
      await until(async () => {
        await cache.get('k')
        return cache.localStats()?.tracking === true
      }, 'the local tier did not come back on')
      // On, and coherent: a write of another client reaches it.
      await until(async () => (await cache.get('k')) === 'one', 'no read')
      await redisCall(fx.redis.url, ['SET', cache.makeKey('k'), '"two"'])
      await until(async () => (await cache.get('k')) === 'two', 'the write was not heard')
      expect(crashes.map(String)).toEqual([])
    } finally {
      fx.proxy.tamper = undefined
      await cache.close()
    }
  }, 60_000)
}
