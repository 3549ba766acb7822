// A rediss:// location with `clientOptions.socket.tls: false` ran in plain text without a word:
// node-redis's socket options were spread over the scheme's TLS, and the password and the data
// went unencrypted to whatever listened there. It is refused where the cache is made, naming the
// option; `tls: true` (with either scheme) passes, as before.
import { InvalidArgumentError } from '@cachex/core'
import { expect, it } from 'vitest'
import { createCache } from '../src/index.ts'

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
