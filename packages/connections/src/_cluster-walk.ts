// A walk of a cluster's keys (`SCAN` on each node that may hold some) or its flush (`FLUSHDB`),
// in rounds. The nodes walked first: the primaries of the slot map (the one owner of the slot,
// for a pattern that pins a hash tag), the nodes that, by their own `CLUSTER NODES` line, serve
// slots the map gives a node they are not (a stale map), and the nodes slots migrate to, each
// after its source: while a slot migrates, the keys already moved live on the importing node,
// which the map does not name for that slot (nor at all while it owns no slot yet), and a key
// moved after that node's walk was still on the source during the source's. After a round, the
// walked nodes are asked again (`missed`): a node keys may have reached unseen — a slot that
// changed owner or started migrating during the round, from a node walked after it — is walked
// again, at most 3 times; a walk that still may have missed keys then fails with a
// `ConnectionError`, never ends as if complete. A node that refuses `CLUSTER NODES` (an ACL user
// without `cluster|nodes`, an older proxy) is taken at the slot map's word.
// A key walk yields each key once: a key of a slot that migrates can be on its source during the
// source's walk and on its target during the target's, so the keys of the slots that migrate in
// the walk's view, or moved during it, are remembered (only those: a slot that stays put keeps its
// keys on one node) and a key yielded already is skipped; a node walked again yields only the
// keys of those slots, as it yielded the others in its walk before. (A slot that starts migrating
// during a round is known to move only after it: a key of it yielded in that round is not
// remembered, and may come again in the next.)
import { ConnectionError } from '@cachex/core'
import { scanWalk } from '@cachex/core/internal'
import type { NodeHandle } from './_cluster-nodes.ts'
import { holders, look, missed, movedSlots, steps, type WalkSource } from './_cluster-view.ts'
import { keySlot, patternSlot } from './_slots.ts'

export type { WalkSource } from './_cluster-view.ts'
export { parseClusterNodes } from './_nodes-reply.ts'

/** The rounds of a walk at most: the first, and 3 more of the nodes it may have missed keys on. */
const ROUNDS = 4

/** What a step of a walk may give again: see `Visit`. */
interface Repeats {
  /** The slots migrating in the walk's view, or that moved during it, so far. */
  moving: ReadonlySet<number>
  /** The step's nodes were walked before in this walk. */
  again: boolean
}

/** What a walk does on one step of nodes. */
type Visit<T> = (step: NodeHandle[], repeats: Repeats) => AsyncIterable<T>

/**
 * The keys matching `pattern` on every node that may hold some, each reply's keys as one batch
 * (`scanWalk` on each, one node after another), each key once (see the module's comment; a batch
 * may be empty). The caller refreshes the map first: SCAN names no key, so no MOVED tells a walk
 * that slots moved. Its memory: the names of the keys of the slots that migrate, as walked.
 */
export function walkCluster(
  source: WalkSource,
  pattern: string,
  count: number,
): AsyncGenerator<Array<string | Buffer>> {
  /** The keys yielded of the `moving` slots (a Buffer's by its bytes). */
  const yielded = new Set<string>()
  return inRounds(source, patternSlot(pattern), true, async function* (step, repeats) {
    const walk = scanWalk((args) => source.onNode(step[0] as NodeHandle, args), pattern, count)
    for await (const batch of walk) {
      if (repeats.moving.size === 0 && !repeats.again) {
        yield batch
        continue
      }
      yield batch.filter((key) => {
        if (!repeats.moving.has(keySlot(key))) return !repeats.again
        const name = typeof key === 'string' ? `s${key}` : `b${key.toString('latin1')}`
        if (yielded.has(name)) return false
        yielded.add(name)
        return true
      })
    }
  })
}

/**
 * `FLUSHDB` on every node that may hold keys, as `walkCluster` finds them: the nodes of a step
 * at once, a migration's source in a step before its target's.
 */
export async function flushCluster(source: WalkSource): Promise<void> {
  const flushing = inRounds(source, undefined, false, async function* (step) {
    await Promise.all(step.map((node) => source.onNode(node, ['FLUSHDB'])))
  })
  for await (const _ of flushing) {
    // Nothing is yielded: the flush is done when the rounds are.
  }
}

/**
 * Runs `visit` on each step of nodes (one node each when `single`), in rounds until a round
 * leaves no node that may have missed keys (see the module's comment). `pinned`: the one slot of
 * interest, or every slot. `visit` is told the slots that migrate or moved so far, and whether
 * the step's nodes were walked before.
 */
async function* inRounds<T>(
  source: WalkSource,
  pinned: number | undefined,
  single: boolean,
  visit: Visit<T>,
): AsyncGenerator<T> {
  const owner = pinned === undefined ? undefined : source.masterOf(pinned)
  // A pinned slot no node of the map serves: every primary is walked, for every slot.
  const slot = owner === undefined ? undefined : pinned
  const first = owner === undefined ? source.primaries() : [owner]
  let before = await look(source, first, slot)
  let nodes = [...new Set([...first, ...holders(before, slot)])]
  const moving = new Set(before.moves.map((move) => move.slot))
  // The map named another node for some slot: it is asked for again, for the calls after.
  if (nodes.length > first.length) void source.refresh()
  /** The step at which each node's last walk started. */
  const walks = new Map<NodeHandle, number>()
  let at = 0
  for (let round = 1; ; round++) {
    for (const step of steps(nodes, before.moves, single)) {
      at++
      const again = step.every((node) => walks.has(node))
      for (const node of step) walks.set(node, at)
      yield* visit(step, { moving, again })
    }
    const after = await look(source, [...walks.keys()], slot)
    for (const moved of movedSlots(before, after, slot)) moving.add(moved)
    nodes = missed(before, after, walks, slot)
    if (nodes.length === 0) return
    if (round >= ROUNDS) {
      throw new ConnectionError(
        `the cluster's slots kept moving during ${round} rounds of a walk of its keys (a resharding or failover under way): keys may have been missed, so the walk is incomplete; run it again once the slots settle`,
      )
    }
    void source.refresh()
    before = after
  }
}
