// How a read runs on a topology with read replicas (`replica`, `sentinel`): on a replica of the
// rotation (`_rotation.ts`), and when it fails there or none is in it, on the primary — after a
// wait while the primary is known down, where the topology has one (Sentinel).
import { type CommandRoute, type RedisArgument, TimeoutError } from '@cachex/core'
import { isBusyReply, isReplicaFailure } from './_errors.ts'
import { isRefusedHandshake } from './_retry.ts'
import { REPLICA_CHECK_MS, type ReplicaRotation } from './_rotation.ts'
import type { StandaloneConnection } from './standalone.ts'

/**
 * Whether the primary runs a read again after the replica failed it. Not after a timeout: the
 * call has used up its `socketTimeout` already.
 */
export function retriesOnPrimary(error: unknown): boolean {
  return isReplicaFailure(error) && !(error instanceof TimeoutError)
}

/**
 * The node-redis client of a replica in the rotation, waiting for the first check (at most
 * `REPLICA_CHECK_MS`) when none is in it yet; `undefined` when none is healthy.
 */
export async function firstHealthy(
  rotation: ReplicaRotation,
  closed: () => boolean,
): Promise<unknown> {
  const until = performance.now() + REPLICA_CHECK_MS
  for (;;) {
    const node = rotation.pick()
    if (node !== undefined) return node.client()
    if (closed() || performance.now() >= until) return undefined
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/**
 * Where a read runs when the rotation has no replica for it: the primary. With a wait (Sentinel),
 * while the primary is known down, the read waits (until `until`, a `performance.now()` time) for
 * a replica to enter the rotation or for a live primary — the one the sentinels announce after a
 * failover — instead of failing at once on the dead one; then runs on the primary as it is.
 */
async function readerWhileDown(
  rotation: ReplicaRotation | undefined,
  primary: () => StandaloneConnection,
  closed: () => boolean,
  until: number,
  waitsOn: (node: StandaloneConnection) => boolean,
): Promise<StandaloneConnection> {
  for (;;) {
    if (closed() || performance.now() >= until) return rotation?.pick() ?? primary()
    await new Promise((resolve) => setTimeout(resolve, 20))
    const node = rotation?.pick() ?? primary()
    if (!waitsOn(node) || closed() || performance.now() >= until) return node
  }
}

/**
 * Runs `send` on the node a read goes to when the rotation picks none (see `readerWhileDown`).
 * With `waitMs`, when that node fails it with a connection error (the primary dying as the read
 * is sent), once more on the next live node — both within one wait of at most `waitMs`. A batch
 * fails it in a slot of its replies (`failureOf`): run once more all the same. A node
 * down because it refused the handshake (a wrong password) or answered it with another error
 * reply (`ERR max number of clients reached`: `isRefused`), or because it serves TLS only and the
 * location says plain `redis://`, is alive, and no failover is coming: the read fails at once
 * with the refusal, as a write does, unless `failingOver()` (the sentinels are replacing it, and
 * the new primary may accept).
 */
function onFallback<T>(
  rotation: ReplicaRotation | undefined,
  primary: () => StandaloneConnection,
  closed: () => boolean,
  waitMs: number,
  send: (node: StandaloneConnection) => Promise<T>,
  failingOver: () => boolean,
  failureOf: (result: T) => unknown = () => undefined,
): Promise<T> {
  const node = rotation?.pick() ?? primary()
  if (waitMs === 0) return send(node)
  const until = performance.now() + waitMs
  const waitsOn = (on: StandaloneConnection) => on.isDown && (!on.isRefused || failingOver())
  // Whether the read that `reader` failed with `error` runs once more.
  const again = (error: unknown, reader: StandaloneConnection): boolean =>
    // A node busy with a script (`BUSY`) is up, and may be the primary: the read is not sent again.
    !closed() &&
    retriesOnPrimary(error) &&
    !isBusyReply(error) &&
    (!(isRefusedHandshake(error) || reader.isRefused) || failingOver())
  return (async () => {
    const reader =
      waitsOn(node) && !closed()
        ? await readerWhileDown(rotation, primary, closed, until, waitsOn)
        : node
    let result: T
    try {
      result = await send(reader)
    } catch (error) {
      if (!again(error, reader)) throw error
      return send(await readerWhileDown(rotation, primary, closed, until, waitsOn))
    }
    const failure = failureOf(result)
    if (failure === undefined || !again(failure, reader)) return result
    return send(await readerWhileDown(rotation, primary, closed, until, waitsOn))
  })()
}

/**
 * Runs a read on a replica of the rotation (on `primary()` when none is in it). When the replica
 * fails it with a connection error, the read runs once more, on another replica in the rotation
 * or on the primary: a replica going away (or dropping its clients, as one the sentinels
 * reconfigure does) fails no read. `waitMs`: see `onFallback`.
 */
export function readOn(
  rotation: ReplicaRotation | undefined,
  primary: () => StandaloneConnection,
  args: RedisArgument[],
  route: CommandRoute | undefined,
  closed: () => boolean,
  waitMs = 0,
  failingOver: () => boolean = () => false,
): Promise<unknown> {
  const node = rotation?.pick()
  const send = (on: StandaloneConnection) => on.command(args, route)
  if (node === undefined) return onFallback(rotation, primary, closed, waitMs, send, failingOver)
  return node.command(args, route).catch((error: unknown) => {
    if (closed() || !isReplicaFailure(error)) throw error
    rotation?.bench(node, error)
    if (!retriesOnPrimary(error)) throw error
    return onFallback(rotation, primary, closed, waitMs, send, failingOver)
  })
}

/** `readOn` for a batch of reads. */
export async function readBatchOn(
  rotation: ReplicaRotation | undefined,
  primary: () => StandaloneConnection,
  commands: RedisArgument[][],
  route: CommandRoute | undefined,
  closed: () => boolean,
  waitMs = 0,
  failingOver: () => boolean = () => false,
): Promise<unknown[]> {
  const node = rotation?.pick()
  const elsewhere = () =>
    onFallback(
      rotation,
      primary,
      closed,
      waitMs,
      (on) => on.batch(commands, route),
      failingOver,
      (replies) => replies.find(retriesOnPrimary),
    )
  if (node === undefined) return elsewhere()
  let replies: unknown[]
  try {
    replies = await node.batch(commands, route)
  } catch (error) {
    if (closed() || !isReplicaFailure(error)) throw error
    rotation?.bench(node, error)
    if (!retriesOnPrimary(error)) throw error
    return elsewhere()
  }
  const failure = replies.find(isReplicaFailure)
  if (!closed() && failure !== undefined) {
    rotation?.bench(node, failure)
    // The replica went away half-way: the commands only read, so they run again elsewhere.
    if (replies.some(retriesOnPrimary)) return elsewhere()
  }
  return replies
}
