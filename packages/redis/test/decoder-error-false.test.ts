// What a reply node-redis cannot read resets, and what it must not (see decoder-error-reset.test.ts
// for the resets themselves): a text reply longer than V8's longest string is one (node-redis's
// decoder throws ERR_STRING_TOO_LONG and drops it, the GET left waiting), an app's own listener
// that throws, a credentials provider that fails, a reply no command waited for on a connection
// still in step are not, or not for good; and a server that garbles a reply after every login is
// not knocked at in a loop (standalone, the local tier's tracking connection, the sentinels, a
// cluster node).

import { createServer, type Socket } from 'node:net'
import { CachexError, ConnectionError, createCache } from '@cachex/redis'
import { delay, redisCall, startCluster, startSentinels, uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { expect, it } from 'vitest'
import { proxiedRedis, type RespProxy, startProxy, type Tamper } from './_resp-proxy.ts'
import { recovers } from './helpers.ts'

/** How long a call or the recovery may take: under `SOCKET_TIMEOUT_S`. */
const BOUND_MS = 15_000
/** The socketTimeout of these caches: its reset cannot be what ends a stuck call within the bound. */
const SOCKET_TIMEOUT_S = 20
/** A byte RESP has no type for. */
const GARBAGE = '\x01garbage\r\n'

const fx = proxiedRedis()
const { crashes } = fx

type Outcome = { value: unknown } | { error: unknown }

/** How `call` settled, or `{ error: 'hung' }` if it had not within `BOUND_MS`. */
async function settle(call: Promise<unknown>): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ error: 'hung' }), BOUND_MS)
  })
  try {
    return await Promise.race([
      call.then(
        (value) => ({ value }),
        (error) => ({ error }),
      ),
      hung,
    ])
  } finally {
    clearTimeout(timer)
  }
}

// 512 MB through the server, the socket and node-redis: 12 s here at load 5, past 120 s once at
// load 17 (eight processes for each core); the test's bound only catches a hang.
it("a value longer than V8's longest string, read as text: the get rejects at once, no get resolves another key's value", async () => {
  const cache = createCache({
    location: fx.redis.url,
    serializer: 'json',
    socketTimeout: SOCKET_TIMEOUT_S,
  })
  try {
    await cache.set('small', 'the value of small', null)
    // Written by another client: 536,870,900 bytes (V8's strings stop at 536,870,888).
    await redisCall(fx.redis.url, ['SETRANGE', cache.makeKey('big'), '536870899', 'x'], 60_000)
    const client = (await cache.connection.client()) as {
      once(event: string, listener: () => void): unknown
    }
    const emitted = new Promise<void>((resolve) => client.once('error', resolve))
    const big = settle(cache.get('big'))
    await emitted
    // Sent after node-redis dropped the big reply, the GET of which still waits on its socket.
    const small = await settle(cache.get('small'))
    const outBig = await big
    expect(outBig, JSON.stringify(outBig)).not.toEqual({ value: 'the value of small' })
    expect('error' in outBig && outBig.error, String(JSON.stringify(outBig))).toBeInstanceOf(
      ConnectionError,
    )
    expect(String((outBig as { error: unknown }).error)).toMatch(
      /could not be read: Cannot create a string longer than/,
    )
    if ('value' in small) expect(small.value).toBe('the value of small')
    else expect(small.error, String(small.error)).toBeInstanceOf(CachexError)
    await recovers(cache, 'recover', BOUND_MS)
    expect(await cache.get('small')).toBe('the value of small')
    expect(crashes.map(String)).toEqual([])
  } finally {
    await redisCall(fx.redis.url, ['DEL', cache.makeKey('big')]).catch(() => undefined)
    await cache.close()
  }
}, 300_000)

it("a client handed in whose own 'ping-interval' listener throws a TypeError stays in use", async () => {
  // node-redis emits the errors of the PING it sends every `pingInterval` on 'error'.
  const client = createClient({ url: fx.redis.url, pingInterval: 200 })
  client.on('error', () => undefined)
  let pings = 0
  client.on('ping-interval', () => {
    // An app's metrics hook with a bug.
    if (++pings === 1) throw new TypeError("Cannot read properties of undefined (reading 'inc')")
  })
  const cache = createCache({ location: client as never })
  try {
    await cache.set('k', 'v', null)
    while (pings < 3) await delay(100)
    expect(await cache.get('k')).toBe('v')
    expect(crashes.map(String)).toEqual([])
  } finally {
    await cache.close()
    await client.close().catch(() => undefined)
  }
}, 30_000)

// A reply no command waited for, after which nothing else came: node-redis dropped it, and the
// connection is in step. cachex cannot tell, from the error, whether a reply was lost before it:
// the client is checked (an `ECHO`), and used again once the check's own reply comes back.
it('a client handed in that got a reply no command waited for is used again once it answers in step', async () => {
  const client = createClient({ url: fx.proxy.url })
  client.on('error', () => undefined)
  await client.connect()
  const cache = createCache({ location: client as never, socketTimeout: SOCKET_TIMEOUT_S })
  let extra = 0
  const tamper: Tamper = (args, reply) => {
    if (args[0]?.toUpperCase() !== 'GET' || args[1] !== ':1:x' || extra++ > 0) return undefined
    return Buffer.concat([reply, Buffer.from('+EXTRA\r\n')])
  }
  try {
    await cache.set('x', 'value-of-x')
    fx.proxy.tamper = tamper
    expect(await cache.get('x')).toBe('value-of-x')
    expect(extra).toBe(1)
    await recovers(cache, 'recover', BOUND_MS)
    expect(await cache.get('x')).toBe('value-of-x')
    expect(crashes.map(String)).toEqual([])
  } finally {
    fx.proxy.tamper = undefined
    await cache.close()
    if (client.isOpen) client.destroy()
  }
}, 60_000)

it('a credentials provider that fails with a TypeError is not reported as an unreadable reply', async () => {
  let calls = 0
  const cache = createCache({
    location: fx.redis.url,
    clientOptions: {
      credentialsProvider: {
        type: 'async-credentials-provider',
        credentials: async () => {
          // undici's error when an identity provider cannot be reached.
          if (++calls === 1) throw new TypeError('fetch failed')
          return {}
        },
      },
    },
  } as never)
  const outcome = (call: Promise<unknown>) =>
    call.then(
      (value) => `ok ${String(value)}`,
      (error: Error) => `${error.name}: ${error.message}`,
    )
  try {
    const first = await outcome(cache.get('k'))
    expect(first).not.toMatch(/could not be read/)
    expect(await outcome(cache.get('k'))).not.toMatch(/could not be read/)
    await recovers(cache, 'recover', BOUND_MS)
    expect(crashes.map(String)).toEqual([])
  } finally {
    await cache.close()
  }
}, 30_000)

/**
 * How many times per second `count` grew between 1 s and 4 s after `start` (the first steps of
 * a backoff are short): a connection that garbles after every login is reconnected to 100 ms
 * later, doubling up to 2 s — about 1 a second here — not at once, each time (dozens).
 */
async function ratePerSecond(count: () => number): Promise<number> {
  await delay(1000)
  const before = count()
  await delay(3000)
  return (count() - before) / 3
}

/** `reply`, then, `afterMs` later, a byte RESP has no type for (a server out of step after it). */
function garbleAfter(reply: Buffer, afterMs: number): (client: Socket) => void {
  return (client) => {
    client.write(reply)
    setTimeout(() => client.writable && client.write(GARBAGE), afterMs).unref()
  }
}

it('a server that garbles a reply after every login is not reconnected to in a loop', async () => {
  let connections = 0
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    let timer: NodeJS.Timeout | undefined
    socket.on('data', (chunk) => {
      // +OK to every command (CLIENT SETINFO…, PING), and 20 ms after, a byte RESP has no type for.
      const count = (chunk.toString('latin1').match(/^\*/gm) ?? []).length
      socket.write('+OK\r\n'.repeat(count))
      clearTimeout(timer)
      timer = setTimeout(() => socket.writable && socket.write(GARBAGE), 20)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const cache = createCache({ location: `redis://127.0.0.1:${port}` })
  try {
    await cache.connection.command(['PING']).catch(() => undefined)
    expect(await ratePerSecond(() => connections)).toBeLessThan(2)
    expect(crashes.map(String)).toEqual([])
  } finally {
    await cache.close().catch(() => undefined)
    for (const socket of sockets) socket.destroy()
    server.close()
  }
}, 30_000)

it("a local tier's tracking connection garbled after every login is not reconnected in a loop", async () => {
  let logins = 0
  fx.proxy.tamper = (args, reply) => {
    const bcast =
      args[0]?.toUpperCase() === 'CLIENT' && args.some((a) => a.toUpperCase() === 'BCAST')
    if (!bcast) return undefined
    logins++
    // Once the tier is on (its connection switched to BCAST).
    return garbleAfter(reply, 200)
  }
  const cache = createCache({
    location: fx.proxy.url,
    keyPrefix: uniquePrefix('trk-storm'),
    local: { maxEntries: 100 },
  })
  try {
    await cache.set('k', 'v')
    await cache.get('k')
    expect(await ratePerSecond(() => logins)).toBeLessThan(2)
    expect(await cache.get('k')).toBe('v')
    expect(crashes.map(String)).toEqual([])
  } finally {
    fx.proxy.tamper = undefined
    await cache.close()
  }
}, 30_000)

it('a sentinel garbled after every login is not reconnected to in a loop', async () => {
  const deployment = await startSentinels({ replicas: 0, sentinels: 1, quorum: 1 })
  const [host, port] = deployment.addresses[0] as readonly [string, number]
  const sentinelProxy = await startProxy(`redis://${host}:${port}`)
  let logins = 0
  sentinelProxy.tamper = (args, reply) => {
    if (args[0]?.toUpperCase() !== 'HELLO') return undefined
    logins++
    // After the rest of the handshake: the connection is ready when it comes.
    return garbleAfter(reply, 100)
  }
  const cache = createCache({
    client: 'sentinel',
    location: `redis://${deployment.name}/0`,
    sentinels: [['127.0.0.1', sentinelProxy.port]],
    socketConnectTimeout: 2,
  })
  try {
    await cache.get('k').catch(() => undefined)
    expect(await ratePerSecond(() => logins)).toBeLessThan(2)
    expect(crashes.map(String)).toEqual([])
  } finally {
    await cache.close()
    await sentinelProxy.close()
    await deployment.stop()
  }
}, 120_000)

it('a cluster node garbled after every login is not reconnected to in a loop', async () => {
  const cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
  const proxies: RespProxy[] = []
  const map: Record<string, { host: string; port: number }> = {}
  let logins = 0
  let garble = false
  for (const node of cluster.nodes) {
    const p = await startProxy(node.url)
    proxies.push(p)
    map[`127.0.0.1:${node.port}`] = { host: '127.0.0.1', port: p.port }
  }
  // The first node: its connections' last handshake command (CLIENT SETINFO LIB-VER).
  ;(proxies[0] as RespProxy).tamper = (args, reply) => {
    if (!garble || args[0]?.toUpperCase() !== 'CLIENT' || args[2]?.toUpperCase() !== 'LIB-VER') {
      return undefined
    }
    logins++
    return garbleAfter(reply, 20)
  }
  const cache = createCache({
    client: 'cluster',
    location: [...cluster.seeds],
    keyPrefix: uniquePrefix('cl-storm'),
    clusterOptions: { nodeAddressMap: map },
  })
  let calling = true
  try {
    await cache.set('k', 'v')
    garble = true
    for (const socket of (proxies[0] as RespProxy).sockets) socket.destroy()
    // Calls to every node meanwhile, each of which may connect.
    const calls = (async () => {
      while (calling) {
        await Promise.all(Array.from({ length: 20 }, (_, i) => cache.get(`k${i}`).catch(() => 0)))
        await delay(10)
      }
    })()
    expect(await ratePerSecond(() => logins)).toBeLessThan(2)
    calling = false
    await calls
    expect(crashes.map(String)).toEqual([])
  } finally {
    calling = false
    await cache.close()
    await Promise.all(proxies.map((p) => p.close()))
    await cluster.stop()
  }
}, 180_000)
