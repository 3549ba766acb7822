// The topologies the local tier's coherence tests run on: each started once, with what a cache,
// a child process, redis-cli and Django need to reach it, and a way to fail its primary over.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import {
  type ClusterNode,
  delay,
  type RedisServer,
  startCluster,
  startRedis,
  startReplicaSet,
  startSentinels,
} from '@cachex/test-utils'
import { createClient, createCluster } from '@redis/client'

const run = promisify(execFile)

/** The topologies, by name. */
export type TopologyName =
  | 'standalone'
  | 'replicas'
  | 'sentinel'
  | 'cluster'
  | 'cluster, reads from replicas'

/** A running topology. */
export interface Topology {
  /** Connection options of `createCache` (JSON: a child process gets them on its command line). */
  readonly options: Record<string, unknown>
  /** Sends a command to the primary that holds `rkey` (a raw client: neither cachex nor Django). */
  send(rkey: string, args: string[]): Promise<unknown>
  /** Runs `redis-cli` (the binary) against the primary that holds `rkey`; its output. */
  cli(rkey: string, args: string[]): Promise<string>
  /** Django's `LOCATION` (and sentinels) for a write of `rkey`. */
  django(
    rkey: string,
  ): Promise<{ url: string; sentinels?: ReadonlyArray<readonly [string, number]> }>
  /** Waits until every replica of `rkey`'s primary has every write made on it so far. */
  synced(rkey: string): Promise<void>
  /**
   * Kills the primary that holds `rkey` and resolves once a promoted replica took a write
   * (Sentinel and Cluster only).
   */
  failover?(rkey: string): Promise<void>
  /** Starts the node `failover` killed again, empty: it rejoins as a replica. */
  rejoin?(): Promise<void>
  stop(): Promise<void>
}

/** A plain node-redis client: neither cachex nor Django. */
interface Raw {
  sendCommand(args: string[]): Promise<unknown>
  close(): Promise<unknown>
}

async function rawClient(url: string): Promise<Raw> {
  const client = createClient({ url })
  client.on('error', () => undefined)
  await client.connect()
  return client
}

/** Waits for replicas to acknowledge the writes made on `client` (WAIT, in short steps). */
async function waitReplicas(client: Raw, replicas: number): Promise<void> {
  const until = Date.now() + 30_000
  while (Number(await client.sendCommand(['WAIT', String(replicas), '200'])) < replicas) {
    if (Date.now() > until) throw new Error('the replicas did not acknowledge the writes')
  }
}

/** Retries `step` until it resolves; bounded only against hangs. */
async function retry<T>(step: () => Promise<T>, ms = 120_000): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    try {
      return await step()
    } catch (error) {
      if (Date.now() > until) throw error
      await delay(50)
    }
  }
}

/** A single server or a primary with replicas (a list of URLs, primary first). */
async function replicaTopology(replicas: number): Promise<Topology> {
  const set =
    replicas === 0
      ? { primary: await startRedis(), replicas: [], urls: [] as string[] }
      : await startReplicaSet({ replicas })
  const urls = replicas === 0 ? [set.primary.url] : [...set.urls]
  const primary = await rawClient(set.primary.url)
  return {
    options: { location: replicas === 0 ? set.primary.url : urls },
    send: (_rkey, args) => primary.sendCommand(args),
    cli: async (_rkey, args) =>
      (await run('redis-cli', ['-p', String(set.primary.port), ...args])).stdout,
    django: async () => ({ url: urls.join(',') }),
    synced: async () => {
      if (replicas > 0) await waitReplicas(primary, replicas)
    },
    stop: async () => {
      await primary.close().catch(() => undefined)
      if ('stop' in set) await set.stop()
      else await set.primary.stop()
    },
  }
}

/** A primary, two replicas (both serving reads) and three sentinels. */
async function sentinelTopology(): Promise<Topology> {
  const d = await startSentinels({ replicas: 2 })
  let current: RedisServer = d.primary
  let killed: RedisServer | undefined
  let primary = await rawClient(current.url)
  /**
   * Follows the sentinels, as a client of the deployment does: a node they no longer call the
   * primary may still take a write until they reconfigure it, and lose it then (on a loaded
   * machine the sentinels sometimes fail over a second time after the old primary rejoins: a
   * write sent to the node of the first failover was lost so, and the test waited for it).
   */
  const follow = async () => {
    const now = await d.currentPrimary()
    if (now.port === current.port) return
    current = now
    await primary.close().catch(() => undefined)
    primary = await rawClient(current.url)
  }
  return {
    options: { client: 'sentinel', location: d.location, sentinels: d.addresses },
    send: async (_rkey, args) => {
      await follow()
      return primary.sendCommand(args)
    },
    cli: async (_rkey, args) => {
      await follow()
      return (await run('redis-cli', ['-p', String(current.port), ...args])).stdout
    },
    django: async () => ({ url: d.location, sentinels: d.addresses }),
    synced: () => waitReplicas(primary, 2),
    failover: async () => {
      const old = current
      killed = old
      await old.kill()
      current = await d.waitForFailover(old, 120_000)
      await primary.close().catch(() => undefined)
      primary = await rawClient(current.url)
      // The promoted replica takes writes once it is done switching roles.
      await retry(() => primary.sendCommand(['SET', 'failover-probe', '1']))
    },
    rejoin: async () => {
      await killed?.start()
    },
    stop: async () => {
      await primary.close().catch(() => undefined)
      await d.stop()
    },
  }
}

/** Three primaries with a replica each; reads on the primaries or on the replicas too. */
async function clusterTopology(readFromReplicas: boolean): Promise<Topology> {
  const c = await startCluster({ primaries: 3, replicasPerPrimary: 1 })
  const client = createCluster({ rootNodes: c.seeds.map((url) => ({ url })) })
  client.on('error', () => undefined)
  await client.connect()
  const seedPort = new URL(c.seeds[0] as string).port
  let killed: ClusterNode | undefined
  const onPrimary = async <T>(rkey: string, use: (node: Raw) => Promise<T>): Promise<T> => {
    const node = await rawClient((await c.primaryFor(rkey)).url)
    try {
      return await use(node)
    } finally {
      await node.close().catch(() => undefined)
    }
  }
  return {
    options: { client: 'cluster', location: [...c.seeds], readFromReplicas },
    send: (rkey, args) => client.sendCommand(rkey, false, args),
    // -c: redis-cli follows MOVED to the node that holds the key.
    cli: async (_rkey, args) => (await run('redis-cli', ['-c', '-p', seedPort, ...args])).stdout,
    // django-redis (5.2) has no cluster client: Django writes through a standalone LOCATION, the
    // primary that owns the key's slot now, as a Django app sharded by hand would.
    django: async (rkey) => ({ url: (await c.primaryFor(rkey)).url }),
    synced: (rkey) => onPrimary(rkey, (node) => waitReplicas(node, 1)),
    failover: async (rkey) => {
      const before: ClusterNode = await c.primaryFor(rkey)
      killed = before
      await c.kill(before)
      await retry(async () => {
        if ((await c.primaryFor(rkey)).port === before.port) throw new Error('not yet')
      })
      await retry(() => client.sendCommand(rkey, false, ['SET', `{${rkey}}probe`, '1']))
    },
    rejoin: async () => {
      if (killed !== undefined) await c.restart(killed)
      await c.waitUntilHealthy(120_000)
    },
    stop: async () => {
      await client.close().catch(() => undefined)
      await c.stop()
    },
  }
}

/** Starts the topology `name`. */
export function startTopology(name: TopologyName): Promise<Topology> {
  switch (name) {
    case 'standalone':
      return replicaTopology(0)
    case 'replicas':
      return replicaTopology(2)
    case 'sentinel':
      return sentinelTopology()
    case 'cluster':
      return clusterTopology(false)
    case 'cluster, reads from replicas':
      return clusterTopology(true)
  }
}
