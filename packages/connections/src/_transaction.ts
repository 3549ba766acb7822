// `Connection.transaction`: MULTI, the commands and EXEC as one chain on one node-redis client (a
// client; a pool leases one for it; on a cluster, the primary of the commands' slot).
import { CrossSlotError, type InvalidArgumentError, type RedisArgument } from '@cachex/core'
import { notCommands } from './_command-shape.ts'
import {
  COMMAND_OPTIONS,
  DIGITS_COMMAND_OPTIONS,
  type ReplyForm,
  TEXT_COMMAND_OPTIONS,
  withOptions,
} from './_options.ts'
import { impliedKey, routingOf, TAG_HINT } from './_routing.ts'
import { keySlot } from './_slots.ts'

/** What a chain is sent through: a node-redis client, seen through cachex's command options. */
export interface ChainSender {
  sendCommand(args: ReadonlyArray<RedisArgument>, options?: { chainId?: symbol }): Promise<unknown>
}

/** A node-redis client pool: `execute` leases one of its clients for a task. */
export interface PoolLike {
  execute<T>(task: (client: ChainSender) => T): Promise<Awaited<T>>
}

/** `client` seen through cachex's command options: replies as text, as bytes, integers as digits. */
export function chainSender(client: ChainSender, text: ReplyForm): ChainSender {
  const options =
    text === false ? COMMAND_OPTIONS : text === true ? TEXT_COMMAND_OPTIONS : DIGITS_COMMAND_OPTIONS
  return withOptions(client, options, () => ({
    sendCommand: (args: ReadonlyArray<RedisArgument>, extra?: { chainId?: symbol }) =>
      client.sendCommand(args, { ...options, ...extra }),
  }))
}

/**
 * Sends `MULTI`, `commands` and `EXEC` on `sender` as one node-redis chain, and resolves one
 * entry per command: its reply, or its error mapped by `mapError`. node-redis writes a chain
 * whole, nothing of another call in between, and drops what it has not written of it when the
 * connection is lost. Each reply is typed as `sender`'s options say: node-redis's own `multi()`
 * decodes `EXEC`'s reply with its default type mapping (bulk strings as UTF-8 text, whatever the
 * options), so a compressed or MessagePack value came back as lossy text. Rejects, with the
 * first error of the chain, when the transaction ran nothing (a command refused as it was
 * queued, then `EXECABORT`; a lost connection). `asking`: `ASKING` goes first, for a transaction
 * that follows an `ASK` redirection (it holds until `EXEC`).
 */
export async function execChain(
  sender: ChainSender,
  commands: readonly RedisArgument[][],
  mapError: (error: unknown) => Error,
  asking = false,
): Promise<unknown[]> {
  const chain = { chainId: Symbol('MULTI') }
  const queued: Promise<unknown>[] = []
  if (asking) queued.push(sender.sendCommand(['ASKING'], chain))
  queued.push(sender.sendCommand(['MULTI'], chain))
  // Every index (a transaction's commands are checked by `notCommands`, holes included).
  for (let i = 0; i < commands.length; i++) {
    queued.push(sender.sendCommand(commands[i] as RedisArgument[], chain))
  }
  const exec = sender.sendCommand(['EXEC'], chain)
  // Settled below, after the replies before it: not an unhandled rejection meanwhile.
  exec.catch(() => {})
  const settled = await Promise.allSettled(queued)
  let replies: unknown
  try {
    replies = await exec
  } catch (error) {
    const refused = settled.find((outcome) => outcome.status === 'rejected')
    throw refused === undefined ? error : refused.reason
  }
  if (!Array.isArray(replies)) {
    // (EXEC answers nil only after a WATCH, which cachex never sends.)
    throw new Error(`EXEC answered ${String(replies)} instead of the replies of the transaction`)
  }
  if (replies.length !== commands.length) {
    // A command the client refused before it was queued (Redis never saw it) ran nothing, while
    // the others ran: the transaction was not all or nothing, and its replies are out of place.
    const refused = settled.find((outcome) => outcome.status === 'rejected')
    throw (
      refused?.reason ??
      new Error(`EXEC answered ${replies.length} replies for ${commands.length} commands`)
    )
  }
  return replies.map((reply) => (reply instanceof Error ? mapError(reply) : reply))
}

/**
 * The key every command of a cluster transaction is in the slot of, or a `CrossSlotError` when
 * they span slots (a transaction runs on one node), or an `InvalidArgumentError` when `commands`
 * is not an array of well-formed commands (`notCommands`: checked before any is routed, which
 * reads their names and keys), for `where` (the cluster, in messages).
 */
export function transactionKey(
  commands: readonly RedisArgument[][],
  where: string,
): RedisArgument | undefined | CrossSlotError | InvalidArgumentError {
  const wrong = notCommands(commands, 'transaction', where)
  if (wrong !== undefined) return wrong
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
