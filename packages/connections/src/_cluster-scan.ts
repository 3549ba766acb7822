// The walks of a cluster connection's keyspace: `scan` (keys, iterKeys, deletePattern, clear of a
// prefix, the admin's listings) and `flush` (clear without a prefix). Each waits for the
// connection, asks for the slot map first, then walks in rounds (`_cluster-walk.ts`).
import type { WalkSource } from './_cluster-view.ts'
import { flushCluster, walkCluster } from './_cluster-walk.ts'

/** What the walks ask of the cluster connection. */
export interface ScanSource extends WalkSource {
  /** Waits until the connection is ready, its slot map built. */
  ready(): Promise<void>
}

/**
 * The keys matching `pattern` on every node that may hold some (`walkCluster`), in batches. SCAN
 * names no key, so no MOVED ever tells a walk that slots moved: the map is asked for first (one
 * CLUSTER SLOTS), or a resharded slot's keys, a new primary's, would be missed.
 */
export async function* scanCluster(
  source: ScanSource,
  pattern: string,
  count: number,
): AsyncGenerator<Array<string | Buffer>> {
  await source.ready()
  await source.refresh()
  yield* walkCluster(source, pattern, count)
}

/**
 * `FLUSHDB` on every node that may hold keys, as for `scanCluster`: the primaries of the map as
 * it is now, and the nodes they migrate a slot to (`flushCluster`).
 */
export async function flushNodes(source: ScanSource): Promise<void> {
  await source.ready()
  await source.refresh()
  await flushCluster(source)
}
