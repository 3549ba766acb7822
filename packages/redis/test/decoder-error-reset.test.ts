// A reply node-redis cannot decode (a type byte RESP does not have, a reply nested deeper than its
// recursive decoder's stack): node-redis resets its decoder and emits 'error', but keeps the
// socket and the commands waiting for their replies, so the command whose reply was garbage takes
// the next command's reply (a get resolved another key's value), and a handshake whose reply was
// garbage waits forever. The connection is reset at once instead: the calls in flight reject with
// a typed error, none resolves a value that is not its own, and the cache works again.
import { type Cache, CachexError, ConnectionError, createCache } from '@cachex/redis'
import { startCluster, startSentinels, type TestCluster, uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { expect, it } from 'vitest'
import { proxiedRedis, type RespProxy, startProxy, type Tamper } from './_resp-proxy.ts'
import { recovers } from './helpers.ts'

/** A reply starting with a type byte RESP does not have. */
const BAD_TYPE = '?x\r\n'
/** A reply nested 50,000 arrays deep: node-redis's recursive decoder overflows the stack. */
const DEEP = `${'*1\r\n'.repeat(50_000)}:1\r\n`
/** How long a call or the recovery may take: under `SOCKET_TIMEOUT_S`. */
const BOUND_MS = 15_000
/** The socketTimeout of these caches: its reset cannot be what ends a stuck call within the bound. */
const SOCKET_TIMEOUT_S = 20

const fx = proxiedRedis()
const { crashes } = fx

/**
 * Replaces, once, the reply to the first command named `name` whose arguments `match`, on any of
 * `proxies`, with `reply`.
 */
function tamperOnce(
  proxies: readonly RespProxy[],
  name: string,
  reply: string,
  match: (args: string[]) => boolean = () => true,
): void {
  let done = false
  const tamper: Tamper = (args) => {
    if (done || args[0]?.toUpperCase() !== name || !match(args)) return undefined
    done = true
    return reply
  }
  for (const p of proxies) p.tamper = tamper
}

type Outcome = { value: unknown } | { error: unknown }

/** How `call` settled, or a failure of the test if it had not within `BOUND_MS` (it hangs). */
async function settle(call: Promise<unknown>): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ error: new Error('hung') }), BOUND_MS)
  })
  const settled = call.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )
  try {
    return await Promise.race([settled, hung])
  } finally {
    clearTimeout(timer)
  }
}

/** `outcome` is `expected`, or a typed error (never another value, never a hang). */
function expectOwnValueOrTyped(outcome: Outcome, expected: unknown, label: string): void {
  if ('value' in outcome) {
    expect(outcome.value, `${label} resolved a value that is not its own`).toEqual(expected)
  } else {
    expect(outcome.error, `${label}: ${String(outcome.error)}`).toBeInstanceOf(CachexError)
  }
}

/** A cache through `url`, whose socketTimeout reset could not be what ends a stuck call. */
function open(url: string): Cache {
  return createCache({ location: url, socketTimeout: SOCKET_TIMEOUT_S, socketConnectTimeout: 2 })
}

/**
 * The reply to `GET a` replaced by `reply`, with gets of other keys sent before and after the
 * garbage came: `get('a')` rejects with a `ConnectionError` (the connection was reset under it),
 * no get resolves another key's value, and the cache works again.
 */
async function garbledGet(
  cache: Cache,
  proxies: readonly RespProxy[],
  reply: string,
  key: (name: string) => boolean,
): Promise<void> {
  const keys = ['a', 'b', 'c', 'd']
  for (const k of keys) await cache.set(k, `value-of-${k}`)
  tamperOnce(proxies, 'GET', reply, (args) => key(args[1] ?? ''))
  // Alone in its tick: gets sent together go as one MGET.
  const a = settle(cache.get('a'))
  await new Promise((resolve) => setTimeout(resolve, 100))
  const b = settle(cache.get('b'))
  await new Promise((resolve) => setTimeout(resolve, 50))
  const later = keys.slice(2).map((k) => settle(cache.get(k)))
  const [outA, outB, ...outLater] = await Promise.all([a, b, ...later])
  expect('error' in outA, `get('a') resolved ${JSON.stringify(outA)}`).toBe(true)
  const error = (outA as { error: unknown }).error
  expect(error, String(error)).toBeInstanceOf(ConnectionError)
  expect(String(error)).toMatch(/could not be read/)
  expectOwnValueOrTyped(outB, 'value-of-b', "get('b')")
  for (const [i, o] of outLater.entries()) {
    expectOwnValueOrTyped(o, `value-of-${keys[i + 2]}`, `get('${keys[i + 2]}')`)
  }
  await recovers(cache, 'recover', BOUND_MS)
  for (const k of keys) expect(await cache.get(k)).toBe(`value-of-${k}`)
  expect(crashes.map(String)).toEqual([])
}

for (const [label, reply] of [
  ['a type byte RESP does not have', BAD_TYPE],
  ['a reply nested 50,000 arrays deep', DEEP],
] as const) {
  it(`a GET reply with ${label}: no get resolves another key's value, and the cache recovers`, async () => {
    const cache = open(fx.proxy.url)
    try {
      await garbledGet(cache, [fx.proxy], reply, (key) => key === ':1:a')
    } finally {
      fx.proxy.tamper = undefined
      await cache.close()
    }
  }, 90_000)
}

// A client of the user's is never destroyed by cachex: calls fail at once, saying it is out of
// step, until its owner reconnects it.
it('a GET reply with a type byte RESP does not have, on a client handed in', async () => {
  const client = createClient({ url: fx.proxy.url })
  client.on('error', () => undefined)
  await client.connect()
  const cache = createCache({ location: client as never, socketTimeout: SOCKET_TIMEOUT_S })
  try {
    await cache.set('a', 'value-of-a')
    await cache.set('b', 'value-of-b')
    tamperOnce([fx.proxy], 'GET', BAD_TYPE, (args) => args[1] === ':1:a')
    const a = settle(cache.get('a'))
    await new Promise((resolve) => setTimeout(resolve, 100))
    const b = await settle(cache.get('b'))
    expect('error' in b, `get('b') resolved ${JSON.stringify(b)}`).toBe(true)
    const error = (b as { error: unknown }).error
    expect(error, String(error)).toBeInstanceOf(ConnectionError)
    expect(String(error)).toMatch(/could not be read.*out of step.*reconnect it/)
    // Its owner reconnects it: the call left on it rejects, and the cache works again.
    client.destroy()
    expectOwnValueOrTyped(await a, 'value-of-a', "get('a')")
    await client.connect()
    await recovers(cache, 'recover', BOUND_MS)
    expect(await cache.get('b')).toBe('value-of-b')
    expect(crashes.map(String)).toEqual([])
  } finally {
    fx.proxy.tamper = undefined
    await cache.close()
    if (client.isOpen) client.destroy()
  }
}, 90_000)

for (const [label, name, reply] of [
  ['HELLO answered with a type byte RESP does not have', 'HELLO', BAD_TYPE],
  ['CLIENT SETINFO answered with a type byte RESP does not have', 'CLIENT', BAD_TYPE],
  ['HELLO answered with a reply nested 50,000 arrays deep', 'HELLO', DEEP],
] as const) {
  it(`${label}: the first call fails typed, and the cache connects again`, async () => {
    tamperOnce([fx.proxy], name, reply)
    const cache = open(fx.proxy.url)
    try {
      const first = await settle(cache.get('handshake-key'))
      expectOwnValueOrTyped(first, undefined, 'the first get')
      await recovers(cache, 'handshake-key', BOUND_MS)
      expect(crashes.map(String)).toEqual([])
    } finally {
      fx.proxy.tamper = undefined
      await cache.close()
    }
  }, 90_000)
}

// Through a cluster: every node behind a proxy (node-redis's `nodeAddressMap`), the reply of one
// node's GET garbled.
it('a GET reply a cluster node sends with a type byte RESP does not have', async () => {
  const cluster: TestCluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
  const nodeProxies: RespProxy[] = []
  const map: Record<string, { host: string; port: number }> = {}
  for (const node of cluster.nodes) {
    const p = await startProxy(node.url)
    nodeProxies.push(p)
    map[`127.0.0.1:${node.port}`] = { host: '127.0.0.1', port: p.port }
  }
  const prefix = uniquePrefix('decoder')
  const cache = createCache({
    client: 'cluster',
    location: [...cluster.seeds],
    keyPrefix: prefix,
    socketTimeout: SOCKET_TIMEOUT_S,
    socketConnectTimeout: 2,
    clusterOptions: { nodeAddressMap: map },
  })
  try {
    await garbledGet(cache, nodeProxies, BAD_TYPE, (key) => key === `${prefix}:1:a`)
  } finally {
    for (const p of nodeProxies) p.tamper = undefined
    await cache.close()
    await Promise.all(nodeProxies.map((p) => p.close()))
    await cluster.stop()
  }
}, 180_000)

// Through Sentinel: the sentinel behind a proxy, its answer to cachex's query of the primary
// garbled. The data nodes' connections are standalone ones (tested above).
it("a sentinel's reply with a type byte RESP does not have", async () => {
  const deployment = await startSentinels({ replicas: 0, sentinels: 1, quorum: 1 })
  const [host, port] = deployment.addresses[0] as readonly [string, number]
  const sentinelProxy = await startProxy(`redis://${host}:${port}`)
  const cache = createCache({
    client: 'sentinel',
    location: `redis://${deployment.name}/0`,
    sentinels: [['127.0.0.1', sentinelProxy.port]],
    socketTimeout: SOCKET_TIMEOUT_S,
    socketConnectTimeout: 2,
  })
  try {
    tamperOnce([sentinelProxy], 'SENTINEL', BAD_TYPE, (args) => args[1]?.toUpperCase() === 'MASTER')
    const first = await settle(cache.get('sentinel-key'))
    expectOwnValueOrTyped(first, undefined, 'the first get')
    await recovers(cache, 'sentinel-key', BOUND_MS)
    expect(crashes.map(String)).toEqual([])
  } finally {
    sentinelProxy.tamper = undefined
    await cache.close()
    await sentinelProxy.close()
    await deployment.stop()
  }
}, 120_000)
