// The local tier on a server with CLIENT renamed away (as managed services do:
// `--rename-command CLIENT ""`): the tracking connection, refused in its handshake
// (`ERR unknown command 'CLIENT'`), is not opened again every second or two for ever (it was, with
// no word of why the tier stays off), but as for an ACL refusal: after 10 s, then less and less
// often; and that is said once.
import {
  delay,
  type RedisServer,
  redisCall,
  startRedis,
  trackUnhandledRejections,
} from '@cachex/test-utils'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createCache } from '../src/index.ts'

let server: RedisServer
beforeAll(async () => {
  server = await startRedis({ args: ['--rename-command', 'CLIENT', ''] })
})
afterAll(async () => server?.stop())

/** The connections the server accepted so far, but those made to ask it. */
let asked = 0
async function connections(): Promise<number> {
  const stats = String(await redisCall(server.url, ['INFO', 'stats']))
  return Number(/total_connections_received:(\d+)/.exec(stats)?.[1]) - ++asked
}

/** The warnings the cache gave, through its logger or Node's `process.emitWarning`. */
let warnings: string[] = []
const onWarning = (warning: Error) => warnings.push(warning.message)
beforeEach(() => {
  warnings = []
  process.on('warning', onWarning)
})
afterEach(() => {
  process.off('warning', onWarning)
})

describe('local tier, a server with CLIENT renamed away', () => {
  it('stays off, does not reconnect its tracking connection over and over, and says so once', async () => {
    const unhandled = trackUnhandledRejections()
    const cache = createCache({ location: server.url, keyPrefix: 'app', local: {} })
    try {
      await cache.set('k', 1)
      expect(await cache.get('k')).toBe(1)
      // The first refusal (polled: a busy machine connects late).
      for (let i = 0; i < 100 && !warnings.some((w) => /CLIENT/.test(w)); i++) await delay(100)
      await delay(500)
      const before = await connections()
      await delay(4000)
      expect(await cache.get('k')).toBe(1)
      // Before: a new tracking connection every second or two, each refused in its handshake.
      // The next try is 8–10 s after the refusal.
      expect((await connections()) - before).toBe(0)
      expect(cache.localStats()?.tracking).toBe(false)
      const said = warnings.filter((w) => /CLIENT TRACKING/.test(w))
      expect(said).toHaveLength(1)
      expect(said[0]).toMatch(/renamed or disabled/)
      expect(said[0]).toMatch(/local tier/)
    } finally {
      await cache.close()
    }
    await delay(100)
    expect(unhandled()).toEqual([])
  }, 60_000)
})
