// A refused password on cachex's own Sentinel topology (the sentinels themselves refuse it) and
// on a cluster from seed URLs: the calls fail fast with the same hint as on one server, saying
// where that password goes, and a cluster whose nodes refuse it backs off as one server does
// (10 s, doubling up to 5 minutes) instead of rediscovering every 2 s — each try is a failed login
// on every seed — yet picks up a password fixed on the server at its next step.
import { type Cache, ConnectionError, createCache } from '@cachex/redis'
import {
  type SentinelDeployment,
  startCluster,
  startSentinels,
  type TestCluster,
  trackUnhandledRejections,
} from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectHint, failure, PASSWORD, WRONG, WRONGPASS_HINT } from './_auth.ts'

const SENTINEL_NOAUTH_HINT =
  /the server requires a password: give the sentinels' password as `sentinelOptions\.password`/

const opened: Cache[] = []
afterAll(async () => {
  await Promise.allSettled(opened.map((c) => c.close()))
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('Sentinel whose sentinels require a password', () => {
  let deployment: SentinelDeployment
  beforeAll(async () => {
    deployment = await startSentinels({ sentinelPassword: PASSWORD, replicas: 0, sentinels: 1 })
  }, 60_000)
  afterAll(() => deployment?.stop())

  it.each([
    // The URL's password is the data nodes': it does not reach the sentinels.
    {
      name: 'none (only in the URL)',
      location: () => `redis://:${WRONG}@${deployment.name}/0`,
      sentinelOptions: {},
      hint: SENTINEL_NOAUTH_HINT,
      code: /NOAUTH/,
    },
    {
      name: 'a wrong one',
      location: () => deployment.location,
      sentinelOptions: { password: WRONG },
      hint: WRONGPASS_HINT,
      code: /WRONGPASS/,
    },
  ])(
    'given $name: a ConnectionError that says where the sentinels’ password goes',
    async ({ location, sentinelOptions, hint, code }) => {
      const unhandled = trackUnhandledRejections()
      const cache = createCache({
        client: 'sentinel',
        location: location(),
        sentinels: deployment.addresses,
        sentinelOptions,
        socketTimeout: 3,
      })
      opened.push(cache)
      await expectHint(cache, hint, code)
      const { error } = await failure(() => cache.get('k'))
      // The sentinels, not the data nodes, refused it: the message says so.
      expect((error as Error).message).toMatch(/sentinel/)
      await cache.close()
      expect(unhandled()).toEqual([])
    },
    30_000,
  )
})

describe('cluster whose nodes refuse the password', () => {
  let cluster: TestCluster
  beforeAll(async () => {
    cluster = await startCluster({ password: PASSWORD, primaries: 3, replicasPerPrimary: 0 })
  }, 120_000)
  afterAll(() => cluster?.stop())

  /** A client of each node, with the right password. */
  async function admins() {
    return Promise.all(
      cluster.nodes.map(async (node) => {
        const client = createClient({
          socket: { host: '127.0.0.1', port: node.port },
          password: PASSWORD,
        })
        client.on('error', () => undefined)
        await client.connect()
        return client
      }),
    )
  }
  type Admin = Awaited<ReturnType<typeof admins>>[number]

  /** Connections each node accepted since `CONFIG RESETSTAT`: each login tried is one. */
  const accepted = async (all: Admin[]) =>
    Promise.all(
      all.map(async (admin) =>
        Number(/total_connections_received:(\d+)/.exec(String(await admin.info('stats')))?.[1]),
      ),
    )
  /** Failed logins in each node's ACL log since `ACL LOG RESET` (repeats are counted in one entry). */
  const failedLogins = async (all: Admin[]) =>
    Promise.all(
      all.map(async (admin) => {
        // node-redis gives each entry as an object (RESP2 arrays are mapped).
        const log = (await admin.sendCommand(['ACL', 'LOG'])) as Array<Record<string, unknown>>
        let count = 0
        for (const entry of log) if (entry.reason === 'auth') count += Number(entry.count)
        return count
      }),
    )

  it('backs off while idle (not every 2 s), failing calls fast with the hint meanwhile', async () => {
    const unhandled = trackUnhandledRejections()
    const all = await admins()
    try {
      const cache = createCache({
        client: 'cluster',
        location: cluster.nodes.map((n) => `redis://:${WRONG}@127.0.0.1:${n.port}`),
        socketTimeout: 3,
      })
      opened.push(cache)
      await Promise.all(all.map((admin) => admin.sendCommand(['CONFIG', 'RESETSTAT'])))
      await Promise.all(all.map((admin) => admin.sendCommand(['ACL', 'LOG', 'RESET'])))
      const first = await failure(() => cache.get('k'))
      expect((first.error as Error).message).toMatch(WRONGPASS_HINT)
      const start = await accepted(all)
      await sleep(5000)
      // Within the first step: at once, with the hint, and no login tried.
      await expectHint(cache, WRONGPASS_HINT, /WRONGPASS/)
      await sleep(15_000)
      const connections = (await accepted(all)).map((n, i) => n - (start[i] as number))
      const logins = await failedLogins(all)
      // One try 8–10 s after the refusal, the next 16–20 s after that: at most 2 per seed
      // (every 2 s: about 13, measured before the fix).
      for (const n of connections) expect(n).toBeLessThanOrEqual(2)
      for (const n of logins) expect(n).toBeLessThanOrEqual(3)
      await cache.close()
    } finally {
      await Promise.all(all.map((admin) => admin.close().catch(() => undefined)))
    }
    expect(unhandled()).toEqual([])
  }, 60_000)

  it('picks up a password fixed on the server at the next step, with no call', async () => {
    const all = await admins()
    const user = 'late'
    try {
      const cache = createCache({
        client: 'cluster',
        location: cluster.nodes.map((n) => `redis://${user}:${WRONG}@127.0.0.1:${n.port}`),
        socketTimeout: 3,
      })
      opened.push(cache)
      const first = await failure(() => cache.get('k'))
      expect((first.error as Error).message).toMatch(WRONGPASS_HINT)
      // The operator creates the user the cache logs in as.
      await Promise.all(
        all.map((admin) =>
          admin.sendCommand(['ACL', 'SETUSER', user, 'on', `>${WRONG}`, '~*', '&*', '+@all']),
        ),
      )
      const logins = async () =>
        Promise.all(
          all.map(async (admin) => {
            const list = String(await admin.sendCommand(['CLIENT', 'LIST']))
            return list.split('\n').filter((line) => line.includes(` user=${user} `)).length
          }),
        )
      // No call made: the background step (8–10 s after the refusal) connects.
      const started = performance.now()
      while ((await logins()).every((n) => n === 0)) {
        expect(performance.now() - started).toBeLessThan(12_000)
        await sleep(250)
      }
      // Its discovery reaches every primary before the connection is up (node-redis's
      // 'connect'); until then a call still fails at once with the last refusal.
      await expect
        .poll(() => cache.set('k', 1).catch(() => false), { timeout: 15_000, interval: 250 })
        .toBe(true)
      expect(await cache.get('k')).toBe(1)
      await cache.close()
    } finally {
      await Promise.all(all.map((admin) => admin.sendCommand(['ACL', 'DELUSER', user])))
      await Promise.all(all.map((admin) => admin.close().catch(() => undefined)))
    }
  }, 40_000)

  it('a call 10 s after the last refusal tries once itself: a fixed password is picked up', async () => {
    const all = await admins()
    const user = 'later'
    try {
      const cache = createCache({
        client: 'cluster',
        location: cluster.nodes.map((n) => `redis://${user}:${WRONG}@127.0.0.1:${n.port}`),
        socketTimeout: 3,
      })
      opened.push(cache)
      await failure(() => cache.get('k'))
      // Past the first background step (at 8–10 s, refused too): the next is 16–20 s later.
      await sleep(11_000)
      await Promise.all(
        all.map((admin) =>
          admin.sendCommand(['ACL', 'SETUSER', user, 'on', `>${WRONG}`, '~*', '&*', '+@all']),
        ),
      )
      // Refused last at most 10 s ago: this call fails fast; then one a second until one tries.
      const started = performance.now()
      for (;;) {
        try {
          expect(await cache.set('k', 2)).toBe(true)
          break
        } catch (error) {
          expect(error).toBeInstanceOf(ConnectionError)
          expect(performance.now() - started).toBeLessThan(12_000)
          await sleep(1000)
        }
      }
      expect(await cache.get('k')).toBe(2)
      await cache.close()
    } finally {
      await Promise.all(all.map((admin) => admin.sendCommand(['ACL', 'DELUSER', user])))
      await Promise.all(all.map((admin) => admin.close().catch(() => undefined)))
    }
  }, 40_000)
})
