// A rediss:// location with `clientOptions.socket.tls: false` ran in plain text without a word:
// node-redis's socket options were spread over the scheme's TLS, and the password and the data
// went unencrypted to whatever listened there. It is refused where the cache is made, naming the
// option; `tls: true` (with either scheme) passes, as before.
import { type AddressInfo, createServer } from 'node:net'
import { InvalidArgumentError } from '@cachex/core'
import { delay } from '@cachex/test-utils'
import { describe, expect, it } from 'vitest'
import { createCache } from '../src/index.ts'
import { masterFields, startFakeSentinel } from './_fake-sentinel.ts'

const DOWNGRADE = /clientOptions\.socket\.tls \(false\) would turn off the TLS/

for (const [name, location, client] of [
  ['one server', 'rediss://:secret@127.0.0.1:6390/0', undefined],
  ['a pool', 'rediss://:secret@127.0.0.1:6390/0', undefined],
  ['valkeys://', 'valkeys://:secret@127.0.0.1:6390/0', undefined],
  ['a cluster', ['rediss://:secret@127.0.0.1:7000'], 'cluster'],
] as const) {
  it(`${name}: socket.tls false under a TLS scheme is refused, naming the option, never the password`, () => {
    const make = () =>
      createCache({
        location: location as string | string[],
        ...(client === undefined ? {} : { client }),
        ...(name === 'a pool' ? { connectionPool: { maximum: 2 } } : {}),
        clientOptions: { socket: { tls: false } },
      } as Parameters<typeof createCache>[0])
    expect(make).toThrow(InvalidArgumentError)
    expect(make).toThrow(DOWNGRADE)
    expect(() => make()).not.toThrow(/secret/)
  })
}

it('socket.tls true passes with either scheme (TLS on, as before)', async () => {
  for (const location of ['rediss://127.0.0.1:6390/0', 'redis://127.0.0.1:6390/0']) {
    const cache = createCache({ location, clientOptions: { socket: { tls: true } } })
    await cache.close()
  }
})

it('sentinelOptions.socket.tls (or its clientOptions.socket.tls) false beside sentinelOptions.tls is refused', () => {
  for (const sentinelOptions of [
    { tls: true, socket: { tls: false } },
    { tls: true, clientOptions: { socket: { tls: false } } },
  ]) {
    const make = () =>
      createCache({
        client: 'sentinel',
        location: 'redis://mymaster/0',
        sentinels: [['127.0.0.1', 26379]],
        sentinelOptions,
      } as Parameters<typeof createCache>[0])
    expect(make).toThrow(InvalidArgumentError)
    expect(make).toThrow(
      /socket\.tls \(false\) would turn off the TLS sentinelOptions\.tls turns on/,
    )
  }
})

// What the client sends first, to a TCP listener standing in for the server: a TLS handshake
// (0x16), or plain RESP, where the password goes in clear. `tls: undefined` (an own property,
// as `tls: process.env.TLS ? true : undefined` makes) passes the check above, and was spread
// over the scheme's TLS: plain text. So was a cluster's `clusterOptions.defaults`, which replaced
// cachex's node options whole.
const PASSWORD = 'sniffed-secret'

async function listener(): Promise<{ port: number; first: Buffer[]; close: () => Promise<void> }> {
  const first: Buffer[] = []
  const server = createServer((socket) => {
    socket.once('data', (chunk) => {
      first.push(chunk)
      socket.destroy()
    })
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()))
  return { port: (server.address() as AddressInfo).port, first, close }
}

/** What the cache `make` builds for the listener's port sends first: 'tls' or 'plain'. */
async function firstSent(
  make: (port: number) => Parameters<typeof createCache>[0],
  port?: number,
): Promise<string> {
  const sniffer = await listener()
  try {
    const cache = createCache(make(port ?? sniffer.port))
    await cache.get('k').catch(() => undefined)
    for (let i = 0; i < 100 && sniffer.first.length === 0; i++) await delay(50)
    await cache.close().catch(() => undefined)
    const bytes = sniffer.first[0]
    if (bytes === undefined) return 'nothing'
    if (bytes[0] === 0x16) return 'tls'
    return bytes.toString('latin1').includes(PASSWORD) ? 'plain, with the password' : 'plain'
  } finally {
    await sniffer.close()
  }
}

const quick = { socketTimeout: 1, socketConnectTimeout: 1 }

describe('socket.tls undefined, and the cluster defaults, keep the TLS on', () => {
  for (const [name, extra] of [
    ['one server', {}],
    ['a pool', { connectionPool: { maximum: 2 } }],
  ] as const) {
    it(`${name}: clientOptions.socket.tls undefined`, async () => {
      const sent = await firstSent((port) => ({
        ...quick,
        ...extra,
        location: `rediss://:${PASSWORD}@127.0.0.1:${port}/0`,
        clientOptions: { socket: { tls: undefined, keepAlive: true } },
      }))
      expect(sent).toBe('tls')
    })
  }

  for (const [name, options] of [
    ['clientOptions.socket.tls undefined', { clientOptions: { socket: { tls: undefined } } }],
    [
      'clusterOptions.defaults without a socket',
      { clusterOptions: { defaults: { pingInterval: 1000 } } },
    ],
    [
      'clusterOptions.defaults.socket.tls undefined',
      { clusterOptions: { defaults: { socket: { tls: undefined } } } },
    ],
  ] as const) {
    it(`a cluster: ${name}`, async () => {
      const sent = await firstSent(
        (port) =>
          ({
            ...quick,
            ...options,
            client: 'cluster',
            location: [`rediss://:${PASSWORD}@127.0.0.1:${port}`],
          }) as Parameters<typeof createCache>[0],
      )
      expect(sent).toBe('tls')
    })
  }

  it("a cluster: clusterOptions.defaults' options set to undefined leave clientOptions' in force", async () => {
    // The control: clientOptions' password alone goes in the handshake (plain: a redis:// seed).
    const make =
      (defaults?: object) =>
      (port: number): Parameters<typeof createCache>[0] =>
        ({
          ...quick,
          client: 'cluster',
          location: [`redis://127.0.0.1:${port}`],
          clientOptions: { password: PASSWORD },
          ...(defaults === undefined ? {} : { clusterOptions: { defaults } }),
        }) as Parameters<typeof createCache>[0]
    expect(await firstSent(make())).toBe('plain, with the password')
    expect(await firstSent(make({ password: undefined, username: undefined }))).toBe(
      'plain, with the password',
    )
    // `null` credentials are none, as the `password` option's: clientOptions' applies. A `null`
    // socket is no socket.
    expect(await firstSent(make({ password: null, username: null, socket: null }))).toBe(
      'plain, with the password',
    )
    // And a wrong one is named where it was given.
    expect(() => createCache(make({ password: 123 })(7000))).toThrow(
      /^clusterOptions\.defaults\.password must be a string, got a number$/,
    )
  })

  it('a cluster: clusterOptions.defaults.socket.tls false is refused, and clusterOptions.rootNodes', () => {
    for (const [clusterOptions, message] of [
      [{ defaults: { socket: { tls: false } } }, /clusterOptions\.defaults\.socket\.tls \(false\)/],
      [
        { rootNodes: [{ url: 'redis://127.0.0.1:7000' }] },
        /clusterOptions\.rootNodes is not taken/,
      ],
    ] as const) {
      const make = () =>
        createCache({
          client: 'cluster',
          location: [`rediss://:${PASSWORD}@127.0.0.1:7000`],
          clusterOptions,
        } as Parameters<typeof createCache>[0])
      expect(make).toThrow(InvalidArgumentError)
      expect(make).toThrow(message)
      expect(() => make()).not.toThrow(new RegExp(PASSWORD))
    }
  })

  for (const [name, sentinelOptions] of [
    ['sentinelOptions.socket.tls undefined', { tls: true, socket: { tls: undefined } }],
    [
      'sentinelOptions.clientOptions.socket.tls undefined',
      { tls: true, clientOptions: { socket: { tls: undefined } } },
    ],
  ] as const) {
    it(`the sentinels: ${name}`, async () => {
      const sent = await firstSent(
        (port) =>
          ({
            ...quick,
            client: 'sentinel',
            location: 'redis://mymaster/0',
            sentinels: [['127.0.0.1', port]],
            sentinelOptions: { ...sentinelOptions, password: PASSWORD },
          }) as Parameters<typeof createCache>[0],
      )
      expect(sent).toBe('tls')
    })
  }

  it('the data nodes under a rediss:// sentinel location: socket.tls false refused, undefined keeps the TLS', async () => {
    const make = (clientOptions: object, sentinel = 26379) =>
      ({
        ...quick,
        client: 'sentinel',
        location: `rediss://:${PASSWORD}@mymaster/0`,
        sentinels: [['127.0.0.1', sentinel]],
        clientOptions,
      }) as Parameters<typeof createCache>[0]
    // Refused where the cache is made: the data nodes are reached only once the sentinels named
    // them, where the refusal showed as an address no call could reach, for ever.
    expect(() => createCache(make({ socket: { tls: false } }))).toThrow(
      /clientOptions\.socket\.tls \(false\) would turn off the TLS/,
    )
    const primary = await listener()
    const sentinel = await startFakeSentinel()
    sentinel.answers = {
      master: masterFields('mymaster', '127.0.0.1', primary.port),
      replicas: [],
      sentinels: [],
    }
    try {
      const cache = createCache(make({ socket: { tls: undefined } }, sentinel.port))
      await cache.get('k').catch(() => undefined)
      for (let i = 0; i < 100 && primary.first.length === 0; i++) await delay(50)
      await cache.close().catch(() => undefined)
      expect(primary.first[0]?.[0]).toBe(0x16)
    } finally {
      await sentinel.close()
      await primary.close()
    }
  })
})
