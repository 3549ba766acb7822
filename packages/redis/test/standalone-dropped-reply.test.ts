// A call in flight on one server (a client, a pool) whose connection goes away under it — the
// server killed — said only node-redis's "read ECONNRESET", and a pool's calls while its client
// was down "The client is offline": neither named the server, nor that a write may have run. They
// say so now, as a cluster node's dropped connection does.
import { type Cache, ConnectionError, createCache, TimeoutError } from '@cachex/redis'
import { redisCall, startRedis } from '@cachex/test-utils'
import { afterEach, expect, it } from 'vitest'

const PASSWORD = 'Dropped-Pw-42'
const UNKNOWN =
  /^the connection to redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ was dropped \(.+\) before this command's reply came; if it writes, it may or may not have been applied$/
let cleanup: (() => Promise<void>) | undefined

afterEach(async () => {
  await cleanup?.()
  cleanup = undefined
})

/** What `promise` settled with: its value, or its error. */
function outcome(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => value,
    (error: unknown) => error,
  )
}

for (const [name, options] of [
  ['one client', {}],
  ['a pool', { connectionPool: { maximum: 2 } }],
] as const) {
  it(`${name}: a write in flight when the server dies names the server and that it may have run`, async () => {
    const server = await startRedis({ password: PASSWORD, args: ['--requirepass', PASSWORD] })
    const cache: Cache = createCache({ location: server.url, keyPrefix: 'dropped', ...options })
    cleanup = async () => {
      await cache.close()
      await server.stop()
    }
    await cache.set('k', 1)
    // Writes held by the server (not SIGSTOP: the test server's kill() thaws a frozen process
    // first, which then answers before it dies), so that the write is surely unanswered.
    await redisCall(server.url, ['CLIENT', 'PAUSE', '20000', 'WRITE'])
    const inFlight = outcome(cache.set('k', 2))
    await new Promise((resolve) => setTimeout(resolve, 100))
    await server.kill()
    const error = (await inFlight) as Error
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error).not.toBeInstanceOf(TimeoutError)
    expect(error.message).toMatch(UNKNOWN)
    expect(error.message).not.toContain(PASSWORD)
    expect(error.cause).toBeInstanceOf(Error)
    // While it is down, calls say which server is unreachable (a pool's client is "offline").
    const after = (await outcome(cache.get('k'))) as Error
    expect(after).toBeInstanceOf(ConnectionError)
    expect(after.message).toMatch(/^redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ is unreachable/)
    expect(after.message).not.toContain(PASSWORD)
  }, 30_000)
}
