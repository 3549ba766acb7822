// A call whose reply arrived while this process's event loop was blocked (a long synchronous
// task, a debugger pause, a process frozen by SIGSTOP or a serverless freeze) is answered, not
// timed out: the deadline ticker ran before the reply waiting in the socket was read, rejected the
// call with a TimeoutError, and reset the connection, so calls made right after failed with a
// ConnectionError on a healthy server.
import { execFileSync } from 'node:child_process'
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

/** Blocked clients on the server (`INFO clients`), asked without blocking this event loop. */
async function blockedClients(): Promise<number> {
  const info = String(await redisCall(server.url, ['INFO', 'clients']))
  return Number(/blocked_clients:(\d+)/.exec(info)?.[1] ?? 0)
}

for (const late of [300, 1500]) {
  it(`a blocking call (blpop) whose item was handed over just before a block that outlasts its bound by ${late} ms reaches its caller`, async () => {
    const cache = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('blpop-blocked'),
      socketTimeout: 1,
    })
    caches.push(cache)
    // The blocking connection made and kept (a first blpop answered at once).
    await cache.rpush('q', 'warm')
    expect(await cache.blpop(['q'], 1)).toEqual(['q', 'warm'])
    await cache.rpush('staged', 'item-1')
    // Its bound: the call's own timeout (2 s) plus socketTimeout (1 s), from the call.
    const called = performance.now()
    const popped = cache.blpop(['q'], 2).then(
      (value) => ({ value }),
      (error: Error) => ({ error: error.name }),
    )
    // Once the server holds the blpop, the item is moved onto its list by a synchronous redis-cli: the server
    // pops it and has written its answer to this process's socket before the block starts, and
    // nothing reads it until the block ends, past the call's bound, however busy the machine.
    // Timed out, the item was lost.
    while ((await blockedClients()) === 0) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const pushed = performance.now() - called
    execFileSync('redis-cli', [
      '-h',
      server.host,
      '-p',
      String(server.port),
      'LMOVE',
      cache.makeKey('staged'),
      cache.makeKey('q'),
      'LEFT',
      'RIGHT',
    ])
    block(3000 - (performance.now() - called) + late)
    expect(pushed).toBeLessThan(2000)
    expect(await popped).toEqual({ value: ['q', 'item-1'] })
    expect(await redisCall(server.url, ['LLEN', cache.makeKey('q')])).toBe(0)
  }, 30_000)
}
