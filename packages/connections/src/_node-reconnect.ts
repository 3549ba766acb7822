// How a cluster node's client is connected again: a handshake the node refuses (a wrong password,
// `READONLY` renamed away on a replica) is backed off as on one server, 10 s to 5 minutes, not
// tried again every 2 s by every node client for ever.
import { SocketTimeoutError } from '@redis/client'
import { isRefusedHandshake, reconnectDelay, refusedRetryDelay } from './_retry.ts'

/**
 * node-redis's `socket.reconnectStrategy`: milliseconds before try `retries` after `cause`;
 * `false` to give up.
 */
export type ReconnectStrategy = (retries: number, cause: unknown) => number | false

/**
 * A `reconnectStrategy` for one node client: `reconnectDelay` (100 ms doubling to 2 s) after a
 * failure to reach the node, `refusedRetryDelay` (10 s doubling to 5 minutes) after a handshake
 * it refused (`isRefusedHandshake`: `WRONGPASS`, `NOPERM`, a handshake's command renamed or
 * disabled there, such as a replica's `READONLY`), counted from the first refusal in a row. Gives
 * up only where node-redis's own strategy did, on a socket idle past the user's
 * `socket.socketTimeout` (node-redis makes the node a new client on its next use).
 */
export function nodeReconnectStrategy(): ReconnectStrategy {
  /** `retries` at the first refusal of those in a row; -1: the last failure was no refusal. */
  let refusedFrom = -1
  let last = -1
  return (retries, cause) => {
    // node-redis counts a connection's tries from 0 again once it was up.
    const inRow = retries === last + 1
    last = retries
    if (cause instanceof SocketTimeoutError) return false
    if (!isRefusedHandshake(cause)) {
      refusedFrom = -1
      return reconnectDelay(retries)
    }
    if (refusedFrom < 0 || !inRow) refusedFrom = retries
    return refusedRetryDelay(retries - refusedFrom)
  }
}

/**
 * The socket options of a cluster's node clients (node-redis `defaults.socket`), with a
 * `reconnectStrategy` of their own for each client (`nodeReconnectStrategy`) unless the user gave
 * one (in `clientOptions.socket`: kept). node-redis, as cachex, copies `defaults.socket` for each
 * node client it makes (`{ ...defaults.socket, host, port }`): the strategy is a getter, read at
 * that copy, so that each client counts its own refusals in a row.
 */
export function nodeSocketOptions<T extends object>(socket: T): T {
  if ((socket as { reconnectStrategy?: unknown }).reconnectStrategy !== undefined) return socket
  // A descriptor without a prototype: an inherited `value` (a polluted Object.prototype) would
  // make it invalid.
  return Object.defineProperty(socket, 'reconnectStrategy', {
    __proto__: null,
    get: nodeReconnectStrategy,
    enumerable: true,
    configurable: true,
  } as PropertyDescriptor)
}
