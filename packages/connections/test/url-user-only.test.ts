// A URL whose userinfo has no colon (`redis://S3cret@host`: a password typed without its colon,
// the form ioredis reads as a password) reads as a user name; cachex showed it in clear in every
// error. It is hidden as a password is (`redis://***@host`), and a user name given without a
// password is refused on every topology, saying where a password goes in the URL.
import { inspect } from 'node:util'
import type { Connection } from '@cachex/core'
import { InvalidArgumentError } from '@cachex/core'
import { redisCall, startRedis } from '@cachex/test-utils'
import { describe, expect, it } from 'vitest'
import { cluster, redactUrl, replica, sentinel, standalone } from '../src/index.ts'

const SECRET = 'S3cretPassw0rd-42'

/** Every text an error shows or carries: `util.inspect` (hidden fields too), and each cause's. */
function textsOf(error: unknown): string[] {
  const texts = [inspect(error, { depth: 10, showHidden: true })]
  for (let e = error, i = 0; e instanceof Error && i < 10; e = e.cause, i++) {
    texts.push(e.message, String(e.stack))
  }
  return texts
}

describe('redactUrl, a userinfo without a colon', () => {
  it('hides it whole, as a password', () => {
    expect(redactUrl(`redis://${SECRET}@127.0.0.1:6379/0`)).toBe('redis://***@127.0.0.1:6379/0')
    expect(redactUrl(`rediss://${SECRET}@cache.example`)).toBe('rediss://***@cache.example')
    expect(redactUrl(`valkey://${SECRET}@h:1`)).toBe('valkey://***@h:1')
    expect(redactUrl(`unix://${SECRET}@/run/redis.sock?db=1`)).toBe(
      'unix://***@/run/redis.sock?db=1',
    )
    // One with a raw `@` in it: up to the last `@`.
    expect(redactUrl('redis://pa@ss@h:1/0')).toBe('redis://***@h:1/0')
    // A user name and a password: the user name stays.
    expect(redactUrl(`redis://alice:${SECRET}@h`)).toBe('redis://alice:***@h')
  })

  it('leaves alone an @ that is no userinfo', () => {
    for (const url of [
      'unix:///run/a@b.sock',
      'unix:///run/a@b.sock?db=2',
      'redis://h:6379/0',
      'redis://[::1]:6379/0',
    ]) {
      expect(redactUrl(url)).toBe(url)
    }
    expect(redactUrl('redis://h:6379/0?password=p@ss')).toBe('redis://h:6379/0?password=***')
  })
})

describe('a user name without a password', () => {
  // node-redis (RESP3) sends no AUTH without a password: the name was dropped and the connection
  // ran as Redis's default user (its rights, where the name was meant to limit them), or failed
  // with NOAUTH where the default user needs a password. Refused when the connection is made,
  // never showing the name (often a password typed without its colon).
  const cases: Array<[string, () => Connection]> = [
    ['standalone', () => standalone({ location: `redis://${SECRET}@127.0.0.1:1/0` })],
    [
      'standalone, clientOptions.username',
      () => standalone({ location: 'redis://127.0.0.1:1/0', clientOptions: { username: SECRET } }),
    ],
    [
      'replica',
      () =>
        replica({
          location: [`redis://${SECRET}@127.0.0.1:1/0`, `redis://${SECRET}@127.0.0.1:2/0`],
        }),
    ],
    ['cluster', () => cluster({ location: [`redis://${SECRET}@127.0.0.1:1`] })],
    [
      'sentinel',
      () => sentinel({ location: `redis://${SECRET}@mymaster/0`, sentinels: [['127.0.0.1', 1]] }),
    ],
    [
      'sentinel, sentinelOptions.username',
      () =>
        sentinel({
          location: 'redis://mymaster/0',
          sentinels: [['127.0.0.1', 1]],
          sentinelOptions: { username: SECRET },
        }),
    ],
  ]
  for (const [name, make] of cases) {
    it(`${name}: is refused at once, the name not shown`, () => {
      let error: unknown
      try {
        const connection = make()
        void connection.close()
      } catch (e) {
        error = e
      }
      expect(error, name).toBeInstanceOf(InvalidArgumentError)
      expect((error as Error).message, name).toMatch(/a user name is given without a password/)
      expect((error as Error).message, name).toContain('redis://:password@host')
      for (const text of textsOf(error)) expect(text, name).not.toContain(SECRET)
    })
  }

  it('with a password (any, for a nopass user), the connection runs as that user', async () => {
    const server = await startRedis()
    await redisCall(server.url, ['ACL', 'SETUSER', 'appuser', 'on', 'nopass', '~app:*', '+@all'])
    const connection = standalone({ location: `redis://appuser:x@127.0.0.1:${server.port}/0` })
    try {
      expect(String(await connection.command(['ACL', 'WHOAMI']))).toBe('appuser')
      await expect(connection.command(['SET', 'other:k', '1'])).rejects.toThrow(/NOPERM/)
    } finally {
      await connection.close()
      await server.stop()
    }
  })
})
