// A server that refuses the connection's credentials (a wrong password, an unknown ACL user):
// calls fail fast with the refusal on every topology, Sentinel included, and the connection backs
// off instead of knocking every 2 s (each knock is a failed AUTH in the server's ACL log), yet
// picks up a password fixed on the server within about 10 s of a call.

import { type Cache, ConnectionError, createCache } from '@cachex/redis'
import {
  commandCalls,
  type RedisServer,
  type SentinelDeployment,
  startRedis,
  startSentinels,
} from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const PASSWORD = 'right-password'
const opened: Cache[] = []

afterAll(async () => {
  await Promise.allSettled(opened.map((c) => c.close()))
})

/** The error `run` rejects with, and how long it took, in milliseconds. */
async function failure(run: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const start = performance.now()
  try {
    await run()
  } catch (error) {
    return { error, ms: performance.now() - start }
  }
  throw new Error('the call succeeded')
}

describe('Sentinel with a wrong data password', () => {
  let deployment: SentinelDeployment
  beforeAll(async () => {
    deployment = await startSentinels({ password: PASSWORD, replicas: 1, sentinels: 1, quorum: 1 })
  })
  afterAll(() => deployment?.stop())

  it('fails each read with the refusal, as writes do, not after the socketTimeout', async () => {
    const cache = createCache({
      client: 'sentinel',
      location: 'redis://mymaster/0',
      sentinels: deployment.addresses,
      password: 'wrong-password',
      // Far above the bound below: a read that waited it out would fail the test, while a busy
      // machine's slow first handshake does not.
      socketTimeout: 30,
    })
    opened.push(cache)
    for (const call of [
      () => cache.get('k'),
      () => cache.set('k', 1),
      () => cache.get('k'),
      () => cache.hasKey('k'),
      () => cache.getMany(['k', 'l']),
    ]) {
      const { error, ms } = await failure(call)
      expect(error).toBeInstanceOf(ConnectionError)
      expect((error as Error).message).toMatch(/WRONGPASS/)
      expect((error as Error).message).not.toContain('wrong-password')
      expect(ms).toBeLessThan(15_000)
    }
  }, 120_000)
})

describe('Sentinel with a wrong sentinel password', () => {
  it('fails fast with the refusal, and its sentinel clients back off while idle', async () => {
    const deployment = await startSentinels({ sentinelPassword: 'right-sentinel-pw', sentinels: 1 })
    const [host, port] = deployment.addresses[0] as readonly [string, number]
    const admin = createClient({ socket: { host, port }, password: 'right-sentinel-pw' })
    admin.on('error', () => {})
    try {
      await admin.connect()
      /** Connections the sentinel has accepted so far: each retry of cachex's is one. */
      const accepted = async () =>
        Number(/total_connections_received:(\d+)/.exec(String(await admin.info('stats')))?.[1])
      const cache = createCache({
        client: 'sentinel',
        location: deployment.location,
        sentinels: deployment.addresses,
        sentinelOptions: { password: 'wrong-sentinel-pw' },
      })
      opened.push(cache)
      const { error, ms } = await failure(() => cache.get('k'))
      expect((error as Error).message).toMatch(/WRONGPASS/)
      expect((error as Error).message).not.toContain('wrong-sentinel-pw')
      expect(ms).toBeLessThan(5000)
      const before = await accepted()
      await new Promise((resolve) => setTimeout(resolve, 12_000))
      // node-redis's own retry knocks every ≤ 2 s (10 in 12 s, measured); backing off, at most
      // one knock 8–10 s after the refusal.
      expect((await accepted()) - before).toBeLessThanOrEqual(2)
    } finally {
      await admin.close().catch(() => {})
      await deployment.stop()
    }
  }, 40_000)
})

describe('standalone with a wrong password', () => {
  const servers: RedisServer[] = []
  const controls: Array<{ close(): Promise<unknown> }> = []
  afterAll(async () => {
    await Promise.allSettled(controls.map((c) => c.close()))
    await Promise.all(servers.map((s) => s.stop()))
  })

  it('backs off while idle, fails calls fast meanwhile, and recovers once the password is fixed', async () => {
    const variants = [
      { name: 'plain', extra: {}, most: 3 },
      // The tracking connection of the local tier backs off too.
      { name: 'local tier', extra: { local: { maxEntries: 10 } }, most: 5 },
      // Each step reopens the whole pool (4 handshakes): 8 in the window, not one per slot per 2 s.
      { name: 'pool of 4', extra: { connectionPool: { minimum: 4, maximum: 8 } }, most: 8 },
    ]
    const setups = await Promise.all(
      variants.map(async (variant) => {
        const server = await startRedis({ args: ['--requirepass', PASSWORD] })
        servers.push(server)
        const control = createClient({
          socket: { host: '127.0.0.1', port: server.port },
          password: PASSWORD,
        })
        control.on('error', () => undefined)
        controls.push(control)
        await control.connect()
        await control.sendCommand(['CONFIG', 'RESETSTAT'])
        const cache = createCache({
          location: `redis://:wrong@127.0.0.1:${server.port}/0`,
          ...variant.extra,
        } as never)
        opened.push(cache)
        return { ...variant, control, cache }
      }),
    )
    for (const { cache } of setups) {
      const { error, ms } = await failure(() => cache.get('k'))
      expect(error).toBeInstanceOf(ConnectionError)
      expect((error as Error).message).toMatch(/WRONGPASS/)
      expect(ms).toBeLessThan(1000)
    }
    // Idle: today's 2 s backoff makes ~6 handshakes per connection in this window.
    await new Promise((resolve) => setTimeout(resolve, 11_000))
    for (const { name, control, cache, most } of setups) {
      const handshakes = await commandCalls(control, 'hello')
      expect(handshakes, name).toBeLessThanOrEqual(most)
      expect(handshakes, name).toBeGreaterThanOrEqual(1)
      // Meanwhile calls fail fast with the refusal.
      const { error, ms } = await failure(() => cache.get('k'))
      expect((error as Error).message, name).toMatch(/WRONGPASS/)
      expect(ms, name).toBeLessThan(1000)
    }
    // The password is fixed on the server: a call made 10 s after the last refused attempt tries
    // once more (docs/configuration.md), so calls succeed again within about 10 s.
    const { control, cache } = setups[0] as (typeof setups)[0]
    await control.sendCommand(['CONFIG', 'SET', 'requirepass', 'wrong'])
    const fixed = performance.now()
    let value: unknown = 'failing'
    while (performance.now() - fixed < 13_000) {
      try {
        await cache.set('k', 'v')
        value = await cache.get('k')
        break
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    }
    expect(value).toBe('v')
  }, 40_000)
})

describe('a password made wrong while connected', () => {
  const servers: RedisServer[] = []
  const controls: Array<{ close(): Promise<unknown> }> = []
  afterAll(async () => {
    await Promise.allSettled(controls.map((c) => c.close()))
    await Promise.all(servers.map((s) => s.stop()))
  })

  it('is detected on a pool as on one client: calls fail fast with the refusal, no knocking every 2 s, back once fixed', async () => {
    const variants = [
      { name: 'plain', extra: {} },
      // node-redis retries each client of a pool every 2 s by itself, and says "The client is
      // offline" to every call meanwhile: the refusal must be seen through it.
      { name: 'pool', extra: { connectionPool: { minimum: 2, maximum: 4 } } },
    ]
    await Promise.all(
      variants.map(async ({ name, extra }) => {
        const server = await startRedis({ args: ['--requirepass', PASSWORD] })
        servers.push(server)
        const control = createClient({
          socket: { host: '127.0.0.1', port: server.port },
          password: PASSWORD,
        })
        control.on('error', () => undefined)
        controls.push(control)
        await control.connect()
        const cache = createCache({
          location: `redis://:${PASSWORD}@127.0.0.1:${server.port}/0`,
          ...extra,
        } as never)
        opened.push(cache)
        await cache.set('k', 'v')
        // The password changes on the server, and the connections are cut: each reconnects
        // with the old one.
        await control.sendCommand(['CONFIG', 'SET', 'requirepass', 'changed'])
        await control.sendCommand(['AUTH', 'changed'])
        await control.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'])
        await new Promise((resolve) => setTimeout(resolve, 500))
        await control.sendCommand(['CONFIG', 'RESETSTAT'])
        const first = await failure(() => cache.get('k'))
        expect((first.error as Error).message, name).toMatch(/WRONGPASS/)
        expect(first.ms, name).toBeLessThan(2500)
        // Idle for 6 s, less than the first step of the backoff (8 to 10 s): node-redis alone
        // would knock every 2 s on each client (3 handshakes per client).
        await new Promise((resolve) => setTimeout(resolve, 6000))
        const handshakes =
          (await commandCalls(control, 'hello')) + (await commandCalls(control, 'auth'))
        expect(handshakes, name).toBeLessThanOrEqual(2)
        const meanwhile = await failure(() => cache.get('k'))
        expect((meanwhile.error as Error).message, name).toMatch(/WRONGPASS/)
        expect(meanwhile.ms, name).toBeLessThan(1000)
        // Fixed on the server: picked up within about 10 s of the refusal (by the background
        // attempt, or by a call).
        await control.sendCommand(['CONFIG', 'SET', 'requirepass', PASSWORD])
        const fixed = performance.now()
        let value: unknown = 'failing'
        while (performance.now() - fixed < 8000) {
          try {
            value = await cache.get('k')
            break
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 200))
          }
        }
        expect(value, name).toBe('v')
      }),
    )
  }, 30_000)
})
