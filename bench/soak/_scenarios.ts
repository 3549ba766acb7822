// The scenarios of `pnpm soak`: what each does to the topology while the load runs.
import { execFile } from 'node:child_process'
import {
  type ClusterNode,
  delay,
  freePort,
  type RedisServer,
  type SentinelDeployment,
  startRedis,
  type TestCluster,
} from '@cachex/test-utils'
import { createClient } from '@redis/client'

/** What a scenario reports of its own action, in ms since the run began. */
export interface Markers {
  /** When the action started. */
  actionAt: number
  /** When the action was over (a resharding done, a paused node resumed…). */
  doneAt: number
  /** When a replica took over (a sentinel announced it, or the replica says it is a primary). */
  switchAt?: number
  /** When the killed node was started again, empty. */
  restartAt?: number
  /** Why the action failed, if it did. */
  failed?: string
}

/** What a scenario gets to act on. */
export interface Stage {
  now(): number
  /** To be called the moment the switch is seen (the load then watches for the first write after it). */
  switched(at: number): void
  log(message: string): void
  cluster?: TestCluster
  sentinel?: SentinelDeployment
  /** Processes the scenario started, stopped with the topology. */
  extra: RedisServer[]
}

export interface Scenario {
  /** The name on the command line. */
  name: string
  /** The row of the table. */
  title: string
  topology: 'cluster' | 'sentinel'
  /** What the issue asks of it. */
  target: string
  /** Seconds of load after the action is over. @default 15 */
  after?: number
  act(stage: Stage): Promise<Markers>
}

/** `cluster-node-timeout` of the soak's cluster. */
export const NODE_TIMEOUT_MS = 2000

export const SCENARIOS: Scenario[] = [
  {
    name: 'cluster-reshard',
    title: 'live resharding (2 × 2,000 slots + 14 slots key by key)',
    topology: 'cluster',
    target: '0 errors',
    async act(stage) {
      const cluster = stage.cluster as TestCluster
      const actionAt = stage.now()
      const [a, b, c] = (await cluster.primaries()) as [ClusterNode, ClusterNode, ClusterNode]
      for (const [from, to] of [
        [a, b],
        [b, c],
      ] as const) {
        stage.log(`resharding 2,000 slots from ${from.port} to ${to.port}`)
        await cli(
          [
            '--cluster',
            'reshard',
            `127.0.0.1:${from.port}`,
            '--cluster-from',
            from.id,
            '--cluster-to',
            to.id,
            '--cluster-slots',
            '2000',
            '--cluster-yes',
          ],
          600_000,
        )
        // redis-cli refuses to reshard until every node agrees on the new slot map.
        await waitFor(async () => {
          const out = await cli(['--cluster', 'check', `127.0.0.1:${to.port}`])
          return !out.includes('[ERR]') && !out.includes('[WARNING]')
        }, 30_000)
      }
      stage.log('moving 14 slots one by one')
      const slots = await ownedSlots(c, 14)
      for (const slot of slots) await cluster.moveSlot(slot, a)
      return { actionAt, doneAt: stage.now() }
    },
  },
  {
    name: 'cluster-add-primary',
    title: 'add a primary + rebalance',
    topology: 'cluster',
    target: '0 errors',
    async act(stage) {
      const cluster = stage.cluster as TestCluster
      const actionAt = stage.now()
      const node = await startClusterNode()
      stage.extra.push(node)
      const seed = cluster.nodes[0] as ClusterNode
      stage.log(`adding the primary ${node.port}`)
      await cli(['--cluster', 'add-node', `127.0.0.1:${node.port}`, `127.0.0.1:${seed.port}`])
      await waitFor(async () => {
        const out = await cli(['-p', String(seed.port), 'CLUSTER', 'NODES'])
        return out.includes(`:${node.port}@`) && !out.includes('handshake')
      }, 30_000)
      // every node must know it before the rebalance moves slots to it
      await delay(2000)
      stage.log('rebalancing')
      await cli(
        [
          '--cluster',
          'rebalance',
          `127.0.0.1:${seed.port}`,
          '--cluster-use-empty-masters',
          '--cluster-yes',
        ],
        600_000,
      )
      return { actionAt, doneAt: stage.now() }
    },
  },
  {
    name: 'cluster-kill',
    title: '`kill -9` of a cluster primary',
    topology: 'cluster',
    target: 'writes ≤ 1 s after the promotion',
    async act(stage) {
      const cluster = stage.cluster as TestCluster
      const victim = await cluster.primaryFor('k:0')
      const replica = await cluster.replicaOf(victim)
      if (replica === undefined) throw new Error('the primary has no replica')
      const actionAt = stage.now()
      const promoted = watchPromotion(replica, stage)
      await cluster.kill(victim)
      stage.log(`killed the primary ${victim.port}`)
      const switchAt = await promoted
      stage.log(`replica ${replica.port} promoted`)
      return { actionAt, doneAt: switchAt, switchAt }
    },
  },
  {
    name: 'cluster-sigstop',
    title: '`SIGSTOP` of a cluster primary 15 s',
    topology: 'cluster',
    target: 'writes ≤ 1 s after the promotion',
    after: 10,
    async act(stage) {
      const cluster = stage.cluster as TestCluster
      const victim = await cluster.primaryFor('k:0')
      const replica = await cluster.replicaOf(victim)
      if (replica === undefined) throw new Error('the primary has no replica')
      const actionAt = stage.now()
      const promoted = watchPromotion(replica, stage)
      victim.pause()
      stage.log(`paused the primary ${victim.port}`)
      await delay(15_000)
      victim.resume()
      stage.log('resumed it')
      const switchAt = await promoted
      return { actionAt, doneAt: stage.now(), switchAt }
    },
  },
  {
    name: 'cluster-restart-empty',
    title: 'the killed cluster primary restarts empty',
    topology: 'cluster',
    target: '0 false misses',
    after: 20,
    async act(stage) {
      const cluster = stage.cluster as TestCluster
      const victim = await cluster.primaryFor('k:0')
      const replica = await cluster.replicaOf(victim)
      if (replica === undefined) throw new Error('the primary has no replica')
      const actionAt = stage.now()
      const promoted = watchPromotion(replica, stage)
      await victim.kill()
      const switchAt = await promoted
      await delay(2000)
      await victim.start()
      const restartAt = stage.now()
      stage.log(`restarted ${victim.port}, empty`)
      return { actionAt, doneAt: restartAt, switchAt, restartAt }
    },
  },
  {
    name: 'sentinel-failover',
    title: '`SENTINEL FAILOVER`',
    topology: 'sentinel',
    target: 'reads never stop; writes ≤ 1 s after the switch',
    async act(stage) {
      const deployment = stage.sentinel as SentinelDeployment
      const { switched } = await watchSwitch(deployment, stage)
      const actionAt = stage.now()
      await call((deployment.sentinels[0] as RedisServer).port, [
        'SENTINEL',
        'FAILOVER',
        deployment.name,
      ])
      stage.log('SENTINEL FAILOVER sent')
      const switchAt = await switched
      stage.log('switched')
      return { actionAt, doneAt: switchAt, switchAt }
    },
  },
  {
    name: 'sentinel-kill',
    title: '`kill -9` of the Sentinel primary',
    topology: 'sentinel',
    target: 'reads never stop; writes ≤ 1 s after the switch',
    async act(stage) {
      const deployment = stage.sentinel as SentinelDeployment
      const { switched } = await watchSwitch(deployment, stage)
      const victim = await deployment.currentPrimary()
      const actionAt = stage.now()
      await victim.kill()
      stage.log(`killed the primary ${victim.port}`)
      const switchAt = await switched
      stage.log('switched')
      return { actionAt, doneAt: switchAt, switchAt }
    },
  },
  {
    name: 'sentinel-restart-empty',
    title: 'the killed Sentinel primary restarts empty',
    topology: 'sentinel',
    target: '0 false misses',
    // the sentinels turn it into a replica 10 s after it is back
    after: 20,
    async act(stage) {
      const deployment = stage.sentinel as SentinelDeployment
      const { switched } = await watchSwitch(deployment, stage)
      const victim = await deployment.currentPrimary()
      const actionAt = stage.now()
      await victim.kill()
      const switchAt = await switched
      await delay(2000)
      await victim.start()
      const restartAt = stage.now()
      stage.log(`restarted ${victim.port}, empty`)
      return { actionAt, doneAt: restartAt, switchAt, restartAt }
    },
  },
]

/** Resolves the time `replica` first says it is a primary (ROLE, every 50 ms). */
async function watchPromotion(replica: ClusterNode, stage: Stage): Promise<number> {
  for (;;) {
    try {
      const role = (await call(replica.port, ['ROLE'])) as unknown[]
      if (role[0] === 'master') {
        const at = stage.now()
        stage.switched(at)
        return at
      }
    } catch {
      // not answering for a moment: ask again
    }
    await delay(50)
  }
}

/** Resolves the time a sentinel first announces a new primary (`+switch-master`). */
async function watchSwitch(
  deployment: SentinelDeployment,
  stage: Stage,
): Promise<{ switched: Promise<number> }> {
  const clients: Array<{ destroy(): void }> = []
  let resolve: (at: number) => void = () => {}
  const switched = new Promise<number>((r) => {
    resolve = r
  })
  for (const sentinel of deployment.sentinels) {
    const client = createClient({ socket: { port: sentinel.port, reconnectStrategy: 100 } })
    client.on('error', () => {})
    await client.connect()
    await client.subscribe('+switch-master', () => {
      const at = stage.now()
      stage.switched(at)
      resolve(at)
    })
    clients.push(client)
  }
  // Wrapped: an async function returning a promise would wait for it.
  return {
    switched: switched.finally(() => {
      for (const client of clients) client.destroy()
    }),
  }
}

/** One command on a fresh connection to `127.0.0.1:port`. */
export async function call(port: number, args: string[]): Promise<unknown> {
  const client = createClient({ socket: { port, connectTimeout: 1000, reconnectStrategy: false } })
  client.on('error', () => {})
  try {
    await client.connect()
    return await client.sendCommand(args)
  } finally {
    if (client.isOpen) client.destroy()
  }
}

/** `count` slots that `node` owns. */
async function ownedSlots(node: ClusterNode, count: number): Promise<number[]> {
  const lines = String(await call(node.port, ['CLUSTER', 'NODES'])).split('\n')
  const mine = lines.find((line) => line.includes('myself'))
  const out: number[] = []
  for (const range of (mine ?? '').trim().split(' ').slice(8)) {
    if (range.startsWith('[')) continue
    const [from, to] = range.split('-').map(Number) as [number, number | undefined]
    for (let slot = from; slot <= (to ?? from) && out.length < count; slot++) out.push(slot)
    if (out.length >= count) break
  }
  return out
}

/** A cluster-enabled `redis-server`, not yet part of any cluster. */
async function startClusterNode(): Promise<RedisServer> {
  const busPort = await freePort()
  return startRedis({
    args: [
      '--cluster-enabled',
      'yes',
      '--cluster-port',
      String(busPort),
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-node-timeout',
      String(NODE_TIMEOUT_MS),
    ],
  })
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<void> {
  const until = performance.now() + ms
  while (performance.now() < until) {
    if (await check().catch(() => false)) return
    await delay(100)
  }
  throw new Error(`not done within ${ms} ms`)
}

/** Runs `redis-cli -h 127.0.0.1 …` and resolves its output. */
function cli(args: string[], ms = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'redis-cli',
      ['-h', '127.0.0.1', ...args],
      { timeout: ms, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null)
          reject(new Error(`redis-cli ${args.join(' ')}: ${error.message}\n${stderr}`))
        else resolve(stdout)
      },
    )
  })
}
