// Logging through the user's logger, which is user code (a transport that is down, a formatter
// that fails): a logger that throws has nowhere left to report to, and must not turn the call it
// reports on into a failure (an ignored error into a rejection, a kept value into an error).
import type { Logger } from './types.ts'

/**
 * `logger.error(message, ...details)`, or with `level: 'warn'` its `warn` (its `error` when it has
 * none); what the logger throws is dropped.
 */
export function safeLog(
  logger: Logger,
  level: 'error' | 'warn',
  message: string,
  ...details: unknown[]
): void {
  try {
    if (level === 'warn' && typeof logger.warn === 'function') logger.warn(message, ...details)
    else logger.error(message, ...details)
  } catch {
    // A logger that throws has nowhere left to report to.
  }
}
