import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { type Cache, ClosedError, createCache } from '@cachex/redis'
import { delay, standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { runChild } from './helpers.ts'

/** How a black-holed connection is treated: accepted and never answered, or reset at once. */
type Hole = 'silent' | 'reset'

interface Proxy {
  url: string
  /** The black-holed connections, in order; each resolves `closed` when the client let go. */
  holes: Array<{ socket: Socket; closed: Promise<void> }>
  close(): Promise<void>
}

async function startProxy(target: number, hole: Hole): Promise<Proxy> {
  const sockets = new Set<Socket>()
  const holes: Proxy['holes'] = []
  let forwarded = 0
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => undefined)
    const closed = once(socket, 'close').then(() => {
      sockets.delete(socket)
    })
    if (forwarded++ > 0) {
      holes.push({ socket, closed })
      if (hole === 'reset') socket.resetAndDestroy()
      // Read and drop: a socket nobody reads never sees the client's FIN, nor closes.
      else socket.resume()
      return
    }
    const up = connect(target, '127.0.0.1')
    sockets.add(up)
    up.on('error', () => socket.destroy())
    socket.on('close', () => up.destroy())
    up.on('close', () => socket.destroy())
    socket.pipe(up)
    up.pipe(socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  return {
    url: `redis://127.0.0.1:${port}/0`,
    holes,
    async close() {
      for (const socket of sockets) socket.destroy()
      server.close()
    },
  }
}

/** Resolves `true` when `promise` settles within `ms` (a bound against hangs only). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const outcome = await Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms)
    }),
  ])
  clearTimeout(timer)
  return outcome
}

/** Resolves once the proxy has black-holed `count` connections, or rejects after `ms`. */
async function holesSeen(proxy: Proxy, count: number, ms = 20_000): Promise<void> {
  const until = performance.now() + ms
  while (proxy.holes.length < count) {
    if (performance.now() > until) throw new Error(`no subscriber connection within ${ms} ms`)
    await delay(20)
  }
}

let server: { url: string; stop(): Promise<void> }
let port: number
/** A cache straight on the server, to hold the lock as another process would. */
let other: Cache
const proxies: Proxy[] = []
const caches: Cache[] = []

beforeAll(async () => {
  server = await standaloneServer()
  port = Number(new URL(server.url).port)
  other = createCache({ location: server.url })
})

afterEach(async () => {
  for (const cache of caches.splice(0)) await cache.close()
  for (const proxy of proxies.splice(0)) await proxy.close()
})

afterAll(async () => {
  await other?.close()
  await server?.stop()
})

/** Holds the lock of `key` under `keyPrefix` for `ms`, as another process computing it would. */
async function holdLock(keyPrefix: string, key: string, ms: number): Promise<void> {
  const rkey = `${keyPrefix}:1:${key}`
  await other.connection.command(['SET', `__cachex:lock:${rkey}`, 'elsewhere', 'PX', String(ms)])
}

async function setUp(hole: Hole, socketConnectTimeout: number) {
  const proxy = await startProxy(port, hole)
  proxies.push(proxy)
  const keyPrefix = uniquePrefix('notifier')
  const cache = createCache({ location: proxy.url, keyPrefix, socketConnectTimeout })
  caches.push(cache)
  // The cache's own connection goes through first; every later one is black-holed.
  await cache.set('warm', 1)
  return { proxy, keyPrefix, cache }
}

describe('the stampede subscriber against a server that takes no new connection', () => {
  it('close() destroys a subscriber still connecting at once', async () => {
    const { proxy, keyPrefix, cache } = await setUp('silent', 60)
    await holdLock(keyPrefix, 'k', 60_000)
    const pending = cache
      .getOrSet('k', async () => 'computed', { distributed: true, waitTimeout: 60 })
      .catch((error: unknown) => error)
    await holesSeen(proxy, 1)
    await cache.close()
    // Well before the 60 s connect timeout: the close let go of it.
    expect(await within(proxy.holes[0]?.closed as Promise<void>, 10_000)).toBe(true)
    expect(await pending).toBeInstanceOf(ClosedError)
  })

  it('opening it is bounded by socketConnectTimeout; the waiter polls on and gets the value', async () => {
    const { proxy, keyPrefix, cache } = await setUp('silent', 1)
    await holdLock(keyPrefix, 'k', 60_000)
    const pending = cache.getOrSet('k', async () => 'computed here', {
      distributed: true,
      waitTimeout: 60,
    })
    await holesSeen(proxy, 1)
    // The cache is open: only the 1 s bound can end the attempt.
    expect(await within(proxy.holes[0]?.closed as Promise<void>, 15_000)).toBe(true)
    // The holder finishes: the waiter, polling, reads its value.
    const holder = createCache({ location: server.url, keyPrefix })
    caches.push(holder)
    await holder.set('k', 'computed elsewhere')
    await other.connection.command(['DEL', `__cachex:lock:${keyPrefix}:1:k`])
    expect(await within(pending, 15_000)).toBe(true)
    expect(await pending).toBe('computed elsewhere')
    // No second attempt in the same episode.
    expect(proxy.holes.length).toBe(1)
  })

  it('a refused subscriber is destroyed, not reconnected, and nothing reconnects after close()', async () => {
    const { proxy, keyPrefix, cache } = await setUp('reset', 60)
    await holdLock(keyPrefix, 'k', 60_000)
    const value = await cache.getOrSet('k', async () => 'computed', {
      distributed: true,
      waitTimeout: 2,
    })
    expect(value).toBe('computed')
    // node-redis retries within 100 ms, then every 200, 400… ms: one attempt only.
    expect(proxy.holes.length).toBe(1)
    await cache.close()
    await delay(2500)
    expect(proxy.holes.length).toBe(1)
  })
})

describe('a process that closed its cache exits by itself', () => {
  const child = fileURLToPath(new URL('./_notifier-close-child.ts', import.meta.url))

  for (const hole of ['silent', 'reset'] as const) {
    it(`with its subscriber's connection ${hole === 'silent' ? 'never answered' : 'reset'}`, async () => {
      const proxy = await startProxy(port, hole)
      proxies.push(proxy)
      const keyPrefix = uniquePrefix('notifier-exit')
      await holdLock(keyPrefix, 'k', 60_000)
      const proc = runChild(child, [proxy.url, keyPrefix])
      // Starting node with tsx, then getOrSet's 1 s wait: generous, for a busy machine.
      await proc.waitFor('closed', 60_000)
      expect(proc.out, proc.err).toContain('closed computed')
      // Closed: it must end on its own, long before anything would time out.
      expect(await proc.exitsWithin(15_000)).toBe(true)
      expect(proc.exitCode).toBe(0)
      expect(proxy.holes.length).toBeGreaterThanOrEqual(1)
    })
  }
})
