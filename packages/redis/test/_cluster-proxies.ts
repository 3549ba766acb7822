// A 3-primary cluster with a RESP proxy in front of each node, reached through
// `clusterOptions.nodeAddressMap`: tests tamper with what the nodes answer (`CLUSTER SLOTS`…).
import { startCluster, type TestCluster } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll } from 'vitest'
import { createCache } from '../src/index.ts'
import { type RespProxy, startProxy } from './_resp-proxy.ts'

/** A tamper for every node proxy; `node`: the real port of the node behind it. */
export type ClusterTamper = (
  args: string[],
  reply: Buffer,
  node: number,
) => undefined | string | Buffer

/** A cluster, its proxies and a cache factory that reaches the nodes through them. */
export interface ProxiedCluster {
  cluster: TestCluster
  /** real port -> proxy */
  proxies: Map<number, RespProxy>
  /** The proxies' URLs. */
  seeds: string[]
  newCache(extra?: Record<string, unknown>): ReturnType<typeof createCache>
  stop(): Promise<void>
}

/** The cluster of `setupCluster()`: replies rewritten by `tamper`. */
export interface ClusterEnv extends ProxiedCluster {
  tamper: ClusterTamper | undefined
  /** What escaped as an uncaught exception or unhandled rejection. */
  crashes: unknown[]
}

/**
 * Starts a cluster of 3 primaries (and `replicasPerPrimary` replicas each) behind proxies. `into`:
 * the object to make the env of (by default a new one).
 */
export async function setupCluster(
  replicasPerPrimary = 0,
  into: Partial<ClusterEnv> = {},
): Promise<ClusterEnv> {
  const cluster = await startCluster({ primaries: 3, replicasPerPrimary })
  const proxies = new Map<number, RespProxy>()
  const crashes: unknown[] = []
  const onCrash = (e: unknown) => crashes.push(e)
  process.on('uncaughtException', onCrash)
  process.on('unhandledRejection', onCrash)
  const env: ClusterEnv = Object.assign(into, {
    cluster,
    proxies,
    tamper: undefined,
    crashes,
    seeds: [],
    newCache(extra: Record<string, unknown> = {}) {
      return createCache(
        proxiedCacheOptions(env, { socketTimeout: 1, socketConnectTimeout: 2, ...extra }) as never,
      )
    },
    async stop() {
      process.off('uncaughtException', onCrash)
      process.off('unhandledRejection', onCrash)
      for (const p of proxies.values()) await p.close()
      await cluster.stop()
    },
  })
  await proxyNodes(env, (proxy, node) => {
    proxy.tamper = (args, reply) => env.tamper?.(args, reply, node)
  })
  return env
}

/**
 * Starts a proxy in front of each node of `env.cluster`, set up by `wire` (`node`: the node's real
 * port), into `env.proxies` (real port -> proxy); `env.seeds`: the proxies' URLs.
 */
export async function proxyNodes(
  env: Pick<ProxiedCluster, 'cluster' | 'proxies' | 'seeds'>,
  wire: (proxy: RespProxy, node: number) => void,
): Promise<void> {
  for (const node of env.cluster.nodes) {
    const proxy = await startProxy(node.url)
    wire(proxy, node.port)
    env.proxies.set(node.port, proxy)
  }
  env.seeds = [...env.proxies.values()].map((p) => p.url)
}

/**
 * The options of a cluster cache seeded with `env.seeds` whose node addresses map to their
 * proxies in `env.proxies` (real port -> proxy); `extra` goes over them (its `clusterOptions` over
 * the map).
 */
export function proxiedCacheOptions(
  env: Pick<ProxiedCluster, 'proxies' | 'seeds'>,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  return {
    client: 'cluster',
    location: env.seeds,
    ...extra,
    clusterOptions: {
      nodeAddressMap: (address: string) => {
        const port = Number(address.slice(address.lastIndexOf(':') + 1))
        const proxy = env.proxies.get(port)
        return proxy === undefined ? undefined : { host: '127.0.0.1', port: proxy.port }
      },
      ...((extra.clusterOptions as object) ?? {}),
    },
  }
}

/**
 * `setupCluster(replicasPerPrimary)` for a test file, at its top level: started before its tests;
 * after them the tamper is cleared, every cache its `newCache()` made closed, the cluster stopped.
 */
export function useCluster(replicasPerPrimary = 0): ClusterEnv {
  const env = {} as ClusterEnv
  const caches: Array<ReturnType<ClusterEnv['newCache']>> = []
  beforeAll(async () => {
    await setupCluster(replicasPerPrimary, env)
    const make = env.newCache
    env.newCache = (extra) => {
      const cache = make(extra)
      caches.push(cache)
      return cache
    }
  }, 120_000)
  afterAll(async () => {
    env.tamper = undefined
    for (const cache of caches) await cache.close().catch(() => undefined)
    await env.stop?.()
  })
  return env
}

/** `cluster`'s CLUSTER SLOTS reply of a stale view: the ranges of one primary named as another's. */
export async function staleSlots(cluster: TestCluster): Promise<unknown[]> {
  const client = createClient({ socket: { host: '127.0.0.1', port: cluster.nodes[0]?.port } })
  client.on('error', () => undefined)
  await client.connect()
  const raw = (await client.sendCommand(['CLUSTER', 'SLOTS'])) as unknown[][]
  await client.close()
  const slots = raw.map((entry) => {
    const master = entry[2] as unknown[]
    return [
      Number(entry[0]),
      Number(entry[1]),
      [String(master[0]), Number(master[1]), String(master[2])],
    ] as const
  })
  const victim = slots[0]?.[2][1]
  const other = slots.find((entry) => entry[2][1] !== victim)?.[2]
  return slots.map((entry) => (entry[2][1] === victim ? [entry[0], entry[1], other] : entry))
}

/** What `p` settled to: its value, or the error it rejected with. */
export async function settle<T>(p: Promise<T>): Promise<{ value?: T; error?: Error }> {
  try {
    return { value: await p }
  } catch (error) {
    return { error: error as Error }
  }
}

/** RESP encoding of a CLUSTER SLOTS-like value (strings as bulk, numbers as integers). */
export function resp(v: unknown): string {
  if (v === null) return '$-1\r\n'
  if (typeof v === 'number') return `:${v}\r\n`
  if (typeof v === 'string') return `$${Buffer.byteLength(v)}\r\n${v}\r\n`
  if (Array.isArray(v)) return `*${v.length}\r\n${v.map(resp).join('')}`
  throw new Error(`no RESP encoding for ${String(v)}`)
}

/** The command of `args`, upper case, with its subcommand for CLUSTER: 'CLUSTER SLOTS'. */
export function cmd(args: string[]): string {
  const a = (args[0] ?? '').toUpperCase()
  return a === 'CLUSTER' ? `${a} ${(args[1] ?? '').toUpperCase()}` : a
}
