// A call whose reply arrived while this process's event loop was blocked (a long synchronous
// task, a debugger pause, a process frozen by SIGSTOP or a serverless freeze) is answered, not
// timed out: the deadline ticker ran before the reply waiting in the socket was read, rejected the
// call with a TimeoutError, and reset the connection, so calls made right after failed with a
// ConnectionError on a healthy server.
import { type RedisServer, redisCall, startRedis, uniquePrefix } from '@cachex/test-utils'
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

it('a loop blocked again and again does not keep a call on a paused server waiting for ever', async () => {
  const cache = createCache({
    location: server.url,
    keyPrefix: uniquePrefix('reblocked'),
    socketTimeout: 1,
  })
  caches.push(cache)
  await cache.set('x', 'x1')
  await redisCall(server.url, ['CLIENT', 'PAUSE', '9000', 'ALL'])
  const started = performance.now()
  let settledAt = 0
  const call = cache.get('x').then(
    () => 'answered',
    (error: Error) => error.name,
  )
  void call.then(() => {
    settledAt = performance.now() - started
  })
  // Blocked 1.5 s at a time, a few milliseconds free in between, for up to 7.5 s: each tick of
  // the deadlines comes late. Given back the stall once, the call times out after the second.
  while (settledAt === 0 && performance.now() - started < 7500) {
    block(1500)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  expect(await call).toBe('TimeoutError')
  expect(settledAt).toBeGreaterThan(0)
  expect(settledAt).toBeLessThan(7500)
  // The pause ends; the cache is back.
  await new Promise((resolve) =>
    setTimeout(resolve, Math.max(0, 9500 - (performance.now() - started))),
  )
  expect(await cache.get('x')).toBe('x1')
}, 30_000)

for (const ms of [2300, 3500]) {
  it(`a blocking call (blpop) whose item was handed over during a ${ms} ms block reaches its caller`, async () => {
    const cache = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('blpop-blocked'),
      socketTimeout: 1,
    })
    caches.push(cache)
    // The blocking connection made and kept (a first blpop answered at once).
    await cache.rpush('q', 'warm')
    expect(await cache.blpop(['q'], 1)).toEqual(['q', 'warm'])
    await cache.rpush('q', 'item-1')
    const popped = cache.blpop(['q'], 1).then(
      (value) => ({ value }),
      (error: Error) => ({ error: error.name }),
    )
    // The item is there: the server pops it and answers at once, while this process is blocked
    // past the call's bound (its timeout of 1 s plus socketTimeout): by less than a second (its
    // timer fires only a little late), or by more. Timed out, the item was lost.
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        block(ms)
        resolve()
      }),
    )
    expect(await popped).toEqual({ value: ['q', 'item-1'] })
    expect(await redisCall(server.url, ['LLEN', cache.makeKey('q')])).toBe(0)
  }, 30_000)
}
