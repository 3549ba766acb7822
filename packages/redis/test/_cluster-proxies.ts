// A 3-primary cluster with a RESP proxy in front of each node, reached through
// `clusterOptions.nodeAddressMap`: tests tamper with what the nodes answer (`CLUSTER SLOTS`…).
import { startCluster, type TestCluster } from '@cachex/test-utils'
import { createCache } from '../src/index.ts'
import { type RespProxy, startProxy } from './_resp-proxy.ts'

/** A tamper for every node proxy; `node`: the real port of the node behind it. */
export type ClusterTamper = (
  args: string[],
  reply: Buffer,
  node: number,
) => undefined | string | Buffer

/** The cluster, its proxies and a cache factory that reaches the nodes through them. */
export interface ClusterEnv {
  cluster: TestCluster
  /** real port -> proxy */
  proxies: Map<number, RespProxy>
  tamper: ClusterTamper | undefined
  /** What escaped as an uncaught exception or unhandled rejection. */
  crashes: unknown[]
  seeds: string[]
  newCache(extra?: Record<string, unknown>): ReturnType<typeof createCache>
  stop(): Promise<void>
}

/** Starts a cluster of 3 primaries (and `replicasPerPrimary` replicas each) behind proxies. */
export async function setupCluster(replicasPerPrimary = 0): Promise<ClusterEnv> {
  const cluster = await startCluster({ primaries: 3, replicasPerPrimary })
  const proxies = new Map<number, RespProxy>()
  const crashes: unknown[] = []
  const onCrash = (e: unknown) => crashes.push(e)
  process.on('uncaughtException', onCrash)
  process.on('unhandledRejection', onCrash)
  const env: ClusterEnv = {
    cluster,
    proxies,
    tamper: undefined,
    crashes,
    seeds: [],
    newCache(extra = {}) {
      return createCache({
        client: 'cluster',
        location: env.seeds,
        socketTimeout: 1,
        socketConnectTimeout: 2,
        ...extra,
        clusterOptions: {
          nodeAddressMap: (address: string) => {
            const port = Number(address.slice(address.lastIndexOf(':') + 1))
            const proxy = proxies.get(port)
            return proxy === undefined ? undefined : { host: '127.0.0.1', port: proxy.port }
          },
          ...((extra.clusterOptions as object) ?? {}),
        },
      } as never)
    },
    async stop() {
      process.off('uncaughtException', onCrash)
      process.off('unhandledRejection', onCrash)
      for (const p of proxies.values()) await p.close()
      await cluster.stop()
    },
  }
  for (const node of cluster.nodes) {
    const proxy = await startProxy(node.url)
    proxy.tamper = (args, reply) => env.tamper?.(args, reply, node.port)
    proxies.set(node.port, proxy)
  }
  env.seeds = [...proxies.values()].map((p) => p.url)
  return env
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
