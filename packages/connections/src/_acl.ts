// What a connection does when it may not run a command it needs for a feature of its own (a
// replica's health check, the local tier's tracking) — the ACL user lacks it, or the server has it
// renamed or disabled: it turns the feature off, and says so once.

/**
 * A command the server refuses for good: the ACL user may not run it (`NOPERM this user has no
 * permissions to run the 'info' command`), or the server does not know it — renamed or disabled
 * (`rename-command INFO ""`, as managed services do) or too old for it (`ERR unknown command
 * 'INFO', with args beginning with: …`, `ERR unknown subcommand 'TRACKING'. Try CLIENT HELP.`).
 * Waiting does not change either: an operator must change the server's configuration.
 */
export interface CommandRefusal {
  /** The command, lowercased, a subcommand after a `|` (`info`, `client|tracking`, `select`). */
  readonly command: string
  /** Refused as unknown (renamed, disabled, or too new for the server), not by the ACL. */
  readonly unknown: boolean
}

/**
 * The command `error` says the server refuses for good (see `CommandRefusal`); `undefined` for
 * any other error. The refusal may be the error itself or, for a handshake, its `cause`.
 */
export function commandRefusal(error: unknown): CommandRefusal | undefined {
  /** A container without its subcommand (arguments cut: `redact`): a cause may name it. */
  let bare: CommandRefusal | undefined
  for (let e = error, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    const message = e.message
    const acl = /^NOPERM\b.*'([^']+)' command/i.exec(message)?.[1]
    if (acl !== undefined) return { command: acl.toLowerCase(), unknown: false }
    const unknown = UNKNOWN_COMMAND.exec(message)
    if (unknown !== null) {
      const name = (unknown[1] as string).toLowerCase()
      const first = unknown[2]?.toLowerCase()
      if (!CONTAINERS.has(name)) return { command: name, unknown: true }
      // A container's subcommand, as the ACL names it: `CLIENT TRACKING` is `client|tracking`.
      if (first) return { command: `${name}|${first}`, unknown: true }
      bare ??= { command: name, unknown: true }
      continue
    }
    const sub = UNKNOWN_SUBCOMMAND.exec(message)
    if (sub !== null) {
      const command = `${(sub[2] as string).toLowerCase()}|${(sub[1] as string).toLowerCase()}`
      return { command, unknown: true }
    }
  }
  return bare
}

/**
 * Why `refusal` stands, in words, after the command's name: "is refused by the ACL user's
 * permissions (NOPERM)", "is renamed or disabled on the server (ERR unknown command)".
 */
export function refusalWords(refusal: CommandRefusal): string {
  return refusal.unknown
    ? 'is renamed or disabled on the server (ERR unknown command)'
    : "is refused by the Redis user's ACL permissions (NOPERM)"
}

/**
 * What to do about `refusal` so that the command runs: grant it (`grant`, the ACL rule) or give
 * it back its name on the server.
 */
export function refusalRemedy(refusal: CommandRefusal, grant: string): string {
  return refusal.unknown
    ? 'Enable the command on the server (its rename-command setting; a managed service may not allow it)'
    : `Grant the command ('${grant}')`
}

/**
 * Redis's reply to a command it does not know: `ERR unknown command 'INFO', with args beginning
 * with: 'replication' ` (Redis 7; 6.x quotes with backquotes). The name, and the first argument.
 */
const UNKNOWN_COMMAND =
  /^ERR unknown command [`']([^`']+)[`'](?:, with args beginning with: [`']([^`']*)[`'])?/i
/** Redis's reply to a subcommand it does not know: `ERR unknown subcommand 'X'. Try CLIENT HELP.` */
const UNKNOWN_SUBCOMMAND = /^ERR unknown subcommand [`']([^`']+)[`']\. Try (\S+) HELP/i
/** The commands the ACL names by their subcommands (`client|tracking`), that cachex sends. */
const CONTAINERS: ReadonlySet<string> = new Set([
  'acl',
  'client',
  'cluster',
  'command',
  'config',
  'function',
  'memory',
  'object',
  'script',
  'slowlog',
  'xinfo',
])

/** Reports one warning about the connection's configuration (see `warner`). */
export type Warn = (message: string) => void

/**
 * A `Warn` through Node's `process.emitWarning` (printed on stderr unless Node runs with
 * `--no-warnings`; a `process.on('warning')` listener receives it, with the code `CACHEX_ACL`).
 * No user code runs in it, so a warning said from a socket's event never throws.
 */
export function warner(): Warn {
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
