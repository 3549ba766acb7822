// A RESP proxy whose tamper may hold a reply (and every later one on that socket) until a promise
// settles, or rewrite it: a test acts on the cluster (moves a slot) at an exact point of a walk.
// And a 3-primary cluster behind such proxies, reached through `clusterOptions.nodeAddressMap`.
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'
import { startCluster, type TestCluster } from '@cachex/test-utils'
import { createCache } from '../src/index.ts'
import { frameEnd, parseCommand } from './_resp-proxy.ts'

/** Rewrites a reply (a string or bytes), or holds it until it settles; `node`: the real port. */
export type HoldTamper = (
  args: string[],
  reply: Buffer,
  node: number,
) => undefined | string | Buffer | Promise<undefined | string | Buffer>

export interface HoldProxy {
  port: number
  url: string
  close(): Promise<void>
}

/** A proxy to the node at `target`, whose replies pass through `tamper()` in order. */
export async function startHoldProxy(
  target: string,
  node: number,
  tamper: () => HoldTamper | undefined,
): Promise<HoldProxy> {
  const { hostname, port } = new URL(target)
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    sockets.add(client)
    const upstream = connect(Number(port), hostname)
    sockets.add(upstream)
    const pending: string[][] = []
    let inBuf = Buffer.alloc(0)
    let outBuf = Buffer.alloc(0)
    let chain: Promise<unknown> = Promise.resolve()
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.on('close', () => {
      sockets.delete(client)
      upstream.destroy()
    })
    upstream.on('close', () => {
      sockets.delete(upstream)
      client.destroy()
    })
    client.on('data', (chunk: Buffer) => {
      inBuf = Buffer.concat([inBuf, chunk])
      let pos = 0
      for (;;) {
        const c = parseCommand(inBuf, pos)
        if (c === undefined) break
        pending.push(c.args)
        pos = c.end
      }
      inBuf = inBuf.subarray(pos)
      upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      outBuf = Buffer.concat([outBuf, chunk])
      let pos = 0
      for (;;) {
        const end = frameEnd(outBuf, pos)
        if (end === -1) break
        const reply = Buffer.from(outBuf.subarray(pos, end))
        pos = end
        if (reply[0] === 0x3e) {
          chain = chain.then(() => client.destroyed || client.write(reply))
          continue
        }
        const args = pending.shift() ?? []
        chain = chain.then(async () => {
          let t: undefined | string | Buffer
          try {
            t = await tamper()?.(args, reply, node)
          } catch {
            t = undefined
          }
          if (!client.destroyed) client.write(t === undefined ? reply : t)
        })
      }
      outBuf = outBuf.subarray(pos)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const p = (server.address() as AddressInfo).port
  return {
    port: p,
    url: `redis://127.0.0.1:${p}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      }),
  }
}

export interface HoldEnv {
  cluster: TestCluster
  proxies: Map<number, HoldProxy>
  tamper: HoldTamper | undefined
  seeds: string[]
  newCache(extra?: Record<string, unknown>): ReturnType<typeof createCache>
  stop(): Promise<void>
}

/** Starts a cluster of 3 primaries (and `replicasPerPrimary` replicas each) behind hold proxies. */
export async function setupHoldCluster(replicasPerPrimary = 0): Promise<HoldEnv> {
  const cluster = await startCluster({ primaries: 3, replicasPerPrimary })
  const proxies = new Map<number, HoldProxy>()
  const caches: Array<ReturnType<typeof createCache>> = []
  const env: HoldEnv = {
    cluster,
    proxies,
    tamper: undefined,
    seeds: [],
    newCache(extra = {}) {
      const c = createCache({
        client: 'cluster',
        location: env.seeds,
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
      caches.push(c)
      return c
    },
    async stop() {
      for (const c of caches) await c.close().catch(() => undefined)
      for (const p of proxies.values()) await p.close()
      await cluster.stop()
    },
  }
  for (const node of cluster.nodes) {
    proxies.set(node.port, await startHoldProxy(node.url, node.port, () => env.tamper))
  }
  env.seeds = [...proxies.values()].map((p) => p.url)
  return env
}
