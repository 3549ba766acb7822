// A batch (a pipeline) sent within a connection's `maxInFlightBytes` (`Deadlines`), weighed
// whole as one command is, and the overhead of its callers it carries down to `Deadlines.track`.
import type { RedisArgument } from '@cachex/core'
import { resolveAfterTurn } from './_after-turn.ts'
import { commandsWeight, mapCommands, notCommands, overheadOf } from './_command-shape.ts'
import type { Deadlines } from './_deadlines.ts'

/**
 * The overhead a batch admitted with its `callers` has yet to count (see `batchWithin`), handed
 * down its send to `Deadlines.track`: `overheadOf(callers)`, all of it on the first command of
 * the batch tracked, in place of one `COMMAND_OVERHEAD` each.
 */
export interface BatchOverhead {
  /** What is left to count: the whole of it until a command of the batch is tracked, then 0. */
  left: number
}

/**
 * Sends a batch (a pipeline) within `deadlines`' `maxInFlightBytes`, weighed whole as one command
 * is: admitted or refused as one (each entry the `BackpressureError`), never sent with gaps, and
 * one larger than the cap runs when nothing else is in flight (`IDLE_BYTES`). `send` sends every
 * command in this tick, so that a call made after the batch does not overtake it (and `close()`
 * finds it sent), and gives each one's reply, or its error as a value. A malformed command (a NaN
 * weight: see `commandWeight`) leaves the batch unweighed, for `send` to refuse each such one:
 * `send` goes through every index (`mapCommands`: `map` skips a hole). `callers`: the route's
 * (`CommandRoute.callers`), how many calls the whole batch answers, weighed as one command's
 * overhead for them; without, each command counts as a call (see `commandsWeight`). With them,
 * `send` is given the batch's `BatchOverhead`, to hand to `Deadlines.track` with each command.
 */
export function batchWithin(
  deadlines: Deadlines,
  commands: readonly RedisArgument[][],
  where: string,
  callers: number | undefined,
  send: (
    commands: readonly RedisArgument[][],
    overhead: BatchOverhead | undefined,
  ) => Array<Promise<unknown>>,
): Promise<unknown[]> {
  const wrong = notCommands(commands, 'batch', where)
  if (wrong !== undefined) return Promise.reject(wrong)
  const total = commandsWeight(commands, callers)
  if (Number.isNaN(total)) return Promise.all(send(commands, undefined))
  const refused = deadlines.refuse(total, commands[0]?.[0] ?? 'batch', where)
  // On the loop's next turn, as `rejectAfterTurn`: a caller retrying at once would starve the
  // replies that free the bytes.
  if (refused !== undefined) return resolveAfterTurn(mapCommands(commands, () => refused))

  // Admitted whole: its commands are not weighed again one by one as they are sent, and with
  // `callers` count one overhead for them all as they are tracked.
  deadlines.admitted = true
  try {
    return Promise.all(
      send(commands, callers === undefined ? undefined : { left: overheadOf(callers) }),
    )
  } finally {
    deadlines.admitted = false
  }
}
