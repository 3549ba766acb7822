// A server that answers a new connection's handshake with an error reply that is no auth refusal
// — `-ERR max number of clients reached`, once its clients are killed and `maxclients` lowered —
// is up, and says why. On a cluster, the calls to that node's slots fail at once quoting the
// reason, without the ACL users and passwords advice of a WRONGPASS; on Sentinel, reads fail at
// once as writes do (no failover is coming), not after `socketConnectTimeout`. Both recover once
// the server accepts connections again.
import { ConnectionError, createCache } from '@cachex/redis'
import { startCluster, startSentinels } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { expect, it } from 'vitest'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** What `call` rejected with (`undefined` if it resolved) and how long it took. */
async function outcome(call: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const t0 = performance.now()
  try {
    await call()
    return { error: undefined, ms: performance.now() - t0 }
  } catch (error) {
    return { error, ms: performance.now() - t0 }
  }
}

/** An admin connection to `url` that can fill the server: kill its other clients, maxclients 1. */
async function admin(url: string) {
  const client = createClient({ url })
  client.on('error', () => undefined)
  await client.connect()
  return {
    fill: () =>
      client
        .multi()
        .addCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'])
        .addCommand(['CONFIG', 'SET', 'maxclients', '1'])
        .exec(),
    free: () => client.sendCommand(['CONFIG', 'SET', 'maxclients', '1000']),
    close: async () => {
      await client.sendCommand(['CONFIG', 'SET', 'maxclients', '1000']).catch(() => undefined)
      await client.close()
    },
  }
}

/** Milliseconds until `call` succeeds (tried every 100 ms for up to 15 s), or -1. */
async function recovery(call: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  while (performance.now() - t0 < 15_000) {
    if ((await outcome(call)).error === undefined) return performance.now() - t0
    await sleep(100)
  }
  return -1
}

it('cluster: a full node fails its calls at once with the reason, no ACL advice', async () => {
  const cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
  const cache = createCache({ client: 'cluster', location: [...cluster.seeds], keyPrefix: 'hx' })
  const node = await cluster.primaryFor('hx:1:a')
  const server = await admin(node.url)
  try {
    let other = 'b'
    for (let i = 0; i < 100; i++) {
      if ((await cluster.primaryFor(`hx:1:o${i}`)).port !== node.port) {
        other = `o${i}`
        break
      }
    }
    await cache.set('a', 1)
    await cache.set(other, 2)
    await server.fill()
    await sleep(300)
    const get = await outcome(() => cache.get('a'))
    const set = await outcome(() => cache.set('a', 3))
    expect(await cache.get(other)).toBe(2)
    for (const { error } of [get, set]) {
      expect(error).toBeInstanceOf(ConnectionError)
      expect((error as Error).message).toMatch(/max number of clients/)
      expect((error as Error).message).not.toMatch(/ACL|password/)
    }
    await server.free()
    // Retried at the reconnection pace (up to 2 s apart), not a refused password's 10 s.
    expect(await recovery(() => cache.set('a', 5))).toBeGreaterThanOrEqual(0)
    expect(await cache.get('a')).toBe(5)
  } finally {
    await server.close()
    await cache.close()
    await cluster.stop()
  }
}, 120_000)

it('sentinel: reads on a full primary fail at once, as writes do', async () => {
  const deployment = await startSentinels({ replicas: 0, sentinels: 1 })
  const cache = createCache({
    client: 'sentinel',
    location: deployment.location,
    sentinels: deployment.addresses,
    keyPrefix: 'hx',
  })
  const server = await admin((await deployment.currentPrimary()).url)
  try {
    await cache.set('a', 1)
    await server.fill()
    await sleep(300)
    const get = await outcome(() => cache.get('a'))
    const set = await outcome(() => cache.set('a', 2))
    const getAgain = await outcome(() => cache.get('a'))
    for (const { error, ms } of [get, set, getAgain]) {
      expect(error).toBeInstanceOf(ConnectionError)
      expect((error as Error).message).toMatch(/max number of clients/)
      // The server answered: it is up, not "unreachable" (a look at the network).
      expect((error as Error).message).toMatch(/refused the connection/)
      expect((error as Error).message).not.toMatch(/unreachable/)
      // Not the 5 s socketConnectTimeout a read waited for a failover that is not coming.
      expect(ms).toBeLessThan(2500)
    }
    await server.free()
    expect(await recovery(() => cache.set('a', 5))).toBeGreaterThanOrEqual(0)
    expect(await recovery(() => cache.get('a'))).toBeGreaterThanOrEqual(0)
    expect(await cache.get('a')).toBe(5)
  } finally {
    await server.close()
    await cache.close()
    await deployment.stop()
  }
}, 120_000)
