import type { ClusterNode, NodeLine } from './_cluster-cli.ts'

/** A slot move in progress, from `beginSlotMove`. */
export interface SlotMove {
  readonly slot: number
  /** The primary that owns the slot. */
  readonly from: ClusterNode
  /** The primary that imports it. */
  readonly to: ClusterNode
  /** The keys of the slot still on `from`, at most `count`. */
  keys(count?: number): Promise<string[]>
  /** Moves `keys` (by default every key left) from `from` to `to` with `MIGRATE`. */
  migrate(keys?: readonly string[]): Promise<void>
  /** Assigns the slot to `to` on every primary (`SETSLOT NODE`): the move is done. */
  finish(): Promise<void>
  /**
   * Gives up, as an interrupted `redis-cli --cluster rebalance` leaves things: `SETSLOT STABLE` on
   * both nodes; keys already migrated stay on `to`.
   */
  abort(): Promise<void>
}

/** What a slot move needs of its cluster: its live nodes, its view, a way to talk to a node. */
export interface MoveContext {
  readonly password: string | undefined
  /** The nodes alive now (the cluster's own set, which later kills and restarts change). */
  readonly alive: ReadonlySet<ClusterNode>
  byId(id: string): ClusterNode | undefined
  /** `CLUSTER NODES` from the first live node that answers. */
  clusterNodes(): Promise<NodeLine[]>
  /** Runs `redis-cli` with `args` against `node`. */
  on(node: ClusterNode, ...args: string[]): Promise<string>
}

/** Starts moving `slot` to `to`; `undefined` when `to` serves it already. */
export async function beginSlotMove(
  cluster: MoveContext,
  slot: number,
  to: ClusterNode,
): Promise<SlotMove | undefined> {
  const { password, alive, byId, clusterNodes, on } = cluster
  const owner = (await clusterNodes()).find(
    (l) => l.primary && !l.failed && l.ranges.some(([a, b]) => slot >= a && slot <= b),
  )
  const from = owner === undefined ? undefined : byId(owner.id)
  if (from === undefined) throw new Error(`no primary serves slot ${slot}`)
  if (from === to) return undefined
  // The importing side first, as redis-cli does: a client sent there by ASK must find it ready.
  await on(to, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', from.id)
  await on(from, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', to.id)
  const auth = password === undefined ? [] : ['AUTH', password]
  const keys = async (count = 100) =>
    (await on(from, 'CLUSTER', 'GETKEYSINSLOT', String(slot), String(count)))
      .split('\n')
      .filter((key) => key !== '')
  const migrate = async (some: readonly string[]) => {
    if (some.length === 0) return
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
      ...some,
    )
  }
  return {
    slot,
    from,
    to,
    keys,
    migrate: async (some) => {
      if (some !== undefined) return migrate(some)
      for (;;) {
        const batch = await keys(100)
        if (batch.length === 0) return
        await migrate(batch)
      }
    },
    finish: async () => {
      const others = (await clusterNodes())
        .filter((l) => l.primary && !l.failed)
        .map((l) => byId(l.id))
        .filter((n): n is ClusterNode => n !== undefined && n !== to && n !== from && alive.has(n))
      // The new owner first, then the old one (which then answers MOVED), then the rest: a
      // courtesy, since gossip tells them too; one a stale view still lists as a primary
      // refuses it ("only with masters"), and that is no failure of the move.
      for (const node of [to, from]) {
        await on(node, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id)
      }
      for (const node of others) {
        await on(node, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id).catch(
          (error: unknown) => {
            if (!/only with masters/.test(String(error))) throw error
          },
        )
      }
    },
    abort: async () => {
      await on(from, 'CLUSTER', 'SETSLOT', String(slot), 'STABLE')
      await on(to, 'CLUSTER', 'SETSLOT', String(slot), 'STABLE')
    },
  }
}
