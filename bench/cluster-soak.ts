// A ledger-checked load on a 3 + 3 Redis Cluster through a topology change, one scenario per run:
// what cachex's cluster connection does while slots move, a primary is added, killed or frozen,
// or a killed primary restarts empty. It measures the cluster rows of docs/topologies.md.
//
// node --conditions=@cachex/source --import tsx bench/cluster-soak.ts <scenario> [<scenario>…]
//   scenarios: reshard, add-primary, kill, stop, restart-empty   (SOAK_RATE=300 calls/s,
//   SOAK_REPLICA_READS=1 for readFromReplicas, SOAK_NODE_TIMEOUT=2000 ms cluster-node-timeout,
//   SOAK_SOCKET_TIMEOUT=1 s; SOAK_CONNECTION=<module> uses that module's `cluster` factory, to
//   compare with another implementation)
//
// The load is open-loop (calls keep coming while the cluster is in trouble): get, set and
// getMany of 10 keys spread over the slots, plus getMany/setMany of 5 keys sharing a hash tag
// (one slot, so one multi-key MGET/MSET a migration can answer TRYAGAIN to). Every acknowledged
// write goes into a ledger: a read that finds nothing where a write was acknowledged is a false
// miss, a value never written is a wrong value, and at the end every key must hold its last
// acknowledged value (or a later one whose outcome was unknown).
import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import type { ConnectionFactory } from '@cachex/core'
import { createCache, keySlot } from '@cachex/redis'
import { type ClusterNode, delay, startCluster, type TestCluster } from '@cachex/test-utils'
import { createClient } from '@redis/client'

const run = promisify(execFile)
// A script run by hand, not a turbo task: its settings come from the environment.
const env: Record<string, string | undefined> = process.env
const RATE = Number(env.SOAK_RATE ?? 300)
const REPLICA_READS = env.SOAK_REPLICA_READS === '1'
const NODE_TIMEOUT = Number(env.SOAK_NODE_TIMEOUT ?? 2000)
const SOCKET_TIMEOUT = Number(env.SOAK_SOCKET_TIMEOUT ?? 1)
const KEYS = 2000
const GROUPS = 60
const GROUP_SIZE = 5
const PREFIX = 'soak'

/** One key of the ledger: what was acknowledged, and what may or may not have been written. */
interface Entry {
  acked: number
  /** Writes sent and not acknowledged (in flight, or failed with an unknown outcome). */
  maybe: Set<number>
  seq: number
}

interface Stats {
  ok: number
  errors: Map<string, number>
  samples: Map<string, string>
  falseMisses: number
  wrong: number
  stale: number
  /** Times (ms since the event) of failed and successful writes to keys of the affected slots. */
  affectedFail: number
  affectedResume: number | undefined
  lastAffectedFail: number | undefined
}

const plain = Array.from({ length: KEYS }, (_, i) => `k${i}`)
const groups = Array.from({ length: GROUPS }, (_, g) =>
  Array.from({ length: GROUP_SIZE }, (_, i) => `{g${g}}:${i}`),
)
const allKeys = [...plain, ...groups.flat()]
/** The slot of a cache key as stored (`<prefix>:1:<key>`). */
const slotOf = (key: string) => keySlot(`${PREFIX}:1:${key}`)
const pick = <T>(list: readonly T[]) => list[Math.floor(Math.random() * list.length)] as T

/** `redis-cli --cluster …`, tried again while the nodes do not agree yet on the last change. */
async function clusterCli(args: string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run('redis-cli', args, { maxBuffer: 64 * 1024 * 1024 })
      return
    } catch (error) {
      if (attempt >= 20) throw error
      await delay(500)
    }
  }
}

async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args])).stdout
}

async function soak(scenario: string): Promise<void> {
  const cluster = await startCluster({
    primaries: 3,
    replicasPerPrimary: 1,
    nodeTimeout: NODE_TIMEOUT,
  })
  const other =
    env.SOAK_CONNECTION === undefined
      ? undefined
      : ((await import(resolve(env.SOAK_CONNECTION))) as { cluster: ConnectionFactory }).cluster
  const cache = createCache({
    connectionFactory: other,
    client: 'cluster',
    location: [...cluster.seeds],
    keyPrefix: PREFIX,
    socketTimeout: SOCKET_TIMEOUT,
    readFromReplicas: REPLICA_READS,
  })
  const ledger = new Map<string, Entry>(
    allKeys.map((k) => [k, { acked: 0, maybe: new Set<number>(), seq: 0 }]),
  )
  const stats: Stats = {
    ok: 0,
    errors: new Map(),
    samples: new Map(),
    falseMisses: 0,
    wrong: 0,
    stale: 0,
    affectedFail: 0,
    affectedResume: undefined,
    lastAffectedFail: undefined,
  }
  let eventAt: number | undefined
  let affected = new Set<number>()
  const since = () => (eventAt === undefined ? undefined : performance.now() - eventAt)

  const fail = (error: unknown, keys: readonly string[], write: boolean) => {
    const e = error as Error & { code?: string }
    const text = `${e.code ?? e.name}: ${String(e.message).slice(0, 60).replace(/\d+/g, 'N')}`
    const kind =
      `${e.code ?? e.name} ${text.includes('TRYAGAIN') ? 'TRYAGAIN' : text.includes('CLUSTERDOWN') ? 'CLUSTERDOWN' : text.includes('Cannot find node') ? 'Cannot find node' : ''}`.trim()
    stats.errors.set(kind, (stats.errors.get(kind) ?? 0) + 1)
    if (!stats.samples.has(kind)) stats.samples.set(kind, String(e.message).slice(0, 160))
    const t = since()
    if (write && t !== undefined && keys.some((k) => affected.has(slotOf(k)))) {
      stats.affectedFail++
      stats.lastAffectedFail = t
      if (env.SOAK_DEBUG === '1')
        console.log(`    +${Math.round(t)} ms ${kind}: ${String(e.message).slice(0, 80)}`)
      stats.affectedResume = undefined
    }
  }
  const wrote = (keys: readonly string[]) => {
    const t = since()
    if (
      t !== undefined &&
      stats.affectedResume === undefined &&
      keys.some((k) => affected.has(slotOf(k)))
    ) {
      stats.affectedResume = t
    }
  }
  /** Checks a read of `key` that started when the key's acknowledged write was `ackedAtStart`. */
  const check = (key: string, value: unknown, ackedAtStart: number) => {
    const entry = ledger.get(key) as Entry
    if (value === null || value === undefined) {
      if (ackedAtStart > 0) stats.falseMisses++
      return
    }
    const seq = Number(value)
    if (!(seq > 0 && seq <= entry.seq)) stats.wrong++
    else if (seq < ackedAtStart && !entry.maybe.has(seq)) {
      stats.stale++
      if (stats.stale <= 5)
        console.log(
          `    stale read of ${key} at +${Math.round(since() ?? 0)} ms: ${seq} < ${ackedAtStart} (acked now ${entry.acked})`,
        )
    }
  }

  // One write per key at a time, so that the order of acknowledgements is the order of writes.
  const writing = new Set<string>()
  const write = async (keys: readonly string[]) => {
    if (keys.some((k) => writing.has(k))) return read(keys)
    for (const k of keys) writing.add(k)
    const values = keys.map((k) => {
      const entry = ledger.get(k) as Entry
      const seq = ++entry.seq
      entry.maybe.add(seq)
      return seq
    })
    try {
      if (keys.length === 1) await cache.set(keys[0] as string, values[0], { timeout: 3600 })
      else
        await cache.setMany(Object.fromEntries(keys.map((k, i) => [k, values[i]])), {
          timeout: 3600,
        })
      keys.forEach((k, i) => {
        const entry = ledger.get(k) as Entry
        const seq = values[i] as number
        entry.maybe.delete(seq)
        if (seq > entry.acked) entry.acked = seq
      })
      stats.ok++
      wrote(keys)
    } catch (error) {
      // Unknown outcome: the value may be there.
      fail(error, keys, true)
    } finally {
      for (const k of keys) writing.delete(k)
    }
  }
  const read = async (keys: readonly string[]) => {
    const acked = keys.map((k) => (ledger.get(k) as Entry).acked)
    try {
      if (keys.length === 1) {
        check(keys[0] as string, await cache.get(keys[0] as string), acked[0] as number)
      } else {
        const found = await cache.getMany(keys as string[])
        for (let i = 0; i < keys.length; i++) {
          check(keys[i] as string, found.get(keys[i] as string) ?? null, acked[i] as number)
        }
      }
      stats.ok++
    } catch (error) {
      fail(error, keys, false)
    }
  }
  const hot = groups.slice(0, 4).flat()
  const op = () => {
    const r = Math.random()
    // A few hot keys, in the slots the scenarios move first.
    if (r < 0.03) return read([pick(hot)])
    if (r < 0.06) return write([pick(hot)])
    if (r < 0.35) return read([pick(plain)])
    if (r < 0.65) return write([pick(plain)])
    if (r < 0.8) return read(Array.from({ length: 10 }, () => pick(plain)))
    if (r < 0.9) return read(pick(groups))
    return write(pick(groups))
  }

  // Every key written once before the load starts, so that every later miss is a false one.
  for (const keys of [plain.map((k) => [k]), groups].flat()) await write(keys)
  const okBefore = stats.ok
  let inFlight = 0
  let stopped = false
  const started = performance.now()
  const ticker = setInterval(() => {
    if (stopped) return
    const due = Math.round((RATE * (performance.now() - started)) / 1000) - launched
    for (let i = 0; i < due && inFlight < 2000; i++) {
      launched++
      inFlight++
      op().finally(() => inFlight--)
    }
  }, 10)
  let launched = 0

  const report: string[] = []
  const note = (line: string) => {
    report.push(line)
    console.log(`  ${line}`)
  }
  console.log(
    `\n## ${scenario}${REPLICA_READS ? ' (readFromReplicas)' : ''}: ${RATE} calls/s, cluster-node-timeout ${NODE_TIMEOUT} ms, socketTimeout ${SOCKET_TIMEOUT} s`,
  )
  try {
    await delay(2000)
    await SCENARIOS[scenario]?.(cluster, {
      event: (slots) => {
        affected = new Set(slots)
        eventAt = performance.now()
      },
      since: () => Math.round(since() ?? 0),
      note,
    })
    await delay(3000)
  } finally {
    stopped = true
    clearInterval(ticker)
    while (inFlight > 0) await delay(50)
  }
  // Let the cluster settle, then check every key against the ledger.
  await cluster.waitUntilHealthy(60_000).catch((e) => note(`not healthy at the end: ${e}`))
  let lost = 0
  for (const batch of chunks(allKeys, 100)) {
    const found = await cache.getMany(batch)
    for (const k of batch) {
      const entry = ledger.get(k) as Entry
      const seq = Number(found.get(k) ?? 0)
      if (seq < entry.acked && !entry.maybe.has(seq)) lost++
    }
  }
  const errors = [...stats.errors].map(([k, n]) => `${n} × ${k}`).join(', ') || 'none'
  console.log(
    `  calls: ${launched} (${stats.ok - okBefore} ok) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  )
  console.log(`  errors: ${errors}`)
  for (const [k, m] of stats.samples) console.log(`    ${k}: ${m}`)
  console.log(
    `  false misses: ${stats.falseMisses}, wrong values: ${stats.wrong}, stale replica reads: ${stats.stale}, acknowledged writes lost: ${lost}`,
  )
  if (eventAt !== undefined && affected.size > 0) {
    console.log(
      `  writes to the affected slots: ${stats.affectedFail} failed, the last at +${Math.round(stats.lastAffectedFail ?? 0)} ms; resumed at +${stats.affectedResume === undefined ? '?' : Math.round(stats.affectedResume)} ms`,
    )
  }
  await cache.close()
  await cluster.stop()
}

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size))
  return out
}

interface Ctl {
  /** Marks the event: `slots` are the ones whose writes are watched for an outage. */
  event(slots: number[]): void
  since(): number
  note(line: string): void
}

/** Slots owned by `node` (from its own CLUSTER NODES line). */
async function slotsOf(node: ClusterNode): Promise<number[]> {
  const line = (await cli(node.port, 'CLUSTER', 'NODES'))
    .split('\n')
    .find((l) => l.includes('myself'))
  const slots: number[] = []
  for (const range of (line ?? '').trim().split(' ').slice(8)) {
    if (range.startsWith('[')) continue
    const [a, b] = range.split('-').map(Number) as [number, number | undefined]
    for (let s = a; s <= (b ?? a); s++) slots.push(s)
  }
  return slots
}

/** Resolves when `node` reports itself a primary; the time it took, in ms since the event. */
async function waitPromoted(node: ClusterNode, ctl: Ctl, ms = 60_000): Promise<number> {
  const client = createClient({ socket: { host: '127.0.0.1', port: node.port } })
  client.on('error', () => {})
  await client.connect()
  try {
    const until = performance.now() + ms
    while (performance.now() < until) {
      const info = String(await client.sendCommand(['INFO', 'replication']))
      if (info.includes('role:master')) return ctl.since()
      await delay(20)
    }
    throw new Error(`${node.port} was not promoted within ${ms} ms`)
  } finally {
    client.destroy()
  }
}

const SCENARIOS: Record<string, (cluster: TestCluster, ctl: Ctl) => Promise<void>> = {
  async reshard(cluster, ctl) {
    const [a, b, c] = (await cluster.primaries()) as [ClusterNode, ClusterNode, ClusterNode]
    ctl.event([])
    for (const [from, to] of [
      [a, b],
      [b, c],
    ] as const) {
      await clusterCli([
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
        '--cluster-pipeline',
        '10',
      ])
      ctl.note(`2000 slots ${from.port} → ${to.port} done at +${ctl.since()} ms`)
    }
    // 14 slots of hash-tagged groups, key by key, slowly: multi-key commands meet half-moved slots.
    const tagged = [...new Set(groups.slice(0, 14).map((g) => slotOf(g[0] as string)))]
    for (const slot of tagged) {
      const owner = await ownerOf(cluster, slot)
      const to = (await cluster.primaries()).find((n) => n !== owner) as ClusterNode
      const move = await cluster.beginSlotMove(slot, to)
      for (const key of await move.keys(100)) {
        await move.migrate([key])
        await delay(100)
      }
      await move.migrate()
      await move.finish()
    }
    ctl.note(`${tagged.length} slots key by key done at +${ctl.since()} ms`)
  },

  async 'add-primary'(cluster, ctl) {
    const added = await cluster.addNode()
    ctl.note(`node ${added.port} joined (no slots)`)
    ctl.event([])
    // A rebalance that stopped half way: a slot importing on the primary that owns none.
    const slot = slotOf(groups[0]?.[0] as string)
    const move = await cluster.beginSlotMove(slot, added)
    const keys = await move.keys(100)
    await move.migrate(keys.slice(0, Math.ceil(keys.length / 2)))
    ctl.note(`slot ${slot} half migrated to the slot-less ${added.port}, left so for 8 s`)
    await delay(8000)
    await move.migrate()
    await move.finish()
    ctl.note(`slot ${slot} moved at +${ctl.since()} ms; rebalancing`)
    await clusterCli([
      '--cluster',
      'rebalance',
      `127.0.0.1:${added.port}`,
      '--cluster-use-empty-masters',
      '--cluster-yes',
      '--cluster-pipeline',
      '10',
    ])
    ctl.note(`rebalanced at +${ctl.since()} ms`)
  },

  async kill(cluster, ctl) {
    const victim = (await cluster.primaries())[0] as ClusterNode
    const replica = (await cluster.replicaOf(victim)) as ClusterNode
    ctl.event(await slotsOf(victim))
    await cluster.kill(victim)
    ctl.note(
      `killed ${victim.port}; replica ${replica.port} promoted at +${await waitPromoted(replica, ctl)} ms`,
    )
    await delay(5000)
  },

  async stop(cluster, ctl) {
    const victim = (await cluster.primaries())[0] as ClusterNode
    const replica = (await cluster.replicaOf(victim)) as ClusterNode
    ctl.event(await slotsOf(victim))
    cluster.pause(victim)
    ctl.note(
      `froze ${victim.port}; replica ${replica.port} promoted at +${await waitPromoted(replica, ctl)} ms`,
    )
    const left = 15_000 - ctl.since()
    if (left > 0) await delay(left)
    cluster.resume(victim)
    ctl.note(`thawed ${victim.port} at +${ctl.since()} ms`)
    await delay(3000)
  },

  async 'restart-empty'(cluster, ctl) {
    // A killed node restarts with no data and must resynchronise: with a real data set that
    // takes seconds; here each primary refuses SYNC/PSYNC for 8 s (an ACL) to stand for it.
    const holdSync = async (primary: ClusterNode) => {
      await cli(primary.port, 'ACL', 'SETUSER', 'default', '-sync', '-psync')
      setTimeout(() => {
        cli(primary.port, 'ACL', 'SETUSER', 'default', '+sync', '+psync').catch(() => {})
      }, 8000).unref()
    }
    const victim = (await cluster.primaries())[0] as ClusterNode
    const replica = (await cluster.replicaOf(victim)) as ClusterNode
    ctl.event(await slotsOf(victim))
    await cluster.kill(victim)
    ctl.note(
      `killed primary ${victim.port}; ${replica.port} promoted at +${await waitPromoted(replica, ctl)} ms`,
    )
    await holdSync(replica)
    await delay(500)
    await cluster.restart(victim)
    ctl.note(`${victim.port} restarted empty at +${ctl.since()} ms`)
    // Something else changes meanwhile (a slot moves between two other primaries), so that
    // clients rediscover the cluster while the restarted node resynchronises.
    await delay(500)
    const others = (await cluster.primaries()).filter((n) => n !== replica)
    const slot = (await slotsOf(others[0] as ClusterNode)).find((s) =>
      groups.slice(0, 4).some((g) => slotOf(g[0] as string) === s),
    )
    await cluster.moveSlot(
      slot ?? ((await slotsOf(others[0] as ClusterNode))[0] as number),
      others[1] as ClusterNode,
    )
    ctl.note(`a slot of ${others[0]?.port} moved to ${others[1]?.port} at +${ctl.since()} ms`)
    await delay(9000)
    // A replica crashes and restarts empty before the cluster marks it failed.
    const primary = others[1] as ClusterNode
    const other = (await cluster.replicaOf(primary)) as ClusterNode
    await holdSync(primary)
    await cluster.kill(other)
    await delay(300)
    await cluster.restart(other)
    ctl.note(`replica ${other.port} killed and restarted empty at +${ctl.since()} ms`)
    await delay(10_000)
  },
}

async function ownerOf(cluster: TestCluster, slot: number): Promise<ClusterNode> {
  for (const node of await cluster.primaries()) {
    if ((await slotsOf(node)).includes(slot)) return node
  }
  throw new Error(`no owner of slot ${slot}`)
}

const chosen = process.argv.slice(2)
for (const scenario of chosen.length > 0 ? chosen : Object.keys(SCENARIOS)) {
  if (!(scenario in SCENARIOS))
    throw new Error(`unknown scenario ${scenario}: ${Object.keys(SCENARIOS).join(', ')}`)
  await soak(scenario)
}
