// django-cachex's key and server helpers: a key's type, renames (prefix and version applied to
// both keys), `INFO`, the slow log, and `clearAllVersions`.
import { checkItersize, checkOptions, describeGiven, moveVersions } from '../_args.ts'
import { bounded } from '../_bounded.ts'
import { contextOf, type Implementation } from '../_context.ts'
import { own, setOwn } from '../_own.ts'
import { integerReply, isOne, toArray, toText } from '../_replies.ts'
import type { MoveOptions, VersionOption } from '../cache-options.ts'
import { InvalidArgumentError, KeyNotFoundError } from '../errors.ts'

/** What `type()` resolves: the Redis type of a key, or `null` when there is no such key. */
export type KeyType = 'string' | 'list' | 'set' | 'zset' | 'hash' | 'stream'

/** Options of `rename()` and `renamenx()`: `MoveOptions`, a version for each key. */
export type RenameOptions = MoveOptions

/** One entry of the slow log (`SLOWLOG GET`). */
export interface SlowlogEntry {
  id: number
  /** When the command ran, in Unix seconds. */
  startTime: number
  /** How long it ran, in microseconds. */
  duration: number
  /** The command and its arguments (Redis shortens long ones). */
  command: string[]
  /** The client's `ip:port` (Redis 4+), or `''`. */
  clientAddress: string
  /** The client's name (`CLIENT SETNAME`), or `''`. */
  clientName: string
}

/** django-cachex's key and server helpers. */
export interface KeyHelperCommands {
  /** The Redis type of the value at `key` (`'string'`, `'hash'`…), or `null` when there is none. */
  type(key: string, options?: VersionOption): Promise<KeyType | null>
  /**
   * Renames `source` to `destination` (replacing it), atomically, TTL and all; resolves `true`.
   * Rejects with `KeyNotFoundError` when `source` does not exist. On a cluster both keys must be
   * in one slot (a hash tag), or the call rejects with `CrossSlotError`.
   */
  rename(source: string, destination: string, options?: RenameOptions): Promise<boolean>
  /** `rename` only when `destination` does not exist; resolves whether it renamed. */
  renamenx(source: string, destination: string, options?: RenameOptions): Promise<boolean>
  /**
   * The server's `INFO` (of `section` only, if given) as an object: `{ redis_version: '7.0.15',
   * connected_clients: 3, db0: { keys: 10, expires: 0, avg_ttl: 0 } … }`, numbers as numbers.
   * On a cluster, the answer of the one node the command went to.
   */
  info(section?: string): Promise<Record<string, unknown>>
  /** The last `count` entries of the slow log, newest first. */
  slowlogGet(count?: number): Promise<SlowlogEntry[]>
  /** How many entries the slow log holds. */
  slowlogLen(): Promise<number>
  /** Empties the slow log; resolves `true`. */
  slowlogReset(): Promise<boolean>
  /**
   * Deletes every key of this cache's prefix in **every** version (the key function applied to
   * `*` and version `*`, walked with `SCAN`); resolves how many were deleted. django-cachex's
   * `clear_all_versions`. Without a prefix it deletes only keys the key function could have made
   * (`*:*` with the default one), where `clear()` flushes the database. A custom `keyFunction`
   * is called with the version `'*'`.
   */
  clearAllVersions(options?: { itersize?: number }): Promise<number>
}

const KEY_TYPES = new Set<string>(['string', 'list', 'set', 'zset', 'hash', 'stream'])

/** The helpers, attached to `Cache`. */
export const keyHelperCommands = {
  type(key: string, options?: VersionOption) {
    return contextOf(this).run<KeyType | null>(key, options, {
      method: 'type',
      access: 'read',
      build: (rkey) => ['TYPE', rkey],
      convert: (reply) => {
        const type = toText(reply)
        return KEY_TYPES.has(type) ? (type as KeyType) : null
      },
      fallback: null,
    })
  },

  rename(source: string, destination: string, options?: RenameOptions) {
    return rename(this, 'RENAME', source, destination, options)
  },

  renamenx(source: string, destination: string, options?: RenameOptions) {
    return rename(this, 'RENAMENX', source, destination, options)
  },

  async info(section?: string) {
    const context = contextOf(this)
    try {
      if (section !== undefined && (typeof section !== 'string' || section === '')) {
        throw new InvalidArgumentError('info() takes a section name, such as "memory"')
      }
      const args = section === undefined ? ['INFO'] : ['INFO', section]
      return parseInfo(toText(await context.connection.command(args, { text: true })))
    } catch (error) {
      return context.fail(error, {}, 'info')
    }
  },

  async slowlogGet(count = 10) {
    const context = contextOf(this)
    try {
      if (!Number.isSafeInteger(count) || count < 0) {
        throw new InvalidArgumentError(
          `slowlogGet() takes a count of entries (0 or more), got ${describeGiven(count)}`,
        )
      }
      const reply = await context.connection.command(['SLOWLOG', 'GET', String(count)], {
        text: true,
      })
      return toArray(reply).map(slowlogEntry)
    } catch (error) {
      return context.fail(error, [], 'slowlogGet')
    }
  },

  async slowlogLen() {
    const context = contextOf(this)
    try {
      return integerReply(await context.connection.command(['SLOWLOG', 'LEN']))
    } catch (error) {
      return context.fail(error, 0, 'slowlogLen')
    }
  },

  async slowlogReset() {
    const context = contextOf(this)
    try {
      await context.connection.command(['SLOWLOG', 'RESET'])
      return true
    } catch (error) {
      return context.fail(error, false, 'slowlogReset')
    }
  },

  async clearAllVersions(options: { itersize?: number } = {}) {
    const context = contextOf(this)
    try {
      checkOptions(options, 'clearAllVersions', ['itersize'])
      const itersize = checkItersize(own(options, 'itersize') ?? context.itersize)
      // The key function with the version `*`: a custom one receives that string as its version.
      const pattern = context.makePattern('*', '*' as unknown as number)
      return await context.store.deleteMatching(pattern, itersize)
    } catch (error) {
      return context.fail(error, 0, 'clearAllVersions')
    }
  },
} satisfies Implementation<KeyHelperCommands>

async function rename(
  cache: object,
  command: 'RENAME' | 'RENAMENX',
  source: string,
  destination: string,
  options?: RenameOptions,
): Promise<boolean> {
  const context = contextOf(cache)
  const method = command.toLowerCase()
  try {
    const [fromVersion, toVersion] = moveVersions(options, method)
    const from = context.key(source, fromVersion)
    const to = context.key(destination, toVersion)
    const reply = await context.store.writing(
      [to],
      () => context.connection.command([command, from, to], { key: from }),
      [from],
    )
    return command === 'RENAME' || isOne(reply)
  } catch (error) {
    // A missing source is the caller's to know, as Django's ValueError: never ignored.
    if (error instanceof Error && /\bno such key\b/i.test(error.message)) {
      throw new KeyNotFoundError(`${method}(): the key '${bounded(source)}' does not exist`, {
        cause: error,
      })
    }
    return context.fail(error, false, method)
  }
}

/** `INFO`'s `name:value` lines as an object; `a=1,b=2` values as objects; numbers as numbers. */
export function parseInfo(text: string): Record<string, unknown> {
  const info: Record<string, unknown> = {}
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon)
    const value = line.slice(colon + 1)
    const parts = value.split(',')
    if (parts.length > 0 && parts.every((part) => /^[^=]+=/.test(part))) {
      const fields: Record<string, unknown> = {}
      for (const part of parts) {
        const equals = part.indexOf('=')
        setOwn(fields, part.slice(0, equals), infoValue(part.slice(equals + 1)))
      }
      setOwn(info, name, fields)
    } else {
      setOwn(info, name, infoValue(value))
    }
  }
  return info
}

/** A number when the text is one (`'3'`, `'0.52'`), else the text. */
function infoValue(text: string): string | number {
  return /^-?\d+(\.\d+)?$/.test(text) && text.length < 16 ? Number(text) : text
}

function slowlogEntry(reply: unknown): SlowlogEntry {
  const [id, startTime, duration, command, clientAddress, clientName] = toArray(reply)
  return {
    id: integerReply(id),
    startTime: integerReply(startTime),
    duration: integerReply(duration),
    command: toArray(command).map(toText),
    clientAddress: clientAddress === undefined ? '' : toText(clientAddress),
    clientName: clientName === undefined ? '' : toText(clientName),
  }
}
