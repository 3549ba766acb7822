import { InvalidArgumentError } from '@cachex/core'
import { RESP_TYPES } from '@redis/client'
import type { ReplyForm } from './_reply-form.ts'

export { type ReplyForm, replyForm } from './_reply-form.ts'

const FLAT = { [RESP_TYPES.MAP]: Array, [RESP_TYPES.SET]: Array }

/**
 * How cachex's commands run on node-redis: replies as raw bytes and flat arrays, whatever the
 * client's own type mapping; `timeout: 0` turns off node-redis's per-command AbortSignal timer
 * (`Deadlines` bounds every call instead, with one timer per connection).
 */
export const COMMAND_OPTIONS = {
  typeMapping: { ...FLAT, [RESP_TYPES.BLOB_STRING]: Buffer },
  timeout: 0,
}

/** The same, with bulk strings as UTF-8 text: for `text` routes (a cache whose codec reads text). */
export const TEXT_COMMAND_OPTIONS = { typeMapping: FLAT, timeout: 0 }

/**
 * The same as `COMMAND_OPTIONS`, with integer replies as their decimal digits (a string): for
 * `digits` routes. node-redis reads an integer reply digit by digit as `n * 10 + d`, which
 * rounds from about 2^53 - 64 on; read as a string, every digit is kept.
 */
export const DIGITS_COMMAND_OPTIONS = {
  typeMapping: { ...COMMAND_OPTIONS.typeMapping, [RESP_TYPES.NUMBER]: String },
  timeout: 0,
}

/**
 * `target` seen through its `withCommandOptions(options)`: the options are set once, not passed
 * with every call, which costs node-redis about half its throughput. `fallback()` where the
 * target has no such method.
 */
export function withOptions<T>(target: object, options: object, fallback: () => T): T {
  const method = (target as { withCommandOptions?: (options: object) => unknown })
    .withCommandOptions
  return typeof method === 'function' ? (method.call(target, options) as T) : fallback()
}

/**
 * A client, pool, cluster or sentinel seen through cachex's command options, every way, made
 * once: every topology sends through one, and the route's `text` and `digits` flags pick replies
 * as UTF-8 text or as bytes, integers as numbers or as digits. `fallback(options)` builds the
 * sender where the target has no `withCommandOptions` (it then passes `options` with every call).
 */
export class Sender<S> {
  readonly #bytes: S
  readonly #text: S
  readonly #digits: S

  constructor(target: object, fallback: (options: object) => S) {
    this.#bytes = withOptions(target, COMMAND_OPTIONS, () => fallback(COMMAND_OPTIONS))
    this.#text = withOptions(target, TEXT_COMMAND_OPTIONS, () => fallback(TEXT_COMMAND_OPTIONS))
    this.#digits = withOptions(target, DIGITS_COMMAND_OPTIONS, () =>
      fallback(DIGITS_COMMAND_OPTIONS),
    )
  }

  /**
   * The target replying as `form` says (see `ReplyForm`): bulk strings as text (`true`, a `text`
   * route) or as bytes (`false`); integers as digits (`'digits'`, a `digits` route).
   */
  as(form: ReplyForm): S {
    if (form === false) return this.#bytes
    return form === true ? this.#text : this.#digits
  }
}

/** The credentials node-redis takes in its client options. */
export interface Credentials {
  username?: string
  password?: string
}

/**
 * Throws `InvalidArgumentError` unless `password` and `username` of `given` (options, or a
 * `clientOptions` object; `prefix` names it, such as `'clientOptions.'`) are each a string, unset
 * or `null` (none, as a JSON config's `"password": null`). node-redis sends what it is handed:
 * `password: 123456` from a JSON file would fail every connection as if the server were down. The
 * message names the type, never the value (it is a password).
 */
export function checkCredentials(given: unknown, prefix = ''): void {
  if (typeof given !== 'object' || given === null) return
  for (const name of ['password', 'username'] as const) {
    const value: unknown = (given as Credentials)[name]
    if (value === undefined || value === null || typeof value === 'string') continue
    throw new InvalidArgumentError(`${prefix}${name} must be a string, got ${typeOf(value)}`)
  }
}

/**
 * Throws `InvalidArgumentError` when a user name is given without a password (`where` says whose
 * credentials). node-redis (RESP3) authenticates only with a password: the name would be dropped,
 * and the connection would run as Redis's `default` user — with its rights, where the name was
 * meant to limit them (redis-py sends `AUTH name ""`, which a `nopass` user accepts). The message
 * never shows the name: in a URL it is often a password typed without its colon.
 */
export function checkUserHasPassword(username: unknown, password: unknown, where: string): void {
  if (typeof username !== 'string' || username === '') return
  if (typeof password === 'string' && password !== '') return
  throw new InvalidArgumentError(
    `${where}: a user name is given without a password, and node-redis sends no AUTH without one, so the connection would run as Redis's default user, not as that user. Give the user's password (redis://name:password@host, or the \`password\` option; a nopass user accepts any, e.g. redis://name:x@host); a password alone goes after a colon (redis://:password@host)`,
  )
}

/** What `value` is, by its type alone (`a number`, `a Buffer`, `an array`): never its value. */
function typeOf(value: unknown): string {
  if (Buffer.isBuffer(value)) return 'a Buffer'
  if (Array.isArray(value)) return 'an array'
  const type = typeof value
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`
}
