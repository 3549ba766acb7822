// What a failed call's span and metrics say of its error: `error.type` and
// `db.response.status_code`, bounded (an application's error may carry any text).
import { ResponseError } from '@cachex/core'
import { bounded } from './_otel-bounds.ts'

/**
 * `error.type` (and the span's status message): a cachex error's code (`E_TIMEOUT`), else the
 * error's class name, else `_OTHER`; bounded, as an application's error may carry any text.
 */
export function errorTypeOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' && code.startsWith('E_')) return bounded(code)
    return error.name ? bounded(String(error.name)) : '_OTHER'
  }
  return '_OTHER'
}

/** `db.response.status_code`: the Redis error prefix (`WRONGTYPE`) of a reply error, if any. */
export function statusCodeOf(error: unknown): string | undefined {
  // Only an error reply has a status code: an application's error (a getOrSet factory's) may
  // begin with a capitalised word too.
  let current: unknown = error
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if (current instanceof ResponseError || isNodeRedisReply(current)) {
      const prefix = /^([A-Z][A-Z_]{1,31})\b/.exec(current.message)
      if (prefix !== null) return prefix[1]
    }
    current = current.cause
  }
  return undefined
}

/**
 * Whether `error` is node-redis's error reply (a `SimpleError` or `BlobError`, an `ErrorReply`),
 * from an application's own client. By class name: `@redis/client` is no dependency of this
 * package (so minified, such an error gets no status code; cachex's own are `ResponseError`s).
 */
function isNodeRedisReply(error: Error): boolean {
  for (let p = Object.getPrototypeOf(error) as object | null, i = 0; p && i < 4; i++) {
    const type: unknown = Object.hasOwn(p, 'constructor') ? p.constructor : undefined
    if (type === Error || (type as { name?: unknown } | undefined)?.name === 'ErrorReply')
      return type !== Error
    p = Object.getPrototypeOf(p) as object | null
  }
  return false
}
