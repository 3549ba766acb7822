// close() while a blocking call (xread, xreadgroup, blpop with a block) is still opening the
// dedicated client it runs on: the server froze after the cache's main connection was up, so the
// opening would take all of socketConnectTimeout. close() ends the call at once with ClosedError.
import { ClosedError, createCache } from '@cachex/redis'
import { delay, timed } from '@cachex/test-utils'
import { useFailureHarness } from '@cachex/test-utils/failures'
import { describe, expect, it } from 'vitest'

const { server } = useFailureHarness()

describe('close() while a blocking call opens its dedicated client', () => {
  for (const kind of ['xread', 'xreadgroup', 'blpop'] as const) {
    it(`${kind}: the call rejects with ClosedError at once, not after socketConnectTimeout`, async () => {
      const s = await server()
      const cache = createCache({
        location: s.url,
        keyPrefix: 'bco',
        socketTimeout: 5,
        socketConnectTimeout: 5,
      })
      // The main connection is up; the blocking call will need a client of its own.
      await cache.xgroupCreate('s', 'g', { mkstream: true })
      s.pause()
      const call = timed<unknown>(
        kind === 'xread'
          ? cache.xread({ s: '$' }, { block: 10_000 })
          : kind === 'xreadgroup'
            ? cache.xreadgroup('g', 'c', { s: '>' }, { block: 10_000 })
            : cache.blpop('l', 10),
      )
      await delay(300)
      const closing = await timed(cache.close())
      const result = await call
      expect(closing.ms).toBeLessThan(2000)
      expect(result.error).toBeInstanceOf(ClosedError)
      // 300 ms of waiting before close(), then at once (socketConnectTimeout is 5 s).
      expect(result.ms).toBeLessThan(2000)
    }, 30_000)
  }
})
