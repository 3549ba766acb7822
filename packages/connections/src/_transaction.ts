// `Connection.transaction`: commands as one MULTI … EXEC through node-redis's own `multi()`
// (a client, a pool, which leases one client for it, or a cluster, routed by a key), which keeps
// the MULTI, the commands and the EXEC together on one connection.
import { CrossSlotError, type RedisArgument } from '@cachex/core'
import { MultiErrorReply } from '@redis/client'
import { COMMAND_OPTIONS, TEXT_COMMAND_OPTIONS, withOptions } from './_options.ts'
import { impliedKey, routingOf, TAG_HINT } from './_routing.ts'
import { keySlot } from './_slots.ts'

interface MultiLike {
  /** A client's or pool's `addCommand(args)`; a cluster's takes `(firstKey, isReadonly, args)`. */
  addCommand(...args: unknown[]): unknown
  exec(): Promise<unknown[]>
}

interface MultiTarget {
  multi(routing?: RedisArgument): MultiLike
}

/**
 * Runs `commands` as MULTI … EXEC on `target` (seen through cachex's command options: replies
 * as bytes, or as text) and resolves one entry per command: its reply, or its error mapped by
 * `mapError`. Rejects (the raw error) when the transaction ran nothing (`EXECABORT`, a lost
 * connection). `routing`: the key a cluster picks the node by.
 */
export async function runMulti(
  target: object,
  commands: readonly RedisArgument[][],
  text: boolean,
  mapError: (error: unknown) => Error,
  routing?: RedisArgument,
): Promise<unknown[]> {
  const options = text ? TEXT_COMMAND_OPTIONS : COMMAND_OPTIONS
  const client = withOptions(target, options, () => target) as MultiTarget
  const multi = routing === undefined ? client.multi() : client.multi(routing)
  for (const args of commands) {
    if (routing === undefined) multi.addCommand(args)
    else multi.addCommand(routing, false, args)
  }
  try {
    return await multi.exec()
  } catch (error) {
    if (!(error instanceof MultiErrorReply)) throw error
    // Some commands failed at EXEC; Redis ran the others.
    return error.replies.map((reply) => (reply instanceof Error ? mapError(reply) : reply))
  }
}

/**
 * The key every command of a cluster transaction is in the slot of, or a `CrossSlotError` when
 * they span slots (a transaction runs on one node).
 */
export function transactionKey(
  commands: readonly RedisArgument[][],
): RedisArgument | undefined | CrossSlotError {
  let first: RedisArgument | undefined
  let slot: number | undefined
  for (const args of commands) {
    const { name, split, atomic } = routingOf(args)
    const keys =
      atomic !== undefined
        ? atomic.keys(args)
        : split !== undefined
          ? keysOfSplit(args, name)
          : [impliedKey(name, args)]
    for (const key of keys) {
      if (key === undefined) continue
      const keyed = keySlot(key)
      if (slot === undefined) {
        slot = keyed
        first = key
      } else if (keyed !== slot) {
        return new CrossSlotError(
          `a transaction runs on one cluster node, so all its keys must be in one hash slot: '${String(first)}' and '${String(key)}' are not; ${TAG_HINT}`,
        )
      }
    }
  }
  return first
}

/** The keys of MGET/MSET/DEL/UNLINK/EXISTS/TOUCH. */
function keysOfSplit(args: readonly RedisArgument[], name: string): RedisArgument[] {
  const rest = args.slice(1)
  return name === 'MSET' ? rest.filter((_, i) => i % 2 === 0) : rest
}
