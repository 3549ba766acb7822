import { type ClusterNode, cli, type NodeLine, parseInfo, parseNodes } from './_cluster-cli.ts'
import { beginSlotMove, type SlotMove } from './_cluster-moves.ts'
import { freePort } from './_ports.ts'
import { startRedis } from './_redis.ts'
import { isEarlyExit } from './_server.ts'

export type { ClusterNode } from './_cluster-cli.ts'
export type { SlotMove } from './_cluster-moves.ts'

/** A Redis Cluster of real `redis-server` processes on loopback, started by `startCluster`. */
export interface TestCluster {
  /** Every node, primaries and replicas, in the order they were started. */
  readonly nodes: readonly ClusterNode[]
  /** One `redis://` URL per node (with the password when one was set), to use as seed nodes. */
  readonly seeds: readonly string[]
  /** The nodes that are primaries now, asked from the cluster (roles change after a failover). */
  primaries(): Promise<ClusterNode[]>
  /** The node that replicates `primary` now, or `undefined` when it has none that is alive. */
  replicaOf(primary: ClusterNode): Promise<ClusterNode | undefined>
  /** The node that serves `key`'s slot as primary now. */
  primaryFor(key: string): Promise<ClusterNode>
  /**
   * Moves `slot` and its keys to the primary `to`, as a resharding does (`SETSLOT IMPORTING` /
   * `MIGRATING`, `MIGRATE`, `SETSLOT NODE`): clients with the old slot map get `MOVED`.
   */
  moveSlot(slot: number, to: ClusterNode): Promise<void>
  /**
   * Starts moving `slot` to the primary `to` and stops there (`SETSLOT IMPORTING` on `to`,
   * `MIGRATING` on its owner): the returned move migrates keys step by step, so that a test sees
   * what a client sees in the middle of a resharding — `ASK` for a key already moved, `TRYAGAIN`
   * for a multi-key command whose keys are split between the two nodes.
   */
  beginSlotMove(slot: number, to: ClusterNode): Promise<SlotMove>
  /**
   * Starts one more node and joins it to the cluster (`CLUSTER MEET`) as a primary that owns no
   * slots, as the first step of adding a shard; resolves once every live node knows it.
   */
  addNode(): Promise<ClusterNode>
  /** Kills a node with SIGKILL, as a crash would; its replica takes over after the node timeout. */
  kill(node: ClusterNode): Promise<void>
  /**
   * Starts a killed node again on its port, with its cluster config (`nodes.conf`) but no data,
   * as a node without persistence restarts: it rejoins as a replica of whoever took its slots and
   * resynchronises.
   */
  restart(node: ClusterNode): Promise<void>
  /** Freezes a node (SIGSTOP): its connections stay open, nothing is answered. */
  pause(node: ClusterNode): void
  /** Thaws a frozen node (SIGCONT). */
  resume(node: ClusterNode): void
  /** What the node says of itself in `INFO replication`: its role, and for a replica its link. */
  role(node: ClusterNode): Promise<{ role: 'master' | 'slave'; linkUp: boolean }>
  /**
   * Resolves once every live node reports `cluster_state:ok` with all 16384 slots served and every
   * live replica is in sync with its primary; rejects after `ms`.
   */
  waitUntilHealthy(ms?: number): Promise<void>
  /** Stops every node and removes their directories. */
  stop(): Promise<void>
}

/** Options of `startCluster`. */
export interface StartClusterOptions {
  /** How many primaries share the 16384 slots (at least 3, as `redis-cli --cluster create` wants). @default 3 */
  primaries?: number
  /** Replicas per primary. @default 1 */
  replicasPerPrimary?: number
  /** `--cluster-node-timeout` in milliseconds: how soon a dead primary is failed over. @default 1000 */
  nodeTimeout?: number
  /** A password for every node (`requirepass` and `masterauth`); it goes into the seed URLs. */
  password?: string
  /** Extra `redis-server` arguments for every node. */
  args?: string[]
}

const SLOTS = 16384

/**
 * Starts a Redis Cluster: `primaries × (1 + replicasPerPrimary)` nodes on free loopback ports,
 * joined with `redis-cli --cluster create`. Resolves once every slot is served and every replica
 * is in sync. Every process is killed by `stop()`, and on exit.
 */
export async function startCluster(options: StartClusterOptions = {}): Promise<TestCluster> {
  const primaries = options.primaries ?? 3
  const replicas = options.replicasPerPrimary ?? 1
  if (!Number.isInteger(primaries) || primaries < 3) {
    throw new Error('startCluster needs at least 3 primaries')
  }
  const password = options.password
  const count = primaries * (1 + replicas)
  const started = await Promise.allSettled(Array.from({ length: count }, () => startNode(options)))
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))
  const cluster = makeCluster(nodes, options)
  try {
    const failed = started.find((result) => result.status === 'rejected')
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
    await cli(
      password,
      ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`)].concat([
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ]),
      60_000,
    )
    await cluster.waitUntilHealthy(30_000)
    return cluster
  } catch (error) {
    await cluster.stop()
    throw error
  }
}

async function startNode(options: StartClusterOptions): Promise<ClusterNode> {
  for (let attempt = 1; ; attempt++) {
    // Redis puts the bus on port + 10000 unless told otherwise, which may be taken or past 65535.
    const busPort = await freePort()
    const auth =
      options.password === undefined
        ? []
        : ['--requirepass', options.password, '--masterauth', options.password]
    try {
      const server = await startRedis({
        password: options.password,
        args: [
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(busPort),
          // Relative to the node's own temporary --dir, so that nodes never share the file.
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          String(options.nodeTimeout ?? 1000),
          ...auth,
          ...(options.args ?? []),
        ],
      })
      const id = (
        await cli(options.password, ['-p', String(server.port), 'CLUSTER', 'MYID'])
      ).trim()
      return Object.assign(server, { busPort, id })
    } catch (error) {
      if (attempt >= 5 || !isEarlyExit(error)) throw error
    }
  }
}

function makeCluster(nodes: ClusterNode[], options: StartClusterOptions): TestCluster {
  const password = options.password
  const alive = new Set(nodes)
  const byId = (id: string) => nodes.find((node) => node.id === id)

  /** `CLUSTER NODES` from the first live node that answers. */
  const clusterNodes = async (): Promise<NodeLine[]> => {
    let last: unknown
    for (const node of alive) {
      try {
        return parseNodes(await cli(password, ['-p', String(node.port), 'CLUSTER', 'NODES']))
      } catch (error) {
        last = error
      }
    }
    throw new Error(`no cluster node answers CLUSTER NODES: ${String(last)}`)
  }

  const isHealthy = async (): Promise<boolean> => {
    const replicas: string[] = []
    for (const node of alive) {
      const port = String(node.port)
      const info = parseInfo(await cli(password, ['-p', port, 'CLUSTER', 'INFO']))
      if (
        info.cluster_state !== 'ok' ||
        info.cluster_slots_assigned !== String(SLOTS) ||
        info.cluster_slots_ok !== String(SLOTS)
      ) {
        return false
      }
      const replication = parseInfo(await cli(password, ['-p', port, 'INFO', 'replication']))
      if (replication.role === 'slave') {
        if (replication.master_link_status !== 'up') return false
        replicas.push(node.id)
      }
    }
    // Every live node must agree on who serves what, or clients get MOVED in a loop; and the
    // view `replicaOf` reads must know each replica as one (gossip may not have told it yet).
    const lines = await clusterNodes()
    if (!replicas.every((id) => lines.some((line) => line.id === id && line.primaryId))) {
      return false
    }
    return lines.every((line) => line.failed || alive.has(byId(line.id) as ClusterNode))
  }

  const on = (node: ClusterNode, ...args: string[]) =>
    cli(password, ['-p', String(node.port), ...args])
  const moves = { password, alive, byId, clusterNodes, on }

  return {
    nodes,
    seeds: nodes.map((node) => node.url),
    primaries: async () =>
      (await clusterNodes())
        .filter((line) => line.primary && !line.failed && line.slots)
        .map((line) => byId(line.id))
        .filter((node): node is ClusterNode => node !== undefined && alive.has(node)),
    replicaOf: async (primary) => {
      const line = (await clusterNodes()).find(
        (l) => l.primaryId === primary.id && !l.failed && alive.has(byId(l.id) as ClusterNode),
      )
      return line === undefined ? undefined : byId(line.id)
    },
    primaryFor: async (key) => {
      const slot = Number(
        (
          await cli(password, ['-p', String(firstAlive(alive).port), 'CLUSTER', 'KEYSLOT', key])
        ).trim(),
      )
      const line = (await clusterNodes()).find(
        (l) => l.primary && !l.failed && l.ranges.some(([from, to]) => slot >= from && slot <= to),
      )
      const node = line === undefined ? undefined : byId(line.id)
      if (node === undefined) throw new Error(`no primary serves slot ${slot} of '${key}'`)
      return node
    },
    moveSlot: async (slot, to) => {
      const move = await beginSlotMove(moves, slot, to)
      if (move === undefined) return
      await move.migrate()
      await move.finish()
    },
    beginSlotMove: async (slot, to) => {
      const move = await beginSlotMove(moves, slot, to)
      if (move === undefined) throw new Error(`slot ${slot} is already served by ${to.port}`)
      return move
    },
    addNode: async () => {
      const node = await startNode(options)
      nodes.push(node)
      alive.add(node)
      const [peer] = [...alive].filter((n) => n !== node)
      if (peer === undefined) throw new Error('no cluster node is alive')
      await cli(password, [
        '-p',
        String(node.port),
        'CLUSTER',
        'MEET',
        '127.0.0.1',
        String(peer.port),
        String(peer.busPort),
      ])
      const until = Date.now() + 30_000
      for (;;) {
        const known = await Promise.all(
          [...alive].map(async (n) =>
            (await cli(password, ['-p', String(n.port), 'CLUSTER', 'NODES'])).includes(node.id),
          ),
        )
        // ...and it knows every slot's owner, or it answers CLUSTERDOWN (to a MIGRATE too).
        const info = parseInfo(await cli(password, ['-p', String(node.port), 'CLUSTER', 'INFO']))
        if (known.every(Boolean) && info.cluster_state === 'ok') return node
        if (Date.now() > until)
          throw new Error(`node ${node.port} did not join the cluster within 30 s`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    },
    kill: async (node) => {
      alive.delete(node)
      await node.kill()
    },
    restart: async (node) => {
      await node.start()
      alive.add(node)
    },
    pause: (node) => {
      alive.delete(node)
      node.pause()
    },
    resume: (node) => {
      node.resume()
      alive.add(node)
    },
    role: async (node) => {
      const info = parseInfo(await cli(password, ['-p', String(node.port), 'INFO', 'replication']))
      return {
        role: info.role === 'slave' ? 'slave' : 'master',
        linkUp: info.master_link_status === 'up',
      }
    },
    waitUntilHealthy: async (ms = 30_000) => {
      const until = Date.now() + ms
      let last: unknown = 'not healthy yet'
      while (Date.now() < until) {
        try {
          if (await isHealthy()) return
        } catch (error) {
          last = error
        }
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      throw new Error(`the cluster was not healthy within ${ms} ms: ${String(last)}`)
    },
    stop: async () => {
      alive.clear()
      await Promise.all(nodes.map((node) => node.stop()))
    },
  }
}

function firstAlive(alive: Set<ClusterNode>): ClusterNode {
  const [node] = alive
  if (node === undefined) throw new Error('no cluster node is alive')
  return node
}
