// Plain TCP to a server that listens only on TLS: the server drops the connection without a word
// (`read ECONNRESET`), which says nothing about TLS. One server's location got a hint already
// (error-hints.test.ts); cluster seeds and sentinels reached without TLS get one too, and only
// where it is right (not for a server that is not there).
import { type Cache, ConnectionError, createCache } from '@cachex/redis'
import {
  freePort,
  startTlsRedis,
  startTlsSentinels,
  type TlsRedis,
  type TlsSentinelDeployment,
} from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const CLOSED = 'the server closed the connection before answering'
const SEEDS_HINT = new RegExp(`${CLOSED}: if it serves TLS only, use rediss://`)
const SENTINELS_HINT = new RegExp(
  `${CLOSED}: if the sentinels serve TLS only, set \`sentinelOptions.tls: true\``,
)

const opened: Cache[] = []
afterAll(async () => {
  await Promise.allSettled(opened.map((c) => c.close()))
})

function open(options: Parameters<typeof createCache>[0]): Cache {
  const cache = createCache(options)
  opened.push(cache)
  return cache
}

/** The errors of three calls in a row (the later ones refused at once). */
async function errorsOf(cache: Cache): Promise<Error[]> {
  const errors: Error[] = []
  for (const call of [() => cache.get('k'), () => cache.set('k', 1), () => cache.get('k')]) {
    errors.push(
      (await call().then(
        () => undefined,
        (e: unknown) => e,
      )) as Error,
    )
  }
  return errors
}

describe('redis:// cluster seeds to a TLS-only server', () => {
  let server: TlsRedis
  beforeAll(async () => {
    server = await startTlsRedis()
  })
  afterAll(() => server?.stop())

  it('say the server closed the connection, and to use rediss:// if it serves TLS only', async () => {
    const cache = open({
      client: 'cluster',
      location: [`redis://127.0.0.1:${server.port}`],
      socketConnectTimeout: 5,
    })
    for (const error of await errorsOf(cache)) {
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error.message).toMatch(SEEDS_HINT)
    }
  })

  it('no such hint for seeds where nothing listens', async () => {
    const cache = open({
      client: 'cluster',
      location: [`redis://127.0.0.1:${await freePort()}`],
      socketConnectTimeout: 5,
    })
    for (const error of await errorsOf(cache)) {
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error.message).not.toMatch(/TLS/)
    }
  })
})

describe('TLS-only sentinels reached without sentinelOptions.tls', () => {
  let dep: TlsSentinelDeployment
  beforeAll(async () => {
    dep = await startTlsSentinels({ replicas: 0 })
  }, 60_000)
  afterAll(() => dep?.stop())

  it('say the sentinels closed the connection, and to set sentinelOptions.tls', async () => {
    const cache = open({
      client: 'sentinel',
      location: `rediss://${dep.name}/0`,
      sentinels: dep.addresses,
      clientOptions: { socket: { ca: dep.certs.ca } },
      socketConnectTimeout: 5,
    })
    for (const error of await errorsOf(cache)) {
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error.message).toMatch(SENTINELS_HINT)
    }
  })

  it('with sentinelOptions.tls, the cache works (the hint names the right fix)', async () => {
    const cache = open({
      client: 'sentinel',
      location: `rediss://${dep.name}/0`,
      sentinels: dep.addresses,
      sentinelOptions: { tls: true, socket: { ca: dep.certs.ca } },
      clientOptions: { socket: { ca: dep.certs.ca } },
      socketConnectTimeout: 5,
    })
    await cache.set('k', 1)
    expect(await cache.get('k')).toBe(1)
  })

  it('no such hint for sentinels where nothing listens', async () => {
    const cache = open({
      client: 'sentinel',
      location: `rediss://${dep.name}/0`,
      sentinels: [['127.0.0.1', await freePort()]],
      socketConnectTimeout: 5,
    })
    for (const error of await errorsOf(cache)) {
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error.message).not.toMatch(/TLS/)
    }
  })
})
