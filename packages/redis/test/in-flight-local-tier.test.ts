// `maxInFlightBytes` and the local tier: a miss of the tier is sent as one batch (`GET` and
// `PTTL` of its key) answering one call, and counts as one call (`CommandRoute.callers` of a
// batch: its arguments plus one command's overhead), not as two. A cold tier's fan-out of 10,000
// gets on a healthy server, well under the ~16,000 calls the default cap holds, is all answered.
import { type RedisServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BackpressureError, createCache } from '../src/index.ts'

let server: RedisServer
beforeAll(async () => {
  server = await startRedis()
}, 60_000)
afterAll(async () => {
  await server?.stop()
})

describe('the local tier and maxInFlightBytes (default cap), healthy server', () => {
  it('a cold tier: Promise.all of 10,000 gets of distinct keys gets no BackpressureError', async () => {
    const cache = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('tier'),
      local: {},
      // Generous, for a busy machine: what is checked is that nothing is refused.
      socketTimeout: 30,
    })
    try {
      await cache.set('k0', 'v')
      // The tier in use (its invalidations subscribed), its entries all cold.
      await cache.get('warm')
      await new Promise((resolve) => setTimeout(resolve, 200))
      const outcomes = await Promise.all(
        Array.from({ length: 10_000 }, (_, i) =>
          cache.get(`k${i}`).then(
            (value) => (value === 'v' ? 'found' : 'missing'),
            (error: unknown) => (error instanceof BackpressureError ? 'refused' : String(error)),
          ),
        ),
      )
      const counts: Record<string, number> = {}
      for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1
      expect(counts).toEqual({ found: 1, missing: 9999 })
    } finally {
      await cache.close()
    }
  }, 60_000)
})
