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
 * `exception.message`; `exception.stacktrace`), bounded. `undefined` when it has neither type
 * nor message (the SDK records no event then either).
 */
export function exceptionAttributes(error: Error): Attributes | undefined {
  const attributes: Attributes = {}
  const code = (error as { code?: unknown }).code
  if (code) attributes['exception.type'] = bounded(String(code))
  else if (error.name) attributes['exception.type'] = bounded(String(error.name))
  const message = typeof error.message === 'string' ? error.message : ''
  if (message !== '') attributes['exception.message'] = bounded(message)
  const stack = error.stack
  if (typeof stack === 'string' && stack !== '') {
    attributes['exception.stacktrace'] = boundedStack(stack, message)
  }
  return code || error.name || message !== '' ? attributes : undefined
}

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
