// A blocking command (BLPOP, XREAD … BLOCK) runs on a connection of its own. When the server
// refuses that connection with an error reply during the handshake (`max number of clients
// reached`, then it hangs up), the call rejects at once with a ConnectionError naming the
// server's reason — not after the whole socketConnectTimeout with a bare "within N ms" — as the
// data connection does (error-hints.test.ts). The calls right after it fail at once too, without
// knocking again, and blocking calls work again once the server takes connections.
import { type Cache, ConnectionError, createCache } from '@cachex/redis'
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterEach, describe, expect, it } from 'vitest'

const PASSWORD = 'blocking-secret-pw'
/** Far above any bound below: a call that waited for it would fail every bound. */
const CONNECT_TIMEOUT_S = 20
/** "At once", with room for a machine whose every core is busy. */
const AT_ONCE_MS = 5000

function adminOf(s: RedisServer) {
  const admin = createClient({ url: s.url })
  admin.on('error', () => undefined)
  return admin
}
type Admin = ReturnType<typeof adminOf>
let cleanup: (() => Promise<void>) | undefined

afterEach(async () => {
  await cleanup?.()
  cleanup = undefined
})

/** A server with a password, an admin client on it, and a cache whose data connection is up. */
async function setup(prefix: string): Promise<{ s: RedisServer; admin: Admin; cache: Cache }> {
  const s = await startRedis({ password: PASSWORD })
  const admin = adminOf(s)
  await admin.connect()
  const cache = createCache({
    location: s.url,
    keyPrefix: prefix,
    socketConnectTimeout: CONNECT_TIMEOUT_S,
  })
  cleanup = async () => {
    await admin.sendCommand(['CONFIG', 'SET', 'maxclients', '1000']).catch(() => undefined)
    await cache.close()
    await admin.close()
    await s.stop()
  }
  await cache.set('warm', 1)
  return { s, admin, cache }
}

/** No new connection taken from now on: `maxclients` is the count of clients connected. */
async function fill(admin: Admin): Promise<void> {
  const n = String(await admin.sendCommand(['CLIENT', 'LIST']))
    .trim()
    .split('\n').length
  await admin.sendCommand(['CONFIG', 'SET', 'maxclients', String(n)])
}

async function rejected(admin: Admin): Promise<number> {
  const info = String(await admin.sendCommand(['INFO', 'stats']))
  return Number(/rejected_connections:(\d+)/.exec(info)?.[1])
}

/** The error `call` rejects with (undefined if it resolves), and how long it took. */
async function timed(call: () => Promise<unknown>): Promise<{ error?: Error; ms: number }> {
  const t0 = performance.now()
  const error = await call().then(
    () => undefined,
    (e: unknown) => e as Error,
  )
  return { error, ms: performance.now() - t0 }
}

function expectRefused(error: Error | undefined): void {
  expect(error).toBeInstanceOf(ConnectionError)
  expect(error?.message).toMatch(/max number of clients reached/)
  expect(error?.message).toMatch(/blocking command/)
  expect(error?.message).not.toContain(PASSWORD)
}

describe('a blocking command whose own connection the server refuses', () => {
  for (const kind of ['blpop', 'xread'] as const) {
    it(`${kind} rejects at once, naming the server's reason`, async () => {
      const { admin, cache } = await setup(`bcr-${kind}`)
      await cache.xadd('st', { a: 1 })
      await fill(admin)
      const { error, ms } = await timed(() =>
        kind === 'blpop' ? cache.blpop(['q'], 1) : cache.xread({ st: '$' }, { block: 1000 }),
      )
      expectRefused(error)
      expect(ms).toBeLessThan(AT_ONCE_MS)
    }, 60_000)
  }

  it('the calls right after fail at once without connecting; calls work once it accepts', async () => {
    const { admin, cache } = await setup('bcr-again')
    await fill(admin)
    const before = await rejected(admin)
    const first = await timed(() => cache.blpop(['q'], 0.1))
    expectRefused(first.error)
    expect(first.ms).toBeLessThan(AT_ONCE_MS)
    for (let i = 0; i < 2; i++) {
      const next = await timed(() => cache.blpop(['q'], 0.1))
      expectRefused(next.error)
      expect(next.ms).toBeLessThan(AT_ONCE_MS)
    }
    // The first call's connection, and at most one more (a call past the backoff's first step).
    expect((await rejected(admin)) - before).toBeLessThanOrEqual(2)

    await admin.sendCommand(['CONFIG', 'SET', 'maxclients', '1000'])
    await cache.rpush('q', 'v')
    const deadline = performance.now() + 15_000
    let popped: unknown
    for (;;) {
      const outcome = await cache.blpop(['q'], 1).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      )
      if ('value' in outcome) {
        popped = outcome.value
        break
      }
      expectRefused(outcome.error as Error)
      if (performance.now() > deadline) throw outcome.error
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(popped).toEqual(['q', 'v'])
  }, 120_000)

  // Several workers looping on blpop are refused together: one refusal, not one per worker. Each
  // counted, 8 of them pushed the backoff to its longest step at once (2 s; 5 minutes for a
  // password, blocking calls failing minutes after it was fixed).
  it('blocking calls refused together back off one step: 100 ms (max clients)', async () => {
    const { admin, cache } = await setup('bcr-burst')
    await fill(admin)
    await Promise.all(Array.from({ length: 8 }, () => cache.blpop(['q'], 0.5).catch(() => null)))
    const next = await timed(() => cache.blpop(['q'], 0.5))
    expectRefused(next.error)
    const ms = Number(/not trying again for (\d+) ms/.exec(next.error?.message ?? '')?.[1] ?? 0)
    expect(ms).toBeLessThanOrEqual(100)
  }, 60_000)

  it('blocking calls refused together back off one step: 10 s (a password)', async () => {
    const s = await startRedis()
    const admin = adminOf(s)
    await admin.connect()
    await admin.sendCommand(['ACL', 'SETUSER', 'worker', 'on', '>first', '~*', '&*', '+@all'])
    const cache = createCache({
      location: `redis://worker:first@127.0.0.1:${s.port}`,
      keyPrefix: 'bcr-password',
    })
    cleanup = async () => {
      await cache.close()
      await admin.close()
      await s.stop()
    }
    await cache.set('warm', 1)
    // The password changes on the server: the cache's data connection stays logged in.
    await admin.sendCommand(['ACL', 'SETUSER', 'worker', 'resetpass', '>second'])
    await Promise.all(Array.from({ length: 8 }, () => cache.blpop(['q'], 0.5).catch(() => null)))
    const next = await timed(() => cache.blpop(['q'], 0.5))
    expect(next.error).toBeInstanceOf(ConnectionError)
    const ms = Number(/not trying again for (\d+) ms/.exec(next.error?.message ?? '')?.[1] ?? 0)
    expect(ms).toBeGreaterThan(0)
    expect(ms).toBeLessThanOrEqual(10_000)
  }, 60_000)
})
