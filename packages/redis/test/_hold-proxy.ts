// A 3-primary cluster behind RESP proxies (`_cluster-proxies.ts`) whose tamper may hold a reply
// (and every later one on that socket) until a promise settles, or rewrite it: a test acts on the
// cluster (moves a slot) at an exact point of a walk.
import { startCluster } from '@cachex/test-utils'
import { afterAll, beforeAll } from 'vitest'
import { createCache } from '../src/index.ts'
import { type ProxiedCluster, proxiedCacheOptions, proxyNodes } from './_cluster-proxies.ts'
import type { RespProxy } from './_resp-proxy.ts'

/** Rewrites a reply (a string or bytes), or holds it until it settles; `node`: the real port. */
export type HoldTamper = (
  args: string[],
  reply: Buffer,
  node: number,
) => undefined | string | Buffer | Promise<undefined | string | Buffer>

/** The cluster of `setupHoldCluster()`: replies rewritten or held by `tamper`. */
export interface HoldEnv extends ProxiedCluster {
  tamper: HoldTamper | undefined
}

/**
 * Starts a cluster of 3 primaries (and `replicasPerPrimary` replicas each) behind hold proxies.
 * `into`: the object to make the env of (by default a new one).
 */
export async function setupHoldCluster(
  replicasPerPrimary = 0,
  into: Partial<HoldEnv> = {},
): Promise<HoldEnv> {
  const cluster = await startCluster({ primaries: 3, replicasPerPrimary })
  const proxies = new Map<number, RespProxy>()
  const caches: Array<ReturnType<typeof createCache>> = []
  const env: HoldEnv = Object.assign(into, {
    cluster,
    proxies,
    tamper: undefined,
    seeds: [],
    newCache(extra: Record<string, unknown> = {}) {
      const c = createCache(proxiedCacheOptions(env, extra) as never)
      caches.push(c)
      return c
    },
    /** Closes the caches `newCache()` made, then the proxies and the cluster. */
    async stop() {
      for (const c of caches) await c.close().catch(() => undefined)
      for (const p of proxies.values()) await p.close()
      await cluster.stop()
    },
  })
  await proxyNodes(env, (proxy, node) => {
    proxy.hold = (args, reply) => env.tamper?.(args, reply, node)
  })
  return env
}

/**
 * `setupHoldCluster(replicasPerPrimary)` for a test file, at its top level: started before its
 * tests; after them the tamper is cleared and the cluster stopped.
 */
export function useHoldCluster(replicasPerPrimary = 0): HoldEnv {
  const env = {} as HoldEnv
  beforeAll(async () => {
    await setupHoldCluster(replicasPerPrimary, env)
  }, 90_000)
  afterAll(async () => {
    env.tamper = undefined
    await env.stop?.()
  })
  return env
}
