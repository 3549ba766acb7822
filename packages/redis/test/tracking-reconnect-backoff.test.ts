// The local tier's tracking connection lost, or left without tracking, right after it connects:
// - A server whose `client-output-buffer-limit normal …` (managed services expose it) one
//   invalidation push overflows kills the tracking connection whenever a write under the prefix
//   lands. node-redis reconnects a connection that was ready at once, so under steady writes it was
//   opened again in a loop (521–1,255 handshakes in 5 s): now a connection lost within 5 s of coming
//   up is opened again 100 ms later, doubling up to 2 s, and the tier stays off meanwhile.
// - `CLIENT TRACKING ON … BCAST`, sent after the handshake, answered with a passing error (`-BUSY`:
//   another client's script started in between) left the tier off for good on a healthy
//   connection, waiting for a reconnection that never came: now it is tried again.

import { delay, type RedisServer, redisCall, startRedis, uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, describe, expect, it } from 'vitest'
import { createCache } from '../src/index.ts'
import { proxiedRedis } from './_resp-proxy.ts'

const stops: Array<() => Promise<unknown>> = []
afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => {})
})

describe('tracking connection killed by the output buffer limit under a write flood', () => {
  it('reconnects with a backoff, serves no stale value, and is on again once the flood stops', async () => {
    const server: RedisServer = await startRedis({
      args: ['--client-output-buffer-limit', 'normal 32kb 16kb 1'],
    })
    stops.push(() => server.stop())
    const writer = createClient({ url: server.url })
    writer.on('error', () => {})
    await writer.connect()
    stops.push(() => writer.close())
    const keyPrefix = uniquePrefix('storm')
    const cache = createCache({ location: server.url, keyPrefix, local: {} })
    stops.push(() => cache.close())
    const other = createCache({ location: server.url, keyPrefix })
    stops.push(() => other.close())
    await other.set('s', 0)
    expect(await cache.get('s')).toBe(0)
    const until = Date.now() + 10_000
    while (!cache.localStats()?.tracking && Date.now() < until) await delay(20)
    expect(cache.localStats()?.tracking).toBe(true)

    // Each MSET: one push of 2,000 keys (~70 KB), past the 32 KB hard limit.
    const flood = [
      'MSET',
      ...Array.from({ length: 2000 }, (_, i) => [cache.makeKey(`f${i}`), 'x']).flat(),
    ]
    let asked = 0
    const received = async () =>
      Number(
        /total_connections_received:(\d+)/.exec(
          String(await redisCall(server.url, ['INFO', 'stats'])),
        )?.[1],
      ) - asked++
    const before = await received()
    let stop = false
    let writes = 0
    const flooding = (async () => {
      while (!stop) {
        await writer.sendCommand(flood).catch(() => {})
        if (++writes % 10 === 0) await delay(0)
      }
    })()
    // Meanwhile, another client changes a key the tier may hold: a read a while later never
    // returns an older value.
    const stale: string[] = []
    const end = Date.now() + 5000
    for (let n = 1; Date.now() < end; n++) {
      await other.set('s', n)
      await delay(300)
      const seen = await cache.get('s')
      if (seen !== n) stale.push(`${n}: ${String(seen)}`)
    }
    stop = true
    await flooding
    const connections = (await received()) - before
    console.log(`${writes} floods in 5 s: ${connections} connections`)
    expect(writes).toBeGreaterThan(10)
    expect(stale).toEqual([])
    // Before: 521–1,255. With the backoff (100 ms doubling to 2 s): a handful.
    expect(connections).toBeLessThan(60)

    // The flood over, tracking comes back on (the backoff waits 2 s at most).
    const back = Date.now() + 10_000
    while (!cache.localStats()?.tracking && Date.now() < back) await delay(50)
    expect(cache.localStats()?.tracking).toBe(true)
    await other.set('s', 'last')
    await delay(300)
    expect(await cache.get('s')).toBe('last')
    expect(await cache.get('s')).toBe('last')
  }, 60_000)
})

const env = proxiedRedis()

describe('CLIENT TRACKING ON … BCAST answered BUSY once', () => {
  it('tracking comes on once the server answers', async () => {
    let refused = 0
    env.proxy.tamper = (args) => {
      if (
        refused === 0 &&
        args[0]?.toUpperCase() === 'CLIENT' &&
        args[1]?.toUpperCase() === 'TRACKING' &&
        args[3]?.toUpperCase() === 'BCAST'
      ) {
        refused++
        return '-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n'
      }
      return undefined
    }
    const cache = createCache({
      location: env.proxy.url,
      keyPrefix: uniquePrefix('bcast'),
      local: {},
    })
    try {
      await cache.set('k', 'v')
      const until = Date.now() + 10_000
      while (!cache.localStats()?.tracking && Date.now() < until) {
        await cache.get('k')
        await delay(100)
      }
      expect(refused).toBe(1)
      expect(cache.localStats()?.tracking).toBe(true)
      expect(env.crashes).toEqual([])
    } finally {
      env.proxy.tamper = undefined
      await cache.close()
    }
  }, 30_000)
})

describe('the keepalive PING answered BUSY', () => {
  it('leaves tracking on, or brings it back, on a healthy connection', async () => {
    let busy = false
    let refused = 0
    env.proxy.tamper = (args) => {
      if (busy && args.length === 1 && args[0]?.toUpperCase() === 'PING') {
        refused++
        return '-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n'
      }
      return undefined
    }
    const cache = createCache({
      location: env.proxy.url,
      keyPrefix: uniquePrefix('ping'),
      local: {},
      clientOptions: { pingInterval: 100 },
    })
    try {
      await cache.set('k', 'v')
      await cache.get('k')
      let until = Date.now() + 10_000
      while (!cache.localStats()?.tracking && Date.now() < until) await delay(20)
      expect(cache.localStats()?.tracking).toBe(true)
      busy = true
      until = Date.now() + 10_000
      while (refused < 6 && Date.now() < until) await delay(20)
      const during = cache.localStats()?.tracking
      busy = false
      console.log('tracking while PING is answered BUSY:', during)
      until = Date.now() + 10_000
      while (!cache.localStats()?.tracking && Date.now() < until) {
        await cache.get('k')
        await delay(100)
      }
      expect(refused).toBeGreaterThanOrEqual(6)
      expect(cache.localStats()?.tracking).toBe(true)
    } finally {
      env.proxy.tamper = undefined
      await cache.close()
    }
  }, 30_000)
})
