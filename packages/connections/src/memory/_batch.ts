// The batch of `memory://` (`MemoryConnection.batch`): a pipeline, whose commands a server runs in
// order on one connection. A blocking command that waits (BLPOP with nothing to pop, XREAD BLOCK
// with no new entry) holds the commands behind it until it is served or times out, as on Redis:
// run at once, an RPUSH behind a BLPOP would feed it, and an XREAD's `$` would see the XADD sent
// after it.
import type { RedisArgument } from '@cachex/core'

/**
 * Runs one command of a batch: its reply, now, or a promise of it when the command blocked
 * (a reply is never a promise). Throws what the command failed with.
 */
export type BatchStep = (args: RedisArgument[]) => unknown

/**
 * Runs `commands` in order with `step`, to one entry per command: its reply, or the error it
 * failed with. While no command blocks, every one runs now, with no promise made for it; from a
 * command that blocked, the rest run once it settled.
 */
export function runBatch(
  commands: readonly RedisArgument[][],
  step: BatchStep,
): Promise<unknown[]> {
  const replies = new Array<unknown>(commands.length)
  const from = (start: number): unknown[] | Promise<unknown[]> => {
    for (let i = start; i < commands.length; i++) {
      let reply: unknown
      try {
        reply = step(commands[i] as RedisArgument[])
      } catch (error) {
        reply = error
      }
      if (reply instanceof Promise) {
        // The commands behind it wait for it, a later blocking one likewise (`step` of a closed
        // connection throws at once, so a close() settles them all).
        return reply.then(
          (value: unknown) => {
            replies[i] = value
            return from(i + 1)
          },
          (error: unknown) => {
            replies[i] = error
            return from(i + 1)
          },
        )
      }
      replies[i] = reply
    }
    return replies
  }
  const ran = from(0)
  return Array.isArray(ran) ? answered(ran) : ran
}

const same = <T>(value: T): T => value

/**
 * `replies`, as late as a batch answered when each command was a promise of its own, gathered by
 * `Promise.all` (a caller's `await` resumes three microtasks after a lone command's sent with it):
 * the cache's `incr` fallbacks run in the order the replies come, and a pipeline's reply comes
 * after those of the lone commands sent with it on a server too (`pipeline-incr-order` tests).
 */
function answered(replies: unknown[]): Promise<unknown[]> {
  return Promise.resolve(replies).then(same).then(same)
}
