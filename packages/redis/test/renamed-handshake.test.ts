// A command of the connection's handshake renamed away (as managed services do:
// `--rename-command SELECT ""`, for a database other than 0; `HELLO`): the refusal
// (`ERR unknown command`) stands until an operator changes the server's configuration, as an ACL
// refusal does. A call fails at once with the refusal, in words, and the connection backs off as
// for a refused password (10 s, doubling up to 5 minutes) instead of knocking several times a
// second for ever (7–8 connections in 8 s, before).
import { ConnectionError } from '@cachex/core'
import { delay, type RedisServer, redisCall, startRedis } from '@cachex/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { createCache } from '../src/index.ts'

let server: RedisServer | undefined
afterEach(async () => {
  await server?.stop()
  server = undefined
})

async function connections(url: string): Promise<number> {
  const stats = String(await redisCall(url, ['INFO', 'stats']))
  return Number(/total_connections_received:(\d+)/.exec(stats)?.[1])
}

const CASES = [
  { command: 'SELECT', path: '/3', hint: /SELECT is renamed or disabled/ },
  { command: 'HELLO', path: '', hint: /HELLO is renamed or disabled/ },
] as const

for (const { command, path, hint } of CASES) {
  describe(`${command} renamed away`, () => {
    it(`fails calls at once with a clear error, and backs off as for a refusal`, async () => {
      server = await startRedis({ args: ['--rename-command', command, ''] })
      const url = server.url
      const cache = createCache({ location: `${url}${path}`, keyPrefix: 'app' })
      try {
        const first = await cache.get('a').then(
          () => undefined,
          (e: unknown) => e as Error,
        )
        expect(first).toBeInstanceOf(ConnectionError)
        expect(first?.message).toMatch(hint)
        await delay(500)
        const before = await connections(url)
        // Calls meanwhile fail at once with the refusal, and knock at nothing.
        const start = performance.now()
        const again = await cache.get('a').then(
          () => undefined,
          (e: unknown) => e as Error,
        )
        expect(performance.now() - start).toBeLessThan(3000)
        expect(again).toBeInstanceOf(ConnectionError)
        expect(again?.message).toMatch(/refused the connection/)
        expect(again?.message).toMatch(hint)
        await delay(4000)
        // One connection is the one made to ask; before: 3–4 tries in 4 s.
        expect((await connections(url)) - before - 1).toBe(0)
      } finally {
        await cache.close()
      }
    }, 60_000)
  })
}

it("an unknown command of the cache's own calls fails that call only", async () => {
  server = await startRedis({ args: ['--rename-command', 'GET', ''] })
  const url = server.url
  const cache = createCache({ location: url, keyPrefix: 'app' })
  try {
    await cache.set('k', 1)
    const before = await connections(url)
    for (let i = 0; i < 3; i++) {
      const error = await cache.get('k').then(
        () => undefined,
        (e: unknown) => e as Error,
      )
      expect(error?.message).toMatch(/unknown command 'GET'/)
      expect(error).not.toBeInstanceOf(ConnectionError)
      expect(await cache.set('k', i)).toBe(true)
    }
    expect((await connections(url)) - before - 1).toBe(0)
  } finally {
    await cache.close()
  }
}, 30_000)
