// A server that requires a password given none (`NOAUTH`) or a wrong one (`WRONGPASS`) gets the
// same typed error and the same hint on a cluster and on a handed-in node-redis `RedisSentinel`
// as on a standalone connection (docs/troubleshooting.md): Redis's own text ("NOAUTH
// Authentication required.") never says where the password goes. The password is never echoed.
import { type Cache, ConnectionError, createCache, TimeoutError } from '@cachex/redis'
import {
  type SentinelDeployment,
  startCluster,
  startSentinels,
  type TestCluster,
  trackUnhandledRejections,
} from '@cachex/test-utils'
import { createClient, createCluster, createSentinel } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectHint, failure, PASSWORD, WRONG, WRONGPASS_HINT } from './_auth.ts'

const NOAUTH_HINT = /the server requires a password: put it in the URL .* or the `password` option/

const opened: Cache[] = []
afterAll(async () => {
  await Promise.allSettled(opened.map((c) => c.close()))
})

describe('cluster whose nodes require a password', () => {
  let cluster: TestCluster
  beforeAll(async () => {
    cluster = await startCluster({ password: PASSWORD, primaries: 3, replicasPerPrimary: 0 })
  }, 120_000)
  afterAll(() => cluster?.stop())

  const seeds = (auth: string) => cluster.nodes.map((n) => `redis://${auth}127.0.0.1:${n.port}`)

  it('given no password: a ConnectionError that says where the password goes', async () => {
    const unhandled = trackUnhandledRejections()
    const cache = createCache({ client: 'cluster', location: seeds(''), socketTimeout: 3 })
    opened.push(cache)
    await expectHint(cache, NOAUTH_HINT, /NOAUTH/)
    expect(unhandled()).toEqual([])
  }, 30_000)

  it('given a wrong password: a ConnectionError that says the credentials are wrong', async () => {
    const unhandled = trackUnhandledRejections()
    const cache = createCache({
      client: 'cluster',
      location: seeds(`:${WRONG}@`),
      socketTimeout: 3,
    })
    opened.push(cache)
    await expectHint(cache, WRONGPASS_HINT, /WRONGPASS/)
    expect(unhandled()).toEqual([])
  }, 30_000)

  it('given a wrong password as the `password` option: the same, and the option is not echoed', async () => {
    const cache = createCache({
      client: 'cluster',
      location: seeds(''),
      password: WRONG,
      socketTimeout: 3,
    })
    opened.push(cache)
    await expectHint(cache, WRONGPASS_HINT, /WRONGPASS/)
  }, 30_000)
})

describe('cluster whose nodes refuse the user on some nodes only', () => {
  let cluster: TestCluster
  beforeAll(async () => {
    cluster = await startCluster({ password: PASSWORD, primaries: 3, replicasPerPrimary: 0 })
    // A user known to the first node only: every other node refuses it (WRONGPASS).
    const port = (cluster.nodes[0] as { port: number }).port
    const admin = createClient({ socket: { host: '127.0.0.1', port }, password: PASSWORD })
    admin.on('error', () => {})
    await admin.connect()
    await admin.sendCommand(['ACL', 'SETUSER', 'half', 'on', `>${WRONG}`, '~*', '&*', '+@all'])
    await admin.close()
  }, 120_000)
  afterAll(() => cluster?.stop())

  it('a call to a node that refuses it: at once, with the hint, not the password', async () => {
    const first = cluster.nodes[0] as { port: number }
    const cache = createCache({
      client: 'cluster',
      location: [`redis://half:${WRONG}@127.0.0.1:${first.port}`],
      socketTimeout: 3,
    })
    opened.push(cache)
    let key = ''
    for (let i = 0; key === ''; i++) {
      if ((await cluster.primaryFor(cache.makeKey(`k${i}`))).port !== first.port) key = `k${i}`
    }
    for (const attempt of [1, 2]) {
      const { error, ms } = await failure(() => cache.set(key, attempt))
      expect(error).toBeInstanceOf(ConnectionError)
      const message = (error as Error).message
      expect(message).toMatch(WRONGPASS_HINT)
      expect(message).toMatch(/WRONGPASS/)
      expect(message).toMatch(/ACL users and passwords are set on each node/)
      expect(message).not.toContain(WRONG)
      expect(ms).toBeLessThan(1500)
    }
  }, 30_000)
})

describe('handed-in RedisCluster whose nodes require a password', () => {
  let cluster: TestCluster
  beforeAll(async () => {
    cluster = await startCluster({ password: PASSWORD, primaries: 3, replicasPerPrimary: 0 })
  }, 120_000)
  afterAll(() => cluster?.stop())

  it('given no password: the hint names its `defaults`', async () => {
    const given = createCluster({
      rootNodes: cluster.nodes.map((n) => ({ url: `redis://127.0.0.1:${n.port}` })),
    }).on('error', () => {})
    const cache = createCache({ client: 'cluster', location: given as never, socketTimeout: 3 })
    opened.push(cache)
    try {
      await expectHint(
        cache,
        /the server requires a password: give it in the `defaults` of the RedisCluster you handed in/,
        /NOAUTH/,
      )
    } finally {
      await cache.close()
      await given.destroy()
    }
  }, 30_000)
})

describe('handed-in RedisSentinel whose data nodes require a password', () => {
  let deployment: SentinelDeployment
  beforeAll(async () => {
    deployment = await startSentinels({ password: PASSWORD, replicas: 0, sentinels: 1 })
  }, 60_000)
  afterAll(() => deployment?.stop())

  const given = (password: string | undefined, extra: object) =>
    createSentinel({
      name: deployment.name,
      sentinelRootNodes: deployment.addresses.map(([host, port]) => ({ host, port })),
      ...(password === undefined ? {} : { nodeClientOptions: { password } }),
      ...extra,
    }).on('error', () => {})

  const SENTINEL_NOAUTH_HINT =
    /the server requires a password: give it in the `nodeClientOptions` of the RedisSentinel you handed in/

  // node-redis's RedisSentinel tells of its node clients' errors only with
  // passthroughClientErrorEvents: then the refusal is known at once.
  it.each([
    { name: 'no password', password: undefined, hint: SENTINEL_NOAUTH_HINT, code: /NOAUTH/ },
    { name: 'a wrong password', password: WRONG, hint: WRONGPASS_HINT, code: /WRONGPASS/ },
  ])(
    'given $name, with passthroughClientErrorEvents: the hint at once',
    async ({ password, hint, code }) => {
      const unhandled = trackUnhandledRejections()
      const sentinel = given(password, { passthroughClientErrorEvents: true })
      const cache = createCache({
        location: sentinel as never,
        sentinels: deployment.addresses,
        password,
        socketTimeout: 3,
      })
      opened.push(cache)
      try {
        await expectHint(cache, hint, code)
      } finally {
        await cache.close()
        await sentinel.destroy().catch(() => {})
      }
      expect(unhandled()).toEqual([])
    },
    30_000,
  )

  // Otherwise node-redis says why only once it gives up (after maxCommandRediscovers tries, one
  // a second): from then on, the calls fail at once with the hint.
  it.each([
    { name: 'no password', password: undefined, hint: SENTINEL_NOAUTH_HINT, code: /NOAUTH/ },
    { name: 'a wrong password', password: WRONG, hint: WRONGPASS_HINT, code: /WRONGPASS/ },
  ])(
    'given $name, once node-redis gives up: the hint at once',
    async ({ password, hint, code }) => {
      const unhandled = trackUnhandledRejections()
      const sentinel = given(password, { maxCommandRediscovers: 1 })
      const cache = createCache({
        location: sentinel as never,
        sentinels: deployment.addresses,
        password,
        socketTimeout: 3,
      })
      opened.push(cache)
      try {
        // node-redis gives up after about 2 s: the first call waits for it, within
        // socketConnectTimeout (5 s).
        const first = await failure(() => cache.get('k'))
        expect((first.error as Error).message).toMatch(hint)
        expect(first.error).toBeInstanceOf(ConnectionError)
        await expectHint(cache, hint, code)
      } finally {
        await cache.close()
        await sentinel.destroy().catch(() => {})
      }
      expect(unhandled()).toEqual([])
    },
    30_000,
  )

  // With node-redis's defaults (16 tries a second apart, no client errors passed through), the
  // first calls time out saying how to learn why; once node-redis gives up, they carry the hint.
  it('given no password, with node-redis defaults: how to learn why, then the hint', async () => {
    const unhandled = trackUnhandledRejections()
    const sentinel = given(undefined, {})
    const cache = createCache({
      location: sentinel as never,
      sentinels: deployment.addresses,
      socketConnectTimeout: 2,
      socketTimeout: 3,
    })
    opened.push(cache)
    try {
      const first = await failure(() => cache.get('k'))
      expect(first.error).toBeInstanceOf(TimeoutError)
      expect((first.error as Error).message).toMatch(/passthroughClientErrorEvents: true/)
      const started = performance.now()
      let last: unknown
      while (performance.now() - started < 30_000) {
        const { error, ms } = await failure(() => cache.get('k'))
        last = error
        if (SENTINEL_NOAUTH_HINT.test((error as Error).message)) break
        expect(ms).toBeLessThan(2500)
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
      expect((last as Error).message).toMatch(SENTINEL_NOAUTH_HINT)
      expect(last).toBeInstanceOf(ConnectionError)
      await expectHint(cache, SENTINEL_NOAUTH_HINT, /NOAUTH/)
    } finally {
      await cache.close()
      await sentinel.destroy().catch(() => {})
    }
    expect(unhandled()).toEqual([])
  }, 60_000)

  // A password changed on the server while connected: node-redis's clients of the primary are
  // refused as they reconnect, and the commands that waited for them fail with the hint. An ACL
  // user of the cache's own, so that the sentinels' view of the primary does not change.
  it('a password changed on the primary while connected: the hint, not the raw reply', async () => {
    const unhandled = trackUnhandledRejections()
    const admin = createClient({
      socket: { host: '127.0.0.1', port: deployment.primary.port },
      password: PASSWORD,
    })
    admin.on('error', () => {})
    await admin.connect()
    await admin.sendCommand(['ACL', 'SETUSER', 'app', 'on', `>${PASSWORD}`, '~*', '&*', '+@all'])
    const sentinel = createSentinel({
      name: deployment.name,
      sentinelRootNodes: deployment.addresses.map(([host, port]) => ({ host, port })),
      nodeClientOptions: { username: 'app', password: PASSWORD },
      maxCommandRediscovers: 1,
    }).on('error', () => {})
    const cache = createCache({
      location: sentinel as never,
      sentinels: deployment.addresses,
      password: PASSWORD,
      socketTimeout: 5,
    })
    opened.push(cache)
    try {
      expect(await cache.set('k', 'v')).toBe(true)
      await admin.sendCommand(['ACL', 'SETUSER', 'app', 'resetpass', `>${WRONG}`])
      await admin.sendCommand(['CLIENT', 'KILL', 'USER', 'app'])
      const { error } = await failure(() => cache.get('k'))
      expect(error).toBeInstanceOf(ConnectionError)
      expect((error as Error).message).toMatch(WRONGPASS_HINT)
      expect((error as Error).message).not.toContain(PASSWORD)
      expect((error as Error).message).not.toContain(WRONG)
    } finally {
      await admin.sendCommand(['ACL', 'DELUSER', 'app']).catch(() => {})
      await admin.close().catch(() => {})
      await cache.close()
      await sentinel.destroy().catch(() => {})
    }
    expect(unhandled()).toEqual([])
  }, 30_000)
})
