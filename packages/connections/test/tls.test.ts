import { inspect } from 'node:util'
import { type Connection, ConnectionError } from '@cachex/core'
import { startTlsRedis, type TlsRedis, timed, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { standalone } from '../src/index.ts'

/** Calls are bounded by 1 s; a failed handshake must settle within a few times that. */
const FAST = { socketConnectTimeout: 1, socketTimeout: 1 }
const SETTLE_MS = 4000

let server: TlsRedis
/** A second server that requires a client certificate (`--tls-auth-clients yes`). */
let strict: TlsRedis
const opened: Connection[] = []

beforeAll(async () => {
  ;[server, strict] = await Promise.all([startTlsRedis(), startTlsRedis({ authClients: 'yes' })])
})

afterAll(async () => {
  for (const c of opened.splice(0)) await c.close()
  await Promise.all([server?.stop(), strict?.stop()])
})

function open(options: Parameters<typeof standalone>[0]): Connection {
  const c = standalone(options)
  opened.push(c)
  return c
}

function text(reply: unknown): string | null {
  return reply === null ? null : String(reply)
}

describe('rediss://', () => {
  it('connects with the test CA given as clientOptions.socket.ca', async () => {
    const c = open({ location: server.url, clientOptions: { socket: { ca: server.ca } } })
    const key = uniquePrefix('tls')
    expect(text(await c.command(['SET', key, 'secret value']))).toBe('OK')
    expect(text(await c.command(['GET', key]))).toBe('secret value')
    // the server listens only on TLS (see the plain redis:// test below)
    const client = (await c.client()) as { options?: { socket?: { tls?: boolean } } }
    expect(client.options?.socket?.tls).toBe(true)
  })

  it('valkeys:// is TLS too', async () => {
    const location = server.url.replace(/^rediss:/, 'valkeys:')
    const c = open({ location, clientOptions: { socket: { ca: server.ca } } })
    expect(text(await c.command(['PING']))).toBe('PONG')
    const client = (await c.client()) as { options?: { socket?: { tls?: boolean } } }
    expect(client.options?.socket?.tls).toBe(true)
  })

  it('without the CA, fails with a clear certificate error within the connect bound', async () => {
    const c = open({ location: server.url, ...FAST })
    for (let i = 0; i < 2; i++) {
      const result = await timed(c.command(['PING']))
      expect(result.error).toBeInstanceOf(ConnectionError)
      expect((result.error as Error).message).toMatch(/certificate/i)
      expect(result.ms).toBeLessThan(SETTLE_MS)
    }
    expect((await timed(c.close())).ms).toBeLessThan(SETTLE_MS)
  })

  it('a plain redis:// URL to the TLS port settles within the connect bound', async () => {
    const c = open({ location: `redis://127.0.0.1:${server.port}`, ...FAST })
    const result = await timed(c.command(['PING']))
    expect(result.error).toBeInstanceOf(ConnectionError)
    expect(result.ms).toBeLessThan(SETTLE_MS)
  })
})

describe('mutual TLS', () => {
  it('connects with a client certificate and key where the server requires one', async () => {
    const c = open({
      location: strict.url,
      clientOptions: { socket: { ca: strict.ca, cert: strict.cert, key: strict.key } },
    })
    const key = uniquePrefix('mtls')
    await c.command(['SET', key, 'v'])
    expect(text(await c.command(['GET', key]))).toBe('v')
  })

  it('without a client certificate, the server refuses: an error within the bound', async () => {
    const c = open({ location: strict.url, clientOptions: { socket: { ca: strict.ca } }, ...FAST })
    const result = await timed(c.command(['PING']))
    expect(result.error).toBeInstanceOf(ConnectionError)
    expect(result.ms).toBeLessThan(SETTLE_MS)
  })
})

describe('ACL user over TLS', () => {
  const user = uniquePrefix('alice')
  const password = 'Tls-Acl-Pw-2718'

  beforeAll(async () => {
    const admin = open({ location: server.url, clientOptions: { socket: { ca: server.ca } } })
    await admin.command(['ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all'])
  })

  it('authenticates the user and password of the rediss:// URL', async () => {
    const c = open({
      location: `rediss://${user}:${encodeURIComponent(password)}@127.0.0.1:${server.port}/2`,
      clientOptions: { socket: { ca: server.ca } },
    })
    expect(text(await c.command(['ACL', 'WHOAMI']))).toBe(user)
    const key = uniquePrefix('acl')
    await c.command(['SET', key, 'in-db-2'])
    expect(text(await c.command(['GET', key]))).toBe('in-db-2')
    // `/2` selected database 2: this connection says so, and database 0 does not hold the key.
    expect(text(await c.command(['CLIENT', 'INFO']))).toMatch(/ db=2 /)
    const admin = open({ location: server.url, clientOptions: { socket: { ca: server.ca } } })
    expect(await admin.command(['EXISTS', key])).toBe(0)
  })

  it('a wrong password fails fast, and no error shows it', async () => {
    const wrong = 'Not-The-Tls-Pw-1'
    const c = open({
      location: `rediss://${user}:${wrong}@127.0.0.1:${server.port}`,
      clientOptions: { socket: { ca: server.ca } },
      ...FAST,
    })
    const result = await timed(c.command(['PING']))
    expect(result.error).toBeInstanceOf(ConnectionError)
    expect(result.ms).toBeLessThan(SETTLE_MS)
    const error = result.error as Error
    expect(error.message).toMatch(/WRONGPASS/)
    for (const shown of [error.message, String(error.stack), inspect(error, { depth: 8 })]) {
      expect(shown).not.toContain(wrong)
      expect(shown).not.toContain(password)
    }
  })
})
