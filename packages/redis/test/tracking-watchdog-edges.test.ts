// The tracking connection's watchdog (a connection silent past its keepalive PING's deadline is
// lost) watches a connection from when it connects, not only once tracking is on: one gone silent
// in its handshake or at its CLIENT TRACKING … BCAST left the tier off for good. And a late
// watchdog (this process's own event loop blocked) does not count the block as the connection's
// silence: a 7 s block emptied the tier and replaced a healthy connection.
import { type RedisServer, redisCall, startRedis, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createCache } from '../src/index.ts'
import { silentProxy } from './_silent-proxy.ts'

let server: RedisServer
beforeAll(async () => {
  server = await startRedis()
}, 60_000)
afterAll(async () => {
  await server?.stop()
})
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

for (const [name, silence] of [
  // after 'ready', at the CLIENT TRACKING ON … BCAST the tier sends
  [
    'at its CLIENT TRACKING … BCAST',
    (_: number, data: Buffer) => data.toString('latin1').toUpperCase().includes('BCAST'),
  ],
  // from its first byte: the handshake (HELLO, CLIENT TRACKING) is never answered
  ['in its handshake', (index: number) => index === 1],
] as const) {
  it(`a tracking connection that goes silent ${name} is replaced: the tier comes back on`, async () => {
    let once = false
    const proxy = await silentProxy(server.port, (index, data) => {
      if (once || !silence(index, data)) return false
      once = true
      return true
    })
    const cache = createCache({
      location: proxy.url,
      keyPrefix: uniquePrefix('silent-early'),
      local: {},
      clientOptions: { pingInterval: 300 },
    })
    try {
      await cache.set('k', 'v')
      await cache.get('k') // opens the tracking connection, which goes silent
      const deadline = Date.now() + 20_000 // pingInterval + 5 s grace, plenty over
      while (cache.localStats()?.tracking !== true && Date.now() < deadline) await sleep(50)
      // Before: false after 20 s (and for good), only the one silent tracking connection made.
      expect({ tracking: cache.localStats()?.tracking, connections: proxy.pairs.length }).toEqual({
        tracking: true,
        connections: 3,
      })
    } finally {
      await cache.close()
      await proxy.close()
    }
  }, 60_000)
}

it('a healthy tracking connection stays up through a 7 s block of this event loop (pingInterval 1000)', async () => {
  const cache = createCache({
    location: server.url,
    keyPrefix: uniquePrefix('blocked'),
    local: {},
    clientOptions: { pingInterval: 1000 },
  })
  const connections = async () =>
    Number(
      /total_connections_received:(\d+)/.exec(
        String(await redisCall(server.url, ['INFO', 'stats'])),
      )?.[1],
    )
  try {
    await cache.get('k')
    const deadline = Date.now() + 10_000
    while (cache.localStats()?.tracking !== true && Date.now() < deadline) await sleep(20)
    const before = await connections()
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        const until = performance.now() + 7000
        while (performance.now() < until) {
          /* a long synchronous task */
        }
        resolve()
      }),
    )
    await sleep(50)
    const tracking = cache.localStats()?.tracking
    await sleep(2000)
    // Before: tracking false right after, and a new tracking connection (the tier emptied): the
    // watchdog ran in the timers phase before the PING — not even sent during the block — could be.
    expect({ tracking, newConnections: (await connections()) - before - 1 }).toEqual({
      tracking: true,
      newConnections: 0,
    })
  } finally {
    await cache.close()
  }
}, 60_000)
