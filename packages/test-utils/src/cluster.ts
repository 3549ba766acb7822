import { execFile } from 'node:child_process'
import { freePort, type RedisServer, startRedis } from './index.ts'

/** One node of a test cluster: a `redis-server` started with `--cluster-enabled yes`. */
export interface ClusterNode extends RedisServer {
  /** The cluster bus port (`--cluster-port`), picked free like the data port. */
  readonly busPort: number
  /** The node's cluster ID (`CLUSTER MYID`); it survives a restart. */
  readonly id: string
}

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
  /** Kills a node with SIGKILL, as a crash would; its replica takes over after the node timeout. */
  kill(node: ClusterNode): Promise<void>
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
const MISSING_CLI =
  'redis-cli was not found on PATH: install it with redis-server (Debian/Ubuntu: `apt-get install redis-server`, macOS: `brew install redis`) — the cachex cluster tests create their cluster with it'

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
  const cluster = makeCluster(nodes, password)
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
      if (attempt >= 5 || !String((error as Error).message).includes('Address already in use')) {
        throw error
      }
    }
  }
}

function makeCluster(nodes: ClusterNode[], password: string | undefined): TestCluster {
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
      if (replication.role === 'slave' && replication.master_link_status !== 'up') return false
    }
    // Every live node must agree on who serves what, or clients get MOVED in a loop.
    const lines = await clusterNodes()
    return lines.every((line) => line.failed || alive.has(byId(line.id) as ClusterNode))
  }

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
      const owner = (await clusterNodes()).find(
        (l) => l.primary && !l.failed && l.ranges.some(([a, b]) => slot >= a && slot <= b),
      )
      const from = owner === undefined ? undefined : byId(owner.id)
      if (from === undefined) throw new Error(`no primary serves slot ${slot}`)
      if (from === to) return
      const on = (node: ClusterNode, ...args: string[]) =>
        cli(password, ['-p', String(node.port), ...args])
      await on(to, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', from.id)
      await on(from, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', to.id)
      const auth = password === undefined ? [] : ['AUTH', password]
      for (;;) {
        const keys = (await on(from, 'CLUSTER', 'GETKEYSINSLOT', String(slot), '100'))
          .split('\n')
          .filter((key) => key !== '')
        if (keys.length === 0) break
        await on(
          from,
          'MIGRATE',
          '127.0.0.1',
          String(to.port),
          '',
          '0',
          '5000',
          ...auth,
          'KEYS',
          ...keys,
        )
      }
      const others = (await clusterNodes())
        .filter((l) => l.primary && !l.failed)
        .map((l) => byId(l.id))
        .filter((n): n is ClusterNode => n !== undefined && n !== to && n !== from && alive.has(n))
      for (const node of [to, from, ...others]) {
        await on(node, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id)
      }
    },
    kill: async (node) => {
      alive.delete(node)
      await node.kill()
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

interface NodeLine {
  id: string
  primary: boolean
  failed: boolean
  primaryId: string | undefined
  slots: boolean
  ranges: Array<[number, number]>
}

/** Parses `CLUSTER NODES`: `<id> <ip:port@bus> <flags> <primary> <ping> <pong> <epoch> <link> <slot>…`. */
function parseNodes(text: string): NodeLine[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const fields = line.trim().split(' ')
      const flags = (fields[2] ?? '').split(',')
      const ranges = fields
        .slice(8)
        .filter((range) => !range.startsWith('['))
        .map((range): [number, number] => {
          const [from, to] = range.split('-').map(Number) as [number, number | undefined]
          return [from, to ?? from]
        })
      return {
        id: fields[0] as string,
        primary: flags.includes('master'),
        failed: flags.includes('fail') || flags.includes('noaddr'),
        primaryId: fields[3] === '-' ? undefined : fields[3],
        slots: ranges.length > 0,
        ranges,
      }
    })
}

function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon > 0) out[line.slice(0, colon)] = line.slice(colon + 1).trim()
  }
  return out
}

/** Runs `redis-cli` against 127.0.0.1 and resolves its output; rejects on a failure or after `ms`. */
function cli(password: string | undefined, args: string[], ms = 5_000): Promise<string> {
  const auth = password === undefined ? [] : ['-a', password, '--no-auth-warning']
  return new Promise((resolve, reject) => {
    execFile(
      'redis-cli',
      ['-h', '127.0.0.1', ...auth, ...args],
      { timeout: ms, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
          reject(new Error(MISSING_CLI))
        } else if (error !== null) {
          reject(
            new Error(`redis-cli ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`),
          )
        } else if (/^(ERR|WRONGPASS|NOAUTH)/m.test(stdout) && !args.includes('--cluster')) {
          reject(new Error(`redis-cli ${args.join(' ')}: ${stdout.trim()}`))
        } else {
          resolve(stdout)
        }
      },
    )
  })
}
