// close() while a connection is being made, on every topology: the calls waiting for it settle at
// once, and no connection is left open on any server (node-redis 6 keeps the socket of a connection
// attempt that was under way when destroy() ran, and that socket holds the process open).
import { ClosedError, type Connection } from '@cachex/core'
import {
  type RedisServer,
  startCluster,
  startRedis,
  startReplicaSet,
  startSentinels,
} from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, describe, expect, it } from 'vitest'
import { cluster, replica, sentinel, standalone } from '../src/index.ts'

interface Deployment {
  /** Every server a connection of this topology talks to (sentinels too). */
  servers: readonly RedisServer[]
  open(): Connection
  stop(): Promise<void>
}

const topologies: Array<[string, () => Promise<Deployment>]> = [
  [
    'standalone',
    async () => {
      const server = await startRedis()
      return {
        servers: [server],
        open: () => standalone({ location: server.url }),
        stop: () => server.stop(),
      }
    },
  ],
  [
    'replica',
    async () => {
      const set = await startReplicaSet({ replicas: 1 })
      return {
        servers: [set.primary, ...set.replicas],
        open: () => replica({ location: [...set.urls] }),
        stop: () => set.stop(),
      }
    },
  ],
  [
    'sentinel',
    async () => {
      const d = await startSentinels({ replicas: 1 })
      return {
        servers: [d.primary, ...d.replicas, ...d.sentinels],
        open: () => sentinel({ location: d.location, sentinels: d.addresses }),
        stop: () => d.stop(),
      }
    },
  ],
  [
    'cluster',
    async () => {
      const c = await startCluster()
      return {
        servers: c.nodes,
        open: () => cluster({ location: [...c.seeds] }),
        stop: () => c.stop(),
      }
    },
  ],
]

/** The clients connected to `server`, the one asking excluded. */
async function clientsOf(server: RedisServer): Promise<number> {
  const client = createClient({ socket: { port: server.port, host: '127.0.0.1' } })
  client.on('error', () => {})
  await client.connect()
  try {
    const info = String(await client.sendCommand(['INFO', 'clients']))
    return Number(/connected_clients:(\d+)/.exec(info)?.[1]) - 1
  } finally {
    client.destroy()
  }
}

const counts = (servers: readonly RedisServer[]) => Promise.all(servers.map(clientsOf))

/**
 * The client counts of `servers` once they are back to `before`, or after 10 s: the servers see
 * each close a moment later, and a leaked socket stays connected for good.
 */
async function countsBackTo(servers: readonly RedisServer[], before: number[]) {
  let after = await counts(servers)
  for (let waited = 0; waited < 10_000 && after.join() !== before.join(); waited += 200) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    after = await counts(servers)
  }
  return after
}

const stops: Array<() => Promise<void>> = []
afterAll(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()))
})

describe.each(topologies)('%s', (_name, deploy) => {
  it('a call waiting for the connection settles at once, and no connection stays open', async () => {
    const deployment = await deploy()
    stops.push(() => deployment.stop())
    const before = await counts(deployment.servers)
    const outcomes: unknown[] = []
    // Closed 0–14 ms after the first call: before, during and after each step of connecting.
    for (let i = 0; i < 30; i++) {
      const connection = deployment.open()
      const call = connection.command(['GET', 'k'], { readonly: i % 2 === 0, key: 'k' }).then(
        () => 'ok',
        (error: unknown) => error,
      )
      await new Promise((resolve) => setTimeout(resolve, i % 15))
      await connection.close()
      outcomes.push(await call)
    }
    for (const outcome of outcomes) {
      if (outcome !== 'ok') expect(outcome).toBeInstanceOf(ClosedError)
    }
    expect(await countsBackTo(deployment.servers, before)).toEqual(before)
  }, 120_000)
})

describe('cluster, while node-redis rediscovers its slot map', () => {
  it('the clients the discovery opens after close() are destroyed: no connection stays open', async () => {
    const c = await startCluster()
    stops.push(() => c.stop())
    const before = await counts(c.nodes)
    const connection = cluster({ location: [...c.seeds] })
    await connection.command(['SET', 'k', 'v'], { key: 'k' })
    const client = (await connection.client()) as {
      _slots: { rediscover(): Promise<unknown> }
    }
    // Every node paused for 500 ms: the rediscovery waits for the slot map while close() runs,
    // then opens a client to each node of the map it got.
    const admins = await Promise.all(
      c.nodes.map(async (node) => {
        const admin = createClient({ socket: { port: node.port, host: '127.0.0.1' } })
        admin.on('error', () => {})
        await admin.connect()
        return admin
      }),
    )
    await Promise.all(admins.map((admin) => admin.sendCommand(['CLIENT', 'PAUSE', '500', 'ALL'])))
    const rediscovery = client._slots.rediscover().catch(() => undefined)
    await connection.close()
    await rediscovery
    for (const admin of admins) admin.destroy()
    expect(await countsBackTo(c.nodes, before)).toEqual(before)
  }, 120_000)
})
