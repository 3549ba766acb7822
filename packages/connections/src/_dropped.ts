// A call whose connection went away under it — the server killed or restarted, the connection
// reset — gets node-redis's bare "read ECONNRESET" or "Socket closed unexpectedly", which names
// neither the server nor what the caller needs to know: a write may or may not have run.
import { ConnectionError } from '@cachex/core'
import { scrub } from './_errors.ts'

/**
 * The error of a call whose connection to `node` (its address, or words for it) was dropped
 * under it, for `reason`: dropped before its reply came, a write perhaps applied. node-redis's
 * `error`, passwords cut out, is its cause.
 */
export function droppedError(
  node: string,
  reason: string,
  error: unknown,
  secrets: readonly string[],
): ConnectionError {
  return new ConnectionError(
    `the connection to ${node} was dropped (${reason}) before this command's reply came; if it writes, it may or may not have been applied`,
    { cause: scrub(error, secrets) },
  )
}
