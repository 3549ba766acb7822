// What a replica says of itself, and whether that lets it serve reads: the judgement of
// `ReplicaRotation`'s checks, apart from the rotation that keeps them.

/** What a replica says of itself in `INFO replication` and `INFO server`. */
export interface ReplicaState {
  /** `role`: `slave` or `master`. */
  role: string
  /** `master_link_status:up`: it is connected to its primary and in sync. */
  linkUp: boolean
  /** `master_sync_in_progress:1`: a full resynchronization, which replaces its data set, runs. */
  syncing: boolean
  /** `run_id`: a new one means the process restarted, with whatever data it loaded. */
  runId: string
  /**
   * `master_replid`: the replication ID of the data set it holds — the same on a primary, its
   * replicas and theirs (also after a `FAILOVER` among them), another on a replica of another
   * primary's data set. `''` where the server does not say.
   */
  replid: string
}

/** Parses the replies of `INFO replication` and `INFO server`. */
export function replicaState(replication: string, server: string): ReplicaState {
  const field = (text: string, name: string) =>
    new RegExp(`^${name}:(.*)$`, 'm').exec(text)?.[1]?.trim() ?? ''
  return {
    role: field(replication, 'role'),
    linkUp: field(replication, 'master_link_status') === 'up',
    syncing: field(replication, 'master_sync_in_progress') === '1',
    runId: field(server, 'run_id'),
    replid: field(replication, 'master_replid'),
  }
}

/**
 * Whether `state` is that of a node holding another data set than the configured primary's:
 * `primaryReplid` (the primary's `master_replid`, `undefined` while not known) differs from its
 * own — a replica re-pointed (`REPLICAOF`) at another server. Its link may be up, but what it
 * serves was never written through this cache. Unknown either side: not another (today's rules).
 */
export function ofAnotherDataSet(state: ReplicaState, primaryReplid: string | undefined): boolean {
  return (
    primaryReplid !== undefined &&
    primaryReplid !== '' &&
    state.replid !== '' &&
    state.replid !== primaryReplid
  )
}

/**
 * Whether a node may serve reads:
 * - `healthy`: a replica in sync with its primary (`role:slave`, `master_link_status:up`, no
 *   full resynchronization running), of the configured primary's data set when its replication
 *   ID is known (`primaryReplid`, see `ofAnotherDataSet`). Only this lets a node enter the
 *   rotation.
 * - `complete`: it was healthy, is the same process since (same `run_id`) and has not started a
 *   full resynchronization, but its link is down or it was promoted — while there is no primary
 *   to write to (it died, or a failover runs). Its data is then the newest there is, so it keeps
 *   serving reads through the failover.
 * - `out`: anything else — an empty restarted node, a node still syncing, a replica cut off from a
 *   primary that still takes writes (its data falls behind), a replica of another data set. It
 *   leaves the rotation.
 */
export function verdict(
  state: ReplicaState,
  trustedRunId: string | undefined,
  primaryUp: boolean,
  primaryReplid?: string,
): 'healthy' | 'complete' | 'out' {
  if (state.syncing || ofAnotherDataSet(state, primaryReplid)) return 'out'
  if (state.role === 'slave' && state.linkUp) return 'healthy'
  if (primaryUp || trustedRunId === undefined || state.runId !== trustedRunId) return 'out'
  return state.role === 'slave' || state.role === 'master' ? 'complete' : 'out'
}
