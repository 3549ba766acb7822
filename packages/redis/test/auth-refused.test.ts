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

  it('fails each read within 1 s with the refusal, as writes do (not after socketTimeout)', async () => {
    const cache = createCache({
      client: 'sentinel',
      location: 'redis://mymaster/0',
      sentinels: deployment.addresses,
      password: 'wrong-password',
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
      expect(ms).toBeLessThan(1000)
    }
  }, 30_000)
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
