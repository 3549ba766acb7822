// A batch on one leased client. node-redis's client pool (and a `RedisSentinel`'s pool of clients
// of the primary) gives each command sent through it a client of its own until its reply, so the
// commands of one batch sent one by one ran side by side on several clients, in any order: a large
// `SET` could land after the small `SET` of the same key queued behind it. Leased for the whole
// batch, one client pipelines them all in queue order, as a single connection does.
import type { RedisArgument } from '@cachex/core'
import { READONLY_REPLY } from '@cachex/core/internal'
import { resolveAfterTurn } from './_after-turn.ts'
import type { BatchOverhead } from './_batch-within.ts'
import { commandWeight, mapCommands, nameOf } from './_command-shape.ts'
import type { Deadlines } from './_deadlines.ts'
import type { ReplyForm } from './_options.ts'
import { type ChainSender, chainSender, type PoolLike } from './_transaction.ts'

/** A command of a batch waiting for its reply on the leased client, and how to settle it. */
export interface LeasedCommand {
  args: RedisArgument[]
  resolve(reply: unknown): void
  reject(error: unknown): void
}

/**
 * The reply of `args`, once a lease sends it: the command joins `leased` now (the promise's
 * executor runs at once), for `onPool` (or another lease) to send in this tick.
 */
export function leasedReply(args: RedisArgument[], leased: LeasedCommand[]): Promise<unknown> {
  return new Promise<unknown>((resolve, reject) => {
    leased.push({ args, resolve, reject })
  })
}

/** What `leasedBatch` asks of the connection that sends the batch. */
export interface Leasing {
  deadlines: Deadlines
  /** The connection's place, for messages. */
  where: string
  mapError: (error: unknown) => Error
  /** Why no command is sent now (its primary is known down), or `undefined` to send them. */
  refused?: () => Error | undefined
  /** Each command's reply, bounded, as it is sent (for a connection counting what is in flight). */
  sent?: (tracked: Promise<unknown>) => void
}

/**
 * A batch for one leased client: `lease` (`onPool`, `onPrimary`) is handed the commands to send
 * on it, in queue order, in this tick. Sent one by one through a pool, each would take a client
 * of its own and they would run side by side, in any order: a later write of a key could land
 * before an earlier one. Each command is refused, weighed and bounded by `socketTimeout` (from
 * now, the wait for the lease included) as one sent alone; its reply or error comes as a value.
 */
export function leasedBatch(
  all: readonly RedisArgument[][],
  batch: BatchOverhead | undefined,
  leasing: Leasing,
  lease: (leased: readonly LeasedCommand[]) => void,
): Array<Promise<unknown>> {
  const { deadlines, where, mapError, refused, sent } = leasing
  const leased: LeasedCommand[] = []
  const replies = mapCommands(all, (args) => {
    const weight = commandWeight(args)
    const why = deadlines.refuse(weight, nameOf(args), where) ?? refused?.()
    // On the loop's next turn (`rejectAfterTurn`): a caller retrying at once must let the
    // replies that free the bytes, or the reconnection, run.
    if (why !== undefined) return resolveAfterTurn(why)
    const tracked = deadlines.track(
      leasedReply(args, leased),
      String(args[0]),
      mapError,
      weight,
      0,
      batch,
    )
    sent?.(tracked)
    return tracked.catch((error: Error) => error)
  })
  if (leased.length > 0) lease(leased)
  return replies
}

/**
 * Sends `commands` in order on `client`, replies read as `text` says: their replies, in order (a
 * command node-redis refuses at once rejects alone). Nothing of another call goes in between:
 * the client is leased.
 */
export function sendOnClient(
  client: ChainSender,
  commands: readonly LeasedCommand[],
  text: ReplyForm,
): Array<Promise<unknown>> {
  const sender = chainSender(client, text)
  return commands.map((command) => {
    try {
      return sender.sendCommand(command.args)
    } catch (error) {
      return Promise.reject(error)
    }
  })
}

/**
 * Sends `commands` on one client `pool` leases for them all (at once when one is idle, so in
 * this tick), each settled as its reply comes; the client goes back to the pool once every reply
 * came. When no client can be leased (the pool is closed, or none came within its
 * `acquireTimeout`), each rejects with why.
 */
export function onPool(pool: PoolLike, commands: readonly LeasedCommand[], text: ReplyForm): void {
  pool
    .execute((client) => {
      const replies = sendOnClient(client, commands, text)
      replies.forEach((reply, i) => {
        const command = commands[i] as LeasedCommand
        reply.then(command.resolve, command.reject)
      })
      return Promise.allSettled(replies)
    })
    .catch((error: unknown) => {
      // Settled already where the client was leased: only the lease itself failed here.
      for (const command of commands) command.reject(error)
    })
}

/** A node-redis `RedisSentinel`, as far as leasing a client of its primary goes. */
interface LeasingSentinel {
  _execute?<T>(isReadonly: boolean, task: (client: ChainSender) => Promise<T>): Promise<T>
}

/**
 * Whether `sentinel` can lease one client of its primary for a batch (node-redis's
 * `RedisSentinel._execute`, what each of its commands goes through).
 */
export function leasesPrimary(sentinel: object): boolean {
  return typeof (sentinel as LeasingSentinel)._execute === 'function'
}

/**
 * Sends `commands` on one client of `sentinel`'s primary, leased for them all (with
 * `masterPoolSize` above 1, each command sent on its own takes a client of the pool), and
 * settles each once every reply came. When every reply is `READONLY` — the node node-redis took
 * for the primary was demoted by a failover it has not heard of yet, and wrote nothing — the
 * batch fails as one command would: node-redis asks the sentinels again and runs it anew on the
 * new primary. A batch of which some command may have run is never sent again.
 */
export function onPrimary(
  sentinel: object,
  commands: readonly LeasedCommand[],
  text: ReplyForm,
): void {
  const lease = (sentinel as Required<LeasingSentinel>)._execute.bind(sentinel)
  lease(false, async (client) => {
    const settled = await Promise.allSettled(sendOnClient(client, commands, text))
    const first = settled[0]
    if (first?.status === 'rejected' && settled.every(isReadOnly)) throw first.reason
    return settled
  }).then(
    (settled) => {
      settled.forEach((outcome, i) => {
        const command = commands[i] as LeasedCommand
        if (outcome.status === 'fulfilled') command.resolve(outcome.value)
        else command.reject(outcome.reason)
      })
    },
    (error: unknown) => {
      for (const command of commands) command.reject(error)
    },
  )
}

/** Whether a command was refused with `READONLY` (a replica refuses every write so). */
function isReadOnly(outcome: PromiseSettledResult<unknown>): boolean {
  return (
    outcome.status === 'rejected' &&
    outcome.reason instanceof Error &&
    outcome.reason.message.startsWith(READONLY_REPLY)
  )
}
