// node-redis's errors, told apart by class and never by class name: a minified bundle (esbuild
// --minify, terser) renames node-redis's classes as well as cachex's.
import { CachexError } from '@cachex/core'
import {
  ClientClosedError,
  ClientOfflineError,
  DisconnectsClientError,
  ErrorReply,
  RootNodesUnavailableError,
  SocketClosedUnexpectedlyError,
} from '@redis/client'

/**
 * Whether `error` is node-redis's error of class `type`, whose message is always `text`: an
 * instance of the class, never told by its class name (a minified bundle renames node-redis's
 * classes as well as cachex's); or, for the client of a user's from another copy of
 * `@redis/client` (another version installed beside cachex's: classes of its own), node-redis's
 * fixed message, the one thing of it both copies share, on an error whose class extends `Error`
 * itself, as each of these does. Never a cachex error, and never a server's error reply (an
 * `ErrorReply`, whose class extends `ErrorReply` in every copy): a script may reply with any
 * text, after it ran.
 */
function isNodeRedisError(error: unknown, type: new () => Error, text: string): boolean {
  if (error instanceof type) return true
  return (
    error instanceof Error &&
    error.message === text &&
    !(error instanceof CachexError) &&
    !(error instanceof ErrorReply) &&
    Object.getPrototypeOf(Object.getPrototypeOf(error)) === Error.prototype
  )
}

/** A node-redis client closed under cachex (closed by its owner, or dropped from a slot map). */
export function isClientClosed(error: unknown): boolean {
  return isNodeRedisError(error, ClientClosedError, 'The client is closed')
}

/** node-redis's error for a call on a client that is down and queues nothing: not sent. */
export function isClientOffline(error: unknown): boolean {
  return isNodeRedisError(error, ClientOfflineError, 'The client is offline')
}

/** node-redis's error for the commands of a client that was destroyed. */
export function isDisconnected(error: unknown): boolean {
  return isNodeRedisError(error, DisconnectsClientError, 'Disconnects client')
}

/** node-redis's error for the commands in flight on a socket the server closed. */
export function isSocketClosed(error: unknown): boolean {
  return isNodeRedisError(error, SocketClosedUnexpectedlyError, 'Socket closed unexpectedly')
}

/** node-redis's error for a cluster none of whose seeds answered (why is in its last `error` event). */
export function isRootNodesUnavailable(error: unknown): boolean {
  return isNodeRedisError(error, RootNodesUnavailableError, 'All the root nodes are unavailable')
}

/**
 * Whether `error`, as node-redis rejects a command with it, is the connection to a node going
 * away with the command written or about to be: node-redis destroyed the node's client (it left
 * the slot map: `DisconnectsClientError`), or the node reset or closed the connection
 * (`ECONNRESET`, `EPIPE`, `ECONNABORTED`, `ETIMEDOUT`, `SocketClosedUnexpectedlyError`). Not a
 * client closed before the command was sent (`ClientClosedError`: sent again through the map),
 * nor an error cachex already typed.
 */
export function isDropped(error: unknown): error is Error {
  if (!(error instanceof Error) || error instanceof CachexError) return false
  if (isDisconnected(error) || isSocketClosed(error)) {
    return true
  }
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && DROPPED_CODES.has(code)
}

/** The `code`s of a socket that went away under the commands in flight on it. */
const DROPPED_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ETIMEDOUT',
])
