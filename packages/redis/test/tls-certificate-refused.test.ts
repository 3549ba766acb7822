// A TLS certificate refused either way (a CA the client does not trust, a client certificate the
// server requires) is a configuration refusal, as a wrong password is: no retry and no failover
// changes it. Every call fails at once with words that say so, reads on Sentinel included (they
// waited the whole socketTimeout for a replica or a new primary that could never come, and then
// said "unreachable"), and the message says which certificate was not accepted.
import { type Cache, ConnectionError, createCache } from '@cachex/redis'
import {
  makeTestCertificates,
  startTlsRedis,
  startTlsSentinels,
  type TestCertificates,
  type TlsRedis,
  type TlsSentinelDeployment,
  timed,
} from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const PASSWORD = 'Tls-Data-Pw-42'
/** What a certificate the client does not trust says. */
const SERVER_CERT_REFUSED = /the TLS handshake failed: the server's certificate was not accepted/
/** What a server that refuses the client's certificate (or its absence) says. */
const CLIENT_CERT_REFUSED = /the TLS handshake failed: the server did not accept the client/
/**
 * What a connection refusing calls at once says of a certificate refused either way: the client
 * may be the one that refused, so not "refused the connection" (the server's refusal of a
 * password), nor "unreachable".
 */
const HANDSHAKE_STATE = /did not complete the TLS handshake, not waiting/
/** Well under the socketTimeout (10 s) reads waited; loose enough for a loaded machine. */
const FAST_MS = 3000

const opened: Cache[] = []
let wrong: TestCertificates
beforeAll(async () => {
  wrong = await makeTestCertificates()
})
afterAll(async () => {
  await Promise.allSettled(opened.map((c) => c.close()))
  wrong?.remove()
})

function open(options: Parameters<typeof createCache>[0]): Cache {
  const cache = createCache(options)
  opened.push(cache)
  return cache
}

/** Each call's error, after `warm` first calls whose waits (the first connection's) are not timed. */
async function errorsOf(cache: Cache, warm = 2): Promise<Array<{ error: Error; ms: number }>> {
  for (let i = 0; i < warm; i++) await timed(i % 2 === 0 ? cache.set('k', 1) : cache.get('k'))
  const out: Array<{ error: Error; ms: number }> = []
  for (const call of [
    () => cache.get('k'),
    () => cache.set('k', 1),
    () => cache.get('k'),
    () => cache.getMany(['a', 'b']),
  ]) {
    const { error, ms } = await timed(call())
    out.push({ error: error as Error, ms })
  }
  return out
}

describe('Sentinel with TLS data nodes and a wrong CA for them', () => {
  let dep: TlsSentinelDeployment
  beforeAll(async () => {
    dep = await startTlsSentinels({ password: PASSWORD })
  }, 60_000)
  afterAll(() => dep?.stop())

  it('reads fail at once, as writes do, saying the certificate was not accepted', async () => {
    const cache = open({
      client: 'sentinel',
      location: `rediss://:${PASSWORD}@${dep.name}/0`,
      sentinels: dep.addresses,
      sentinelOptions: { tls: true, socket: { ca: dep.certs.ca } },
      clientOptions: { socket: { ca: wrong.ca } },
      socketConnectTimeout: 2,
      socketTimeout: 10,
    })
    for (const { error, ms } of await errorsOf(cache)) {
      expect(error).toBeInstanceOf(ConnectionError)
      // Reads waited the whole socketTimeout (10 s) each.
      expect(ms).toBeLessThan(FAST_MS)
      expect(error.message).toMatch(SERVER_CERT_REFUSED)
      expect(error.message).toMatch(HANDSHAKE_STATE)
      expect(error.message).not.toMatch(/unreachable|refused the connection/)
      expect(error.message).not.toContain(PASSWORD)
    }
  }, 90_000)

  it('a wrong CA for the sentinels: refused, saying the certificate was not accepted', async () => {
    const cache = open({
      client: 'sentinel',
      location: `rediss://:${PASSWORD}@${dep.name}/0`,
      sentinels: dep.addresses,
      sentinelOptions: { tls: true, socket: { ca: wrong.ca } },
      clientOptions: { socket: { ca: dep.certs.ca } },
      socketConnectTimeout: 2,
      socketTimeout: 10,
    })
    for (const { error, ms } of await errorsOf(cache, 1)) {
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error.message).toMatch(SERVER_CERT_REFUSED)
      expect(error.message).toMatch(/sentinelOptions\.socket/)
      expect(error.message).toMatch(HANDSHAKE_STATE)
      expect(error.message).not.toMatch(/unreachable|refused the connection/)
      expect(ms).toBeLessThan(FAST_MS)
    }
  }, 60_000)
})

describe('one server, and cluster seeds, refusing or refused a certificate', () => {
  let server: TlsRedis
  let strict: TlsRedis
  beforeAll(async () => {
    ;[server, strict] = await Promise.all([startTlsRedis(), startTlsRedis({ authClients: 'yes' })])
  }, 60_000)
  afterAll(() => Promise.all([server?.stop(), strict?.stop()]))

  it("a CA the client does not trust: the server's certificate was not accepted, refused", async () => {
    const cache = open({
      location: server.url,
      clientOptions: { socket: { ca: wrong.ca } },
      socketConnectTimeout: 5,
    })
    for (const { error, ms } of await errorsOf(cache)) {
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error.message).toMatch(SERVER_CERT_REFUSED)
      expect(error.message).toMatch(/clientOptions\.socket/)
      expect(error.message).toMatch(/self-signed certificate/)
      expect(error.message).toMatch(HANDSHAKE_STATE)
      expect(error.message).not.toMatch(/unreachable|refused the connection/)
      expect(ms).toBeLessThan(FAST_MS)
    }
  }, 30_000)

  it('a name the certificate does not list: says so, and where `servername` goes', async () => {
    const cache = open({
      location: server.url,
      clientOptions: { socket: { ca: server.ca, servername: 'cache.example.com' } },
      socketConnectTimeout: 5,
    })
    for (const { error } of await errorsOf(cache)) {
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error.message).toMatch(SERVER_CERT_REFUSED)
      expect(error.message).toMatch(/does not list the name the server was reached by/)
      expect(error.message).toMatch(/`servername` in `clientOptions\.socket`/)
      expect(error.message).toMatch(HANDSHAKE_STATE)
      expect(error.message).not.toMatch(/unreachable|refused the connection/)
    }
  }, 30_000)

  it('a server that requires a client certificate: it did not accept the client, refused', async () => {
    const cache = open({
      location: strict.url,
      clientOptions: { socket: { ca: strict.ca } },
      socketConnectTimeout: 5,
    })
    for (const { error } of await errorsOf(cache)) {
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error.message).toMatch(CLIENT_CERT_REFUSED)
      expect(error.message).toMatch(HANDSHAKE_STATE)
      expect(error.message).not.toMatch(/unreachable|refused the connection/)
    }
  }, 30_000)

  it('cluster seeds with a CA the client does not trust: refused, saying so', async () => {
    const cache = open({
      client: 'cluster',
      location: [server.url],
      clientOptions: { socket: { ca: wrong.ca } },
      socketConnectTimeout: 5,
    })
    for (const { error, ms } of await errorsOf(cache, 1)) {
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error.message).toMatch(SERVER_CERT_REFUSED)
      expect(error.message).toMatch(HANDSHAKE_STATE)
      expect(error.message).not.toMatch(/unreachable|TLS only|refused the connection/)
      expect(ms).toBeLessThan(FAST_MS)
    }
  }, 30_000)
})
