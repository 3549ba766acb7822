// What the nodes of a cluster say of it at one moment of a keyspace walk (`_cluster-walk.ts`), and
// what two such views, taken before and after a round of the walk, say about keys it may have
// missed. Each node asked for `CLUSTER NODES` tells, on its own line, the slots it really serves
// (the map the walk started from may be stale) and the slots it migrates out, with their target.
// A key moves from one node to another only with its slot: a node walked before a key reached it
// from a node walked after the key left may have missed it, and is walked again.
import type { NodeHandle } from './_cluster-nodes.ts'
import { type NodeLine, parseClusterNodes } from './_nodes-reply.ts'

const SLOTS = 16_384

/** What a walk needs of the cluster connection. */
export interface WalkSource {
  /** The primaries of the slot map. */
  primaries(): NodeHandle[]
  /** The primary the slot map names for `slot`. */
  masterOf(slot: number): NodeHandle | undefined
  /** The handle of the node at `host:port`, made when it is new. */
  handle(address: string): NodeHandle
  /** Runs a command on one node. */
  onNode(node: NodeHandle, args: string[]): Promise<unknown>
  /** Asks for the slot map again (never rejects). */
  refresh(): Promise<void>
}

/** A slot being migrated, as its source says on its own line. */
export interface Move {
  slot: number
  from: NodeHandle
  to: NodeHandle
}

/** The cluster as the asked nodes see it. */
export interface View {
  /**
   * The node serving each slot: by its own word; for a node that did not answer (down, or an ACL
   * user without `cluster|nodes`), by the slot map; else by another node's word (a node the map
   * does not name). `undefined`: no node known.
   */
  owners: Array<NodeHandle | undefined>
  /** The migrations under way, to a usable primary (the one pinned slot's only, for a pinned walk). */
  moves: Move[]
}

/**
 * Asks each of `asked` for `CLUSTER NODES` (at once) and reads the view they give. Never rejects:
 * a node that does not answer is taken at the slot map's word, with no migration.
 */
export async function look(
  source: WalkSource,
  asked: readonly NodeHandle[],
  pinned: number | undefined,
): Promise<View> {
  const replies = await Promise.all(
    asked.map((node) =>
      source.onNode(node, ['CLUSTER', 'NODES']).then(parseClusterNodes, () => [] as NodeLine[]),
    ),
  )
  const byId = new Map<string, NodeHandle>()
  const owns = new Map<NodeHandle, NodeLine>()
  asked.forEach((node, i) => {
    const own = replies[i]?.find((line) => line.myself)
    if (own === undefined || byId.has(own.id) || owns.has(node)) return
    byId.set(own.id, node)
    owns.set(node, own)
  })
  const named = new Set(byId.values())
  // The handle of a node a line names: the asked node of that id; else the map's primary of a
  // slot it serves (announced as in `CLUSTER SLOTS`), unless that is another node; else its own.
  const resolve = (line: NodeLine): NodeHandle => {
    let node = byId.get(line.id)
    if (node === undefined) {
      const mapped = line.ownedSlot === undefined ? undefined : source.masterOf(line.ownedSlot)
      node = mapped !== undefined && !named.has(mapped) ? mapped : source.handle(line.address)
      byId.set(line.id, node)
      named.add(node)
    }
    return node
  }
  const owners = new Array<NodeHandle | undefined>(SLOTS)
  for (const [node, own] of owns) {
    for (const [from, to] of own.ranges) {
      for (let slot = from; slot <= to; slot++) owners[slot] ??= node
    }
  }
  const silent = new Set(asked.filter((node) => !owns.has(node)))
  let open = 0
  for (let slot = 0; slot < SLOTS; slot++) {
    if (owners[slot] !== undefined) continue
    const mapped = source.masterOf(slot)
    if (mapped !== undefined && silent.has(mapped)) owners[slot] = mapped
    else open++
  }
  // Slots no asked node serves by its own word: the node another line says serves them.
  for (const lines of replies) {
    for (const line of lines) {
      if (open === 0) break
      if (line.myself || !line.usable) continue
      for (const [from, to] of line.ranges) {
        for (let slot = from; slot <= to; slot++) {
          if (owners[slot] !== undefined) continue
          owners[slot] = resolve(line)
          open--
        }
      }
    }
  }
  const moves: Move[] = []
  asked.forEach((node, i) => {
    const own = owns.get(node)
    if (own === undefined || own.migrating.size === 0) return
    const lines = new Map((replies[i] ?? []).map((line) => [line.id, line]))
    for (const [slot, target] of own.migrating) {
      if (pinned !== undefined && slot !== pinned) continue
      const line = lines.get(target)
      if (line?.usable) moves.push({ slot, from: node, to: resolve(line) })
    }
  })
  return { owners, moves }
}

/** The nodes serving a slot of interest (each, or the pinned one) in `view`, and migrating to. */
export function holders(view: View, pinned: number | undefined): NodeHandle[] {
  const nodes = new Set<NodeHandle>()
  for (const slot of slotsOf(pinned)) {
    const owner = view.owners[slot]
    if (owner !== undefined) nodes.add(owner)
  }
  for (const move of view.moves) nodes.add(move.to)
  return [...nodes]
}

/**
 * The nodes to walk again after a round that started at view `before` and ended at `after`, given
 * `walks` (the step at which each node's last walk started, steps running one after another): the
 * target of every slot that changed owner or migrates, unless its source's last walk came first
 * (a key that left the source after its walk was there during all of it), and every node serving
 * a slot of interest that was never walked.
 */
export function missed(
  before: View,
  after: View,
  walks: ReadonlyMap<NodeHandle, number>,
  pinned: number | undefined,
): NodeHandle[] {
  const again = new Set<NodeHandle>()
  const moved = (from: NodeHandle, to: NodeHandle) => {
    const left = walks.get(from)
    const reached = walks.get(to)
    if (from !== to && (left === undefined || reached === undefined || left >= reached)) {
      again.add(to)
    }
  }
  for (const slot of slotsOf(pinned)) {
    const was = before.owners[slot]
    const is = after.owners[slot]
    if (was !== undefined && !walks.has(was)) again.add(was)
    if (is !== undefined && !walks.has(is)) again.add(is)
    if (was !== undefined && is !== undefined) moved(was, is)
  }
  for (const move of [...before.moves, ...after.moves]) moved(move.from, move.to)
  return [...again]
}

/**
 * The slots of interest (each, or the pinned one) that a round starting at view `before` and
 * ending at `after` saw move: migrating in either view, or served by another node in `after`.
 */
export function movedSlots(before: View, after: View, pinned: number | undefined): number[] {
  const slots = new Set([...before.moves, ...after.moves].map((move) => move.slot))
  for (const slot of slotsOf(pinned)) {
    if (before.owners[slot] !== after.owners[slot]) slots.add(slot)
  }
  return [...slots]
}

/**
 * `nodes` in steps where each migration's source comes before its target (steps of one node
 * each when `single`), in their given order otherwise. Migrations in a cycle (two nodes each
 * migrating a slot to the other) are cut where the walk finds them; `missed` sees to the rest.
 */
export function steps(
  nodes: readonly NodeHandle[],
  moves: readonly Move[],
  single: boolean,
): NodeHandle[][] {
  const pending = new Set(nodes)
  const sources = new Map<NodeHandle, Set<NodeHandle>>()
  for (const { from, to } of moves) {
    if (from === to || !pending.has(from) || !pending.has(to)) continue
    const set = sources.get(to) ?? new Set<NodeHandle>()
    set.add(from)
    sources.set(to, set)
  }
  const result: NodeHandle[][] = []
  while (pending.size > 0) {
    let ready = [...pending].filter((node) =>
      [...(sources.get(node) ?? [])].every((from) => !pending.has(from)),
    )
    if (ready.length === 0) ready = [pending.values().next().value as NodeHandle]
    for (const node of ready) pending.delete(node)
    if (single) for (const node of ready) result.push([node])
    else result.push(ready)
  }
  return result
}

/** Every slot, in order. */
const ALL_SLOTS: readonly number[] = Array.from({ length: SLOTS }, (_, slot) => slot)

function slotsOf(pinned: number | undefined): readonly number[] {
  return pinned === undefined ? ALL_SLOTS : [pinned]
}
