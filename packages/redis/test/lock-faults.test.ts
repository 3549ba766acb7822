// A lock or semaphore acquisition that times out on a frozen server was sent: the server runs it
// when it wakes, and the lock (or permit) was then held by no one — for ever without a timeout.
// The token is released in the background after such a failure.
import { type Cache, CachexError, createCache } from '@cachex/redis'
import { timed } from '@cachex/test-utils'
import { useFailureHarness } from '@cachex/test-utils/failures'
import { createClient } from '@redis/client'
import { describe, expect, it } from 'vitest'
import { eventually } from './local-tier-helpers.ts'

const { server, closeAfterTest } = useFailureHarness()

describe('an acquisition that fails without an answer', () => {
  for (const kind of ['lock', 'semaphore'] as const) {
    it(`${kind} without a timeout: what the frozen server ran when it woke is released`, async () => {
      const s = await server()
      const cache: Cache = closeAfterTest(
        createCache({
          location: s.url,
          keyPrefix: 'lf',
          socketTimeout: 0.5,
          socketConnectTimeout: 0.5,
        }),
      )
      const raw = createClient({ url: s.url })
      raw.on('error', () => undefined)
      await raw.connect()
      closeAfterTest({ close: () => raw.close() })
      await cache.set('warm', 1)
      const holder =
        kind === 'lock' ? cache.lock('L') : cache.semaphore('L', { limit: 1, timeout: null })
      s.pause()
      const attempt = await timed(holder.acquire())
      expect(attempt.error).toBeInstanceOf(CachexError)
      s.resume()
      // The server ran the acquisition it had been sent; the token goes again a moment later.
      const rkey = cache.makeKey('L')
      await eventually(async () => Number(await raw.sendCommand(['EXISTS', rkey])) === 0)
      const other =
        kind === 'lock' ? cache.lock('L') : cache.semaphore('L', { limit: 1, timeout: null })
      expect(await other.acquire({ blocking: false })).toBe(true)
      await other.release()
    }, 90_000)
  }
})
