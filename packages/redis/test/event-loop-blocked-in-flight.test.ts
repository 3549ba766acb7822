// A call whose reply arrived while this process's event loop was blocked (a long synchronous
// task, a debugger pause, a process frozen by SIGSTOP or a serverless freeze) is answered, not
// timed out: the deadline ticker ran before the reply waiting in the socket was read, rejected the
// call with a TimeoutError, and reset the connection, so calls made right after failed with a
// ConnectionError on a healthy server.
import { type RedisServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type Cache, createCache } from '../src/index.ts'

let server: RedisServer
const caches: Cache[] = []

beforeAll(async () => {
  server = await startRedis()
}, 60_000)

afterAll(async () => {
  await Promise.all(caches.map((c) => c.close()))
  await server?.stop()
})

/** Blocks this event loop for `ms` (as a synchronous task would). */
function block(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // busy
  }
}

for (const [name, options] of [
  ['one connection', {}],
  ['a pool', { connectionPool: { maximum: 2 } }],
] as const) {
  it(`${name}: a reply that arrived during a 2.5 s block answers its call; calls right after work`, async () => {
    const cache = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('blocked'),
      socketTimeout: 1,
      ...options,
    })
    caches.push(cache)
    await cache.set('x', 'x1')
    expect(await cache.get('x')).toBe('x1')
    const inFlight = cache.get('x').then(
      (value) => ({ value }),
      (error: Error) => ({ error: `${error.name}: ${error.message}` }),
    )
    // The command is written in this tick; the server answers within a millisecond, while this
    // process is blocked for longer than socketTimeout.
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        block(2500)
        resolve()
      }),
    )
    const right = await Promise.allSettled([cache.get('x'), cache.set('y', 1)])
    expect(await inFlight).toEqual({ value: 'x1' })
    expect(right.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled'])
  }, 30_000)
}
