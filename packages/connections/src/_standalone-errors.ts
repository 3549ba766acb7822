// How a failure of a call on one server (a client, a pool) is worded for its caller.
import { type ClosedError, ConnectionError } from '@cachex/core'
import { markUnsent } from '@cachex/core/internal'
import { droppedError } from './_dropped.ts'
import {
  isClientClosed,
  isClientOffline,
  isDisconnected,
  isDropped,
  toCachexError,
  withClusterHint,
} from './_errors.ts'
import { withReadonlyHint } from './_readonly-hint.ts'

/** What `mapStandaloneError` needs of its connection. */
export interface StandaloneWording {
  /** The server, password redacted. */
  where: string
  /** The passwords no message may show. */
  secrets: readonly string[]
  /** Why cachex reset the connection last (`''`: it did not). */
  resetReason: string
  /** The connection's life: closed, and the error its calls then get. */
  life: { readonly closed: boolean; closedError(): ClosedError }
  /** A location given as a replica's (see `withReadonlyHint`). */
  staticLocation: boolean
}

/**
 * `error`, what node-redis rejected a call of this server with, as the caller gets it: a closed
 * connection's `ClosedError`; a connection cachex reset, or that went away under the call, naming
 * the server and that a write may or may not have run; a pool's client that is down ("The client
 * is offline", unsent) as the server unreachable; else `toCachexError`'s, with the hints that say
 * what to configure (a cluster node given as this server, a replica at a static location).
 */
export function mapStandaloneError(error: unknown, wording: StandaloneWording): Error {
  const { where, secrets, life } = wording
  if (life.closed && (isClientClosed(error) || isDisconnected(error))) return life.closedError()
  // A pool cachex reset is destroyed whole: the commands in flight on it (a blocking one
  // included) get node-redis's ClientClosedError, though this connection stays open.
  const reason = wording.resetReason
  if ((isDisconnected(error) || isClientClosed(error)) && reason !== '') {
    return new ConnectionError(
      `the connection to ${where} was reset (${reason}) before this command's reply came; if it writes, it may or may not have been applied`,
      { cause: error },
    )
  }
  if (isDropped(error))
    return droppedError(where, toCachexError(error, secrets).message, error, secrets)
  if (isClientOffline(error)) {
    return markUnsent(
      new ConnectionError(
        `${where} is unreachable, not waiting (reconnecting in the background): the client is offline`,
        { cause: error },
      ),
    )
  }
  // A Redis Cluster node given as this server answers the keys of other nodes' slots with a
  // bare MOVED, and a replica at a static location refuses writes with a bare READONLY: the
  // message says what to configure.
  const typed = withClusterHint(toCachexError(error, secrets))
  return wording.staticLocation ? withReadonlyHint(typed, where) : typed
}
