// The bounds of the texts `@cachex/redis/otel` puts on spans: a key may be megabytes (Redis takes
// 512 MB), and an error's message names its key, so each would hold and export it whole.
import { bounded, QUOTED_LENGTH } from '@cachex/core/internal'
import type { Attributes } from '@opentelemetry/api'

// The bound of @cachex/core's error messages on the keys they quote: a span holds a key as its
// messages do.
export { bounded }

/**
 * The characters a span's text attribute carries at most before its `…`: `cachex.key`,
 * `error.type` (and the status message), `exception.type` and `exception.message`.
 */
export const ATTRIBUTE_LENGTH = QUOTED_LENGTH

/**
 * The characters `exception.stacktrace` carries at most before its `…`: its header (the message)
 * bounded as `exception.message` is, then as many of its frames as fit.
 */
export const STACKTRACE_LENGTH = 4 * ATTRIBUTE_LENGTH

/**
 * The attributes of the `exception` event of a failed call's span: those the SDK's
 * `span.recordException(error)` sets (`exception.type`: the error's `code`, else its `name`;
 * `exception.message`; `exception.stacktrace`), without user names (see `withoutUserNames`),
 * bounded. `undefined` when it has neither type nor message (the SDK records no event then
 * either). The error itself is left as it is.
 */
export function exceptionAttributes(error: Error): Attributes | undefined {
  const attributes: Attributes = {}
  const code = (error as { code?: unknown }).code
  if (code) attributes['exception.type'] = bounded(withoutUserNames(String(code)))
  else if (error.name) attributes['exception.type'] = bounded(withoutUserNames(String(error.name)))
  const message = typeof error.message === 'string' ? withoutUserNames(error.message) : ''
  if (message !== '') attributes['exception.message'] = bounded(message)
  const stack = error.stack
  if (typeof stack === 'string' && stack !== '') {
    attributes['exception.stacktrace'] = boundedStack(withoutUserNames(stack), message)
  }
  return code || error.name || message !== '' ? attributes : undefined
}

/**
 * `text` without the Redis user names an error's message shows: the user of a URL as
 * `redactUrl` writes it in messages (`redis://alice:***@host`, the password already hidden,
 * becomes `redis://***@host`, as a URL with no password is shown), and the user an ACL refusal
 * names (Redis 7.2+: `NOPERM User alice has no permissions…` becomes `User ***`). Linear in the
 * text: both patterns are anchored on a literal and scan runs that cannot overlap.
 */
export function withoutUserNames(text: string): string {
  let out = text
  // The userinfo runs from the scheme's `:` and slashes to the first `:` after them (a user
  // name holds no raw `:`), which `redactUrl` follows with `***@`.
  if (out.includes(':***@')) out = out.replace(URL_USER, ':$1***@')
  if (out.includes('User ')) out = out.replace(ACL_USER, 'User *** has no permissions')
  return out
}

/**
 * A URL's user before its hidden password: `:`, the slashes, then the user name (no `:`; its
 * first character no `/`, so that the slashes are not scanned twice), then `:***@`.
 */
const URL_USER = /:(\/*)(?:[^:/][^:]*)?:\*\*\*@/g

/** The user an ACL refusal names (ACL user names hold no space). */
const ACL_USER = /\bUser \S+ has no permissions/g

/**
 * A stack as `exception.stacktrace` carries it: the message in its header bounded as
 * `exception.message` is (a key of megabytes must not leave no room for the frames), then the
 * whole bounded to `STACKTRACE_LENGTH`.
 */
function boundedStack(stack: string, message: string): string {
  let text = stack
  if (message.length > ATTRIBUTE_LENGTH) {
    const at = text.indexOf(message)
    if (at !== -1) {
      text = `${text.slice(0, at)}${bounded(message)}${text.slice(at + message.length)}`
    }
  }
  return bounded(text, STACKTRACE_LENGTH)
}
