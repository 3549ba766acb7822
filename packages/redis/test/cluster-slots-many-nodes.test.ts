// A CLUSTER SLOTS reply that names a few hundred distinct nodes (a broken or hostile cluster, or
// a very large one) must not stall the process: making a node-redis client for each node at once
// blocked the event loop for seconds, and comparing the map's replica lists was quadratic in
// their length on every refresh. The nodes named are loopback addresses on a closed port (and
// `nodeAddressMap` sends every address outside the cluster to that port): nothing answers them.
import { freePort } from '@cachex/test-utils'
import { beforeAll, expect, it } from 'vitest'
import { cmd, resp, useCluster } from './_cluster-proxies.ts'

const env = useCluster(0)
let closed: number
beforeAll(async () => {
  closed = await freePort()
})

/** The most CPU time the event loop may spend without yielding (see `longestGap`). */
const MAX_GAP_MS = 1000

/** `count` distinct loopback nodes, on the closed port. */
function strangers(count: number): unknown[][] {
  return Array.from({ length: count }, (_, i) => [
    `127.0.${1 + Math.floor(i / 250)}.${2 + (i % 250)}`,
    closed,
    'e'.repeat(40),
  ])
}

/**
 * A cache that reaches the cluster's nodes through their proxies; any other address goes to the
 * closed port of its own loopback host (distinct sockets, as distinct nodes have: node-redis
 * reuses the client class of options equal to the last ones).
 */
function newCache(extra: Record<string, unknown> = {}) {
  return env.newCache({
    // Connecting to the real nodes is not what is tested: a loaded machine gets the time it takes.
    socketConnectTimeout: 10,
    ...extra,
    clusterOptions: {
      nodeAddressMap: (address: string) => {
        const colon = address.lastIndexOf(':')
        const proxy = env.proxies.get(Number(address.slice(colon + 1)))
        const host = address.slice(0, colon)
        if (host === '127.0.0.1' && proxy !== undefined) return { host, port: proxy.port }
        return { host: /^127\.\d+\.\d+\.\d+$/.test(host) ? host : '127.0.0.1', port: closed }
      },
    },
  })
}

/**
 * The longest stall of the event loop while `run` runs: of the gaps between 20 ms ticks, the most
 * CPU time this process spent in one (at most the gap). A gap the scheduler made, the process not
 * running on a loaded machine, costs no CPU; a loop blocked by work does.
 */
async function longestGap(run: () => Promise<void>): Promise<number> {
  let last = performance.now()
  let cpu = process.cpuUsage()
  let gap = 0
  const timer = setInterval(() => {
    const now = performance.now()
    const used = process.cpuUsage(cpu)
    gap = Math.max(gap, Math.min(now - last, (used.user + used.system) / 1000))
    last = now
    cpu = process.cpuUsage()
  }, 20)
  try {
    await run()
  } finally {
    clearInterval(timer)
  }
  return Math.round(gap)
}

/** Three walks of the keys, each asking for the slot map first; errors are not the point. */
async function walks(cache: ReturnType<typeof newCache>): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await cache.keys('sm:*').catch(() => {})
    await new Promise((r) => setTimeout(r, 300))
  }
}

/**
 * Three walks of a cache made with `extra`, every node answering CLUSTER SLOTS with `text`: the
 * event loop never stalls past MAX_GAP_MS, and nothing escapes unhandled.
 */
async function walksDoNotStall(text: string, extra: Record<string, unknown> = {}): Promise<void> {
  const cache = newCache(extra)
  try {
    await cache.set('sm:warm', 1)
    env.tamper = (args) => (cmd(args) === 'CLUSTER SLOTS' ? text : undefined)
    const gap = await longestGap(() => walks(cache))
    env.tamper = undefined
    expect(gap, 'longest event-loop stall (ms)').toBeLessThan(MAX_GAP_MS)
    expect(env.crashes.map(String)).toEqual([])
  } finally {
    env.tamper = undefined
    await cache.close()
  }
}

it('400 distinct primaries in CLUSTER SLOTS do not block the event loop', async () => {
  const real = env.cluster.nodes[0]?.port as number
  const ranges: unknown[] = [[0, 999, ['127.0.0.1', real, 'f'.repeat(40)]]]
  strangers(400).forEach((node, i) => {
    ranges.push([1000 + i * 30, 1000 + i * 30 + 29, node])
  })
  await walksDoNotStall(resp(ranges))
}, 120_000)

it('400 distinct replicas in CLUSTER SLOTS: refreshes do not block the event loop', async () => {
  const real = env.cluster.nodes[0]?.port as number
  const text = resp([[0, 16383, ['127.0.0.1', real, 'f'.repeat(40)], ...strangers(400)]])
  await walksDoNotStall(text, { readFromReplicas: true })
}, 120_000)
