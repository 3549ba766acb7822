import type {
  NodeHandle,
  NodeRedisClusterLike,
  NodeRedisClusterNodeLike,
  ReplicaState,
} from './_cluster-nodes.ts'
import { validNode } from './_node-address.ts'
import { SLOT_COUNT } from './_slots.ts'

// A cluster's slot map as plain data: the ranges node-redis or `CLUSTER SLOTS` give, the table of
// shards built from them and whether it changed, which primaries to ask for it, and the read
// rotation of each shard. No I/O here: `Topology` does the asking.

/** The nodes that serve a range of slots. */
export interface Shard {
  readonly master: NodeHandle
  readonly replicas: readonly NodeHandle[]
  /** Where reads go with `readFromReplicas`: the primary and its healthy replicas. */
  readers: NodeHandle[]
  /** Round-robin position in `readers`. */
  turn: number
}

/** A range of slots and its nodes, as `CLUSTER SLOTS` gives them. */
export interface Range {
  from: number
  to: number
  master: { host: string; port: number }
  replicas: Array<{ host: string; port: number }>
}

/** The shard of each slot, and the shards by their primary's address. */
export interface SlotTable {
  table: Array<Shard | undefined>
  shards: Map<string, Shard>
}

/** A node that failed is not asked for the slot map for this long (it may have restarted empty). */
const SOURCE_QUARANTINE_MS = 10_000

/**
 * The ranges of node-redis's own slot map (`cluster.slots`); replicas only with `withReplicas`. An
 * empty host means the node node-redis asked, as in `CLUSTER SLOTS` (`checkSlots`): `emptyHost`
 * when that is known (the seeds' one host), otherwise such a node is left out.
 */
export function rangesOfCluster(
  slots: NodeRedisClusterLike['slots'],
  withReplicas: boolean,
  emptyHost?: string,
): Range[] {
  const address = (node: NodeRedisClusterNodeLike) => {
    const at = hostPort(node)
    return at.host === '' && emptyHost !== undefined ? { host: emptyHost, port: at.port } : at
  }
  const ranges: Range[] = []
  let current: Range | undefined
  let previous: unknown
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const shard = slots[slot]
    if (shard === previous && current !== undefined) {
      current.to = slot
      continue
    }
    previous = shard
    current = undefined
    const master = shard === undefined ? undefined : address(shard.master)
    // A node no client could reach (port 0, a missing host): as if the slot had no node.
    if (shard === undefined || master === undefined || !validNode(master)) continue
    const replicas = withReplicas ? (shard.replicas ?? []).map(address) : []
    current = { from: slot, to: slot, master, replicas: replicas.filter(validNode) }
    ranges.push(current)
  }
  return ranges
}

/**
 * The ranges of a `CLUSTER SLOTS` reply: `[from, to, [host, port, id…], [replica…]…]` each. An
 * empty host means the node that was asked (`askedHost`). A range whose bounds are not slots
 * (integers with 0 ≤ from ≤ to ≤ 16383) or whose primary has no valid address (a port that is not
 * an integer 1..65535) is left out; so is a replica without a valid address.
 */
export function parseSlots(reply: unknown, askedHost: string): Range[] {
  return checkSlots(reply, askedHost).ranges
}

/**
 * `parseSlots`, and whether every range of the reply was valid (`whole`): node-redis is told to
 * rediscover from a node only when it was, as its own discovery trusts the bounds (a range from
 * -6,000,000 blocks the event loop for seconds).
 */
export function checkSlots(reply: unknown, askedHost: string): { ranges: Range[]; whole: boolean } {
  if (!Array.isArray(reply)) return { ranges: [], whole: false }
  const ranges: Range[] = []
  let whole = true
  for (const entry of reply) {
    if (!Array.isArray(entry) || entry.length < 3) continue
    const node = (value: unknown) => {
      const fields = value as unknown[]
      const host = String(fields[0] ?? '')
      return { host: host === '' ? askedHost : host, port: Number(fields[1]) }
    }
    const nodes = entry.slice(2).filter(Array.isArray).map(node)
    const master = nodes[0]
    if (master === undefined || master.host === '?') continue
    const from = Number(entry[0])
    const to = Number(entry[1])
    if (!validSlot(from) || !validSlot(to) || from > to || !validNode(master)) {
      whole = false
      continue
    }
    const replicas = nodes.slice(1).filter((n) => n.host !== '?')
    if (!replicas.every(validNode)) whole = false
    ranges.push({ from, to, master, replicas: replicas.filter(validNode) })
  }
  return { ranges, whole }
}

/**
 * The table of `ranges`: one shard per primary, its nodes' handles from `handle`; replicas only
 * with `withReplicas`. The read rotations are left empty (`setReaders` fills them). Slots out of
 * 0..16383 are ignored.
 */
export function buildTable(
  ranges: readonly Range[],
  handle: (address: string) => NodeHandle,
  withReplicas: boolean,
): SlotTable {
  const table = new Array<Shard | undefined>(SLOT_COUNT)
  const shards = new Map<string, Shard>()
  for (const range of ranges) {
    const address = `${range.master.host}:${range.master.port}`
    let shard = shards.get(address)
    if (shard === undefined) {
      const replicas = withReplicas ? range.replicas.map((r) => handle(`${r.host}:${r.port}`)) : []
      shard = { master: handle(address), replicas, readers: [], turn: 0 }
      shards.set(address, shard)
    }
    const to = Math.min(range.to, SLOT_COUNT - 1)
    for (let slot = Math.max(range.from, 0); slot <= to; slot++) table[slot] = shard
  }
  return { table, shards }
}

/**
 * Whether some slot has another primary or other replicas in `next` than in `old` (empty: yes).
 * Each pair of shards is compared once, however many slots they share (a refresh compares 16384
 * slots, and a shard may list hundreds of replicas).
 */
export function tableChanged(
  old: ReadonlyArray<Shard | undefined>,
  next: ReadonlyArray<Shard | undefined>,
): boolean {
  if (old.length === 0) return true
  /** The shard of `next` each shard of `old` was found the same as. */
  const same = new Map<Shard, Shard>()
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const a = old[slot]
    const b = next[slot]
    if (a === b || (a !== undefined && same.get(a) === b)) continue
    if (a === undefined || b === undefined || a.master !== b.master) return true
    if (!sameNodes(a.replicas, b.replicas)) return true
    same.set(a, b)
  }
  return false
}

/** Every node of `shards`: primaries and replicas. */
export function nodesOf(shards: ReadonlyMap<string, Shard>): Set<NodeHandle> {
  const nodes = new Set<NodeHandle>()
  for (const shard of shards.values()) {
    nodes.add(shard.master)
    for (const replica of shard.replicas) nodes.add(replica)
  }
  return nodes
}

/**
 * The primaries to ask for the slot map, in order: those that answer and did not fail lately
 * (a node that restarted may still claim the slots it had before its replica was promoted), in
 * random order; then the others that answer; then those whose probe is still out, the most
 * recently asked first.
 */
export function refreshSources(shards: ReadonlyMap<string, Shard>, now: number): NodeHandle[] {
  const primaries = new Set<NodeHandle>()
  for (const shard of shards.values()) primaries.add(shard.master)
  const alive = [...primaries].filter((node) => !node.down && node.client?.isReady !== false)
  const answered = alive.filter((node) => node.probeSince === 0)
  const trusted = shuffle(answered.filter((node) => now - node.failedAt > SOURCE_QUARANTINE_MS))
  return [
    ...trusted,
    ...shuffle(answered.filter((node) => !trusted.includes(node))),
    ...alive.filter((node) => node.probeSince !== 0).sort((a, b) => b.probeSince - a.probeSince),
  ]
}

/**
 * Sets the read rotation of a shard: its primary unless it is down, and each replica in
 * `READONLY` mode that reports a live link to it — or, while the primary is down, that had
 * synchronised — and, with a local tier, whose tracking connection is up. The primary alone when
 * none qualifies.
 */
export function setReaders(shard: Shard): void {
  const master = shard.master
  const readers: NodeHandle[] = master.down ? [] : [master]
  for (const replica of shard.replicas) {
    const state = replica.replica
    if (replica.down || replica.untracked || !replica.readonlyClient || state === undefined)
      continue
    if (state.linkUp || (master.down && state.synced)) readers.push(replica)
  }
  shard.readers = readers.length > 0 ? readers : [master]
}

/** Sets the read rotation of every shard. */
export function setAllReaders(shards: ReadonlyMap<string, Shard>): void {
  for (const shard of shards.values()) setReaders(shard)
}

/** Sets the read rotation of the shards `node` is a replica of. */
export function setReadersOf(shards: ReadonlyMap<string, Shard>, node: NodeHandle): void {
  for (const shard of shards.values()) {
    if (shard.replicas.includes(node)) setReaders(shard)
  }
}

/**
 * A replica's health from its `INFO replication` text: whether its link to the primary is up,
 * and whether it synchronised since it started. `undefined` when it is not a replica.
 */
export function replicaStateOf(info: string): ReplicaState | undefined {
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim()
  if (field('role') !== 'slave') return undefined
  const linkUp = field('master_link_status') === 'up'
  const downSince = Number(field('master_link_down_since_seconds') ?? -1)
  const syncing = field('master_sync_in_progress') === '1'
  return { linkUp, synced: linkUp || (downSince >= 0 && !syncing) }
}

function hostPort(node: NodeRedisClusterNodeLike): { host: string; port: number } {
  if (node.host !== undefined && node.port !== undefined)
    return { host: String(node.host), port: Number(node.port) }
  const address = node.address ?? ''
  const colon = address.lastIndexOf(':')
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) }
}

function validSlot(slot: number): boolean {
  return Number.isInteger(slot) && slot >= 0 && slot < SLOT_COUNT
}

/** Whether `a` and `b` hold the same nodes, in any order: linear in their length. */
function sameNodes(a: readonly NodeHandle[], b: readonly NodeHandle[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  if (a.length === 0) return true
  const inB = new Set(b)
  return inB.size === new Set(a).size && a.every((node) => inB.has(node))
}

function shuffle<T>(list: T[]): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[list[i], list[j]] = [list[j] as T, list[i] as T]
  }
  return list
}
