import type { Logger } from '@cachex/core'

// What a connection does when the ACL user lacks a command it needs for a feature of its own (a
// replica's health check, the local tier's tracking): it turns the feature off, and says so once.

/**
 * The command an ACL refusal names (`NOPERM this user has no permissions to run the 'info'
 * command`), lowercased: `info`, `client|tracking`; `undefined` for any other error. The refusal
 * may be the error itself or, for a handshake, its `cause`.
 */
export function refusedCommand(error: unknown): string | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    const command = /^NOPERM\b.*'([^']+)' command/i.exec(e.message)?.[1]
    if (command !== undefined) return command.toLowerCase()
  }
  return undefined
}

/** Reports one warning about the connection's configuration (see `warner`). */
export type Warn = (message: string) => void

/**
 * A `Warn` through `logger` (its `warn`, else `error`), or, without one, through Node's
 * `process.emitWarning` (printed on stderr unless Node runs with `--no-warnings`; a
 * `process.on('warning')` listener receives it, with the code `CACHEX_ACL`).
 */
export function warner(logger?: Logger): Warn {
  if (logger !== undefined) {
    return (message) => {
      if (typeof logger.warn === 'function') logger.warn(message)
      else logger.error(message)
    }
  }
  return (message) => process.emitWarning(message, { type: 'CachexWarning', code: 'CACHEX_ACL' })
}

/**
 * Set by a tracking group on the listeners it hands its members: the object their warnings are
 * said once for (the group), where each member's own listener would say it once per node.
 */
export const WARN_ONCE_FOR: unique symbol = Symbol('cachex.warnOnceFor')

const warnedFor = new WeakSet<object>()

/** Calls `warn(message)` unless a warning was said for `key` already. */
export function warnOnce(key: object, warn: Warn, message: string): void {
  if (warnedFor.has(key)) return
  warnedFor.add(key)
  warn(message)
}
