// node-redis's errors, told apart by class and never by class name: a minified bundle (esbuild
// --minify, terser) renames node-redis's classes as well as cachex's.
import { CachexError } from '@cachex/core'
import {
  ClientClosedError,
  DisconnectsClientError,
  RootNodesUnavailableError,
  SocketClosedUnexpectedlyError,
} from '@redis/client'

/**
 * Whether `error` is node-redis's error of class `type`, whose message is always `text`: an
 * instance of the class, never told by its class name (a minified bundle renames node-redis's
 * classes as well as cachex's); or, for the client of a user's from another copy of
 * `@redis/client` (another version installed beside cachex's: classes of its own), node-redis's
 * fixed message, the one thing of it both copies share. Never a cachex error.
 */
function isNodeRedisError(error: unknown, type: new () => Error, text: string): boolean {
  if (error instanceof type) return true
  return error instanceof Error && error.message === text && !(error instanceof CachexError)
}

/** A node-redis client closed under cachex (closed by its owner, or dropped from a slot map). */
export function isClientClosed(error: unknown): boolean {
  return isNodeRedisError(error, ClientClosedError, 'The client is closed')
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
