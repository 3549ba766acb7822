import { CachexError, ClosedError, ConnectionError, ResponseError } from '@cachex/core'
import { ErrorReply } from '@redis/client'

/**
 * A node-redis error as a `CachexError`: error replies become `ResponseError`, everything else a
 * `ConnectionError`. `secrets` (passwords) are cut out of every message.
 */
export function toCachexError(error: unknown, secrets: readonly string[] = []): CachexError {
  if (error instanceof CachexError) return error
  const raw = error instanceof Error ? error.message : String(error)
  const message = redact(raw, secrets)
  if (error instanceof ErrorReply) return new ResponseError(message, { cause: error })
  const name = error instanceof Error ? error.constructor.name : ''
  if (name === 'ClientClosedError') {
    return new ClosedError('the connection is closed', { cause: error })
  }
  return new ConnectionError(message || name || 'connection error', { cause: error })
}

/** `text` with every secret replaced by `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) {
    if (secret !== '') out = out.split(secret).join('***')
  }
  return out
}

/**
 * A write refused at once, unsent, because the Sentinel service has no primary to take it right
 * now: the sentinels are failing over (from the first step they announce until the new primary is
 * announced with `+switch-master`). Retry in a moment, or set `sentinelOptions.waitForPrimary` to
 * have writes wait for the new primary within `socketTimeout`. Reads go on meanwhile. A
 * `ConnectionError`, so `ignoreExceptions` covers it.
 */
export class FailoverError extends ConnectionError {
  override readonly code: string = 'E_FAILOVER'
}
