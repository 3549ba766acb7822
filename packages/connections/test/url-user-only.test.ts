// A URL whose userinfo has no colon (`redis://S3cret@host`: a password typed without its colon,
// the form ioredis reads as a password) reads as a user name; cachex showed it in clear in every
// error. It is hidden as a password is (`redis://***@host`), on every topology, and a server that
// asks for a password says where a password goes in the URL.
import { inspect } from 'node:util'
import type { Connection } from '@cachex/core'
import {
  type RedisServer,
  type SentinelDeployment,
  startRedis,
  startSentinels,
} from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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

describe('against a server that requires a password', () => {
  let server: RedisServer
  let deployment: SentinelDeployment
  beforeAll(async () => {
    ;[server, deployment] = await Promise.all([
      startRedis({ args: ['--requirepass', SECRET] }),
      startSentinels({ password: SECRET, replicas: 0, sentinels: 1 }),
    ])
  }, 60_000)
  afterAll(() => Promise.all([server?.stop(), deployment?.stop()]))

  /** The errors of two calls in a row on `connection` (the second fails fast), then closes it. */
  async function errorsOf(connection: Connection): Promise<unknown[]> {
    const errors: unknown[] = []
    try {
      for (let i = 0; i < 2; i++) {
        errors.push(
          await connection.command(['GET', 'k']).then(
            () => undefined,
            (e: unknown) => e,
          ),
        )
      }
    } finally {
      await connection.close()
    }
    return errors
  }

  const cases: Array<[string, () => Connection]> = [
    [
      'standalone',
      () =>
        standalone({
          location: `redis://${SECRET}@127.0.0.1:${server.port}/0`,
          socketConnectTimeout: 3,
        }),
    ],
    [
      'replica',
      () =>
        replica({
          location: [
            `redis://${SECRET}@127.0.0.1:${server.port}/0`,
            `redis://${SECRET}@127.0.0.1:${server.port}/0`,
          ],
          socketConnectTimeout: 3,
        }),
    ],
    [
      'cluster',
      () =>
        cluster({
          location: [`redis://${SECRET}@127.0.0.1:${server.port}`],
          socketConnectTimeout: 3,
        }),
    ],
    [
      'sentinel',
      () =>
        sentinel({
          location: `redis://${SECRET}@${deployment.name}/0`,
          sentinels: [...deployment.addresses],
          socketConnectTimeout: 3,
          sentinelOptions: { replicaPoolSize: 0 },
        }),
    ],
  ]

  for (const [name, make] of cases) {
    it(`${name}: never shows it, and says a name before the @ is a user name`, async () => {
      const errors = await errorsOf(make())
      for (const error of errors) {
        expect(error, name).toBeInstanceOf(Error)
        for (const text of textsOf(error)) expect(text, name).not.toContain(SECRET)
        expect((error as Error).message, name).toMatch(/requires a password/)
        expect((error as Error).message, name).toContain('redis://name@host')
      }
      // The URL is still named, its userinfo hidden.
      expect((errors[0] as Error).message, name).toContain('://***@')
    }, 30_000)
  }
})
