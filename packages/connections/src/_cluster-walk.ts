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
import { ConnectionError } from '@cachex/core'
import { scanWalk } from '@cachex/core/internal'
import type { NodeHandle } from './_cluster-nodes.ts'
import { holders, look, missed, steps, type WalkSource } from './_cluster-view.ts'
import { patternSlot } from './_slots.ts'

export type { WalkSource } from './_cluster-view.ts'
export { parseClusterNodes } from './_nodes-reply.ts'

/** The rounds of a walk at most: the first, and 3 more of the nodes it may have missed keys on. */
const ROUNDS = 4

/**
 * The keys matching `pattern` on every node that may hold some, each reply's keys as one batch
 * (`scanWalk` on each, one node after another). A node walked again may give a key twice. The
 * caller refreshes the map first: SCAN names no key, so no MOVED tells a walk that slots moved.
 */
export function walkCluster(
  source: WalkSource,
  pattern: string,
  count: number,
): AsyncGenerator<Array<string | Buffer>> {
  return inRounds(source, patternSlot(pattern), true, (step) =>
    scanWalk((args) => source.onNode(step[0] as NodeHandle, args), pattern, count),
  )
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
 * interest, or every slot.
 */
async function* inRounds<T>(
  source: WalkSource,
  pinned: number | undefined,
  single: boolean,
  visit: (step: NodeHandle[]) => AsyncIterable<T>,
): AsyncGenerator<T> {
  const owner = pinned === undefined ? undefined : source.masterOf(pinned)
  // A pinned slot no node of the map serves: every primary is walked, for every slot.
  const slot = owner === undefined ? undefined : pinned
  const first = owner === undefined ? source.primaries() : [owner]
  let before = await look(source, first, slot)
  let nodes = [...new Set([...first, ...holders(before, slot)])]
  // The map named another node for some slot: it is asked for again, for the calls after.
  if (nodes.length > first.length) void source.refresh()
  /** The step at which each node's last walk started. */
  const walks = new Map<NodeHandle, number>()
  let at = 0
  for (let round = 1; ; round++) {
    for (const step of steps(nodes, before.moves, single)) {
      at++
      for (const node of step) walks.set(node, at)
      yield* visit(step)
    }
    const after = await look(source, [...walks.keys()], slot)
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
