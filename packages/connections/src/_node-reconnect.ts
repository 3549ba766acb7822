// How a cluster node's client is connected again: a node out of reach is tried again at once,
// then up to every 2 s; a handshake the node refuses (a wrong password, `READONLY` renamed away on
// a replica) ends the client, and cachex tries the node again itself, 10 s to 5 minutes later
// (`NodeWatch`): node-redis would wait for its next try on a timer that closing the client does not
// cancel, which kept the process alive that long after the cache was closed.
import { SocketTimeoutError } from '@redis/client'
import { isRefusedHandshake, reconnectDelay } from './_retry.ts'

/**
 * node-redis's `socket.reconnectStrategy`: milliseconds before try `retries` after `cause`;
 * `false` to give up.
 */
export type ReconnectStrategy = (retries: number, cause: unknown) => number | false

/**
 * A `reconnectStrategy` for one node client: `reconnectDelay` (100 ms doubling to 2 s) after a
 * failure to reach the node. Gives up (`false`: node-redis closes the client) on a handshake the
 * node refused (`isRefusedHandshake`: `WRONGPASS`, `NOPERM`, a handshake's command renamed or
 * disabled there, such as a replica's `READONLY`): the node is then held down and tried again by
 * cachex, with a new client, `refusedRetryDelay` apart (10 s doubling to 5 minutes), on timers
 * `close()` clears — a wait of node-redis's own would hold the process open after `close()`. Gives
 * up too where node-redis's own strategy did, on a socket idle past the user's
 * `socket.socketTimeout` (node-redis makes the node a new client on its next use).
 */
export function nodeReconnectStrategy(): ReconnectStrategy {
  return (retries, cause) => {
    if (cause instanceof SocketTimeoutError || isRefusedHandshake(cause)) return false
    return reconnectDelay(retries)
  }
}

/**
 * The socket options of a cluster's node clients (node-redis `defaults.socket`), with a
 * `reconnectStrategy` of their own for each client (`nodeReconnectStrategy`) unless the user gave
 * one (in `clientOptions.socket`: kept). node-redis, as cachex, copies `defaults.socket` for each
 * node client it makes (`{ ...defaults.socket, host, port }`): the strategy is a getter, read at
 * that copy, each client's its own.
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
