// The error policy of a cache (`ignoreExceptions`, `logIgnoredExceptions`): an error a command
// met becomes typed, is reported to `error` listeners, and is either thrown or, when ignorable
// under `ignoreExceptions`, answered with the method's fallback and logged at most once a minute
// per kind. `CacheContext.fail` (_context.ts) hands every error here.
import type { CacheEvents } from './_events.ts'
import { safeLog } from './_safe-log.ts'
import { thrownText } from './_thrown.ts'
import { CachexError, ConnectionError, isIgnorable } from './errors.ts'
import type { Logger } from './types.ts'

const LOG_EVERY_MS = 60_000

/** What a cache does with an error: `fail`. One per cache. */
export class ErrorPolicy {
  readonly #ignoreExceptions: boolean
  readonly #logIgnored: boolean
  readonly #logger: Logger
  readonly #events: CacheEvents
  /**
   * When each kind of ignored error was last logged (`performance.now()`: a minute is elapsed
   * time, which a step of the system clock must not stretch).
   */
  readonly #loggedAt = new Map<string, number>()

  /** `ignoreExceptions` and `logIgnored` checked already; `events` and `logger` the cache's. */
  constructor(ignoreExceptions: boolean, logIgnored: boolean, logger: Logger, events: CacheEvents) {
    this.#ignoreExceptions = ignoreExceptions
    this.#logIgnored = logIgnored
    this.#logger = logger
    this.#events = events
  }

  /**
   * The error policy: ignorable errors become `fallback` under `ignoreExceptions`; others surface
   * typed. `operation`: the method's name, for the `error` event.
   */
  fail<F>(error: unknown, fallback: F, operation: string): F {
    const typed = toCachexError(error)
    const ignored = this.#ignoreExceptions && isIgnorable(typed)
    if (this.#events.errors) this.#events.emit('error', { operation, error: typed, ignored })
    if (ignored) {
      if (this.#logIgnored) this.#logOnce(typed)
      return fallback
    }
    throw typed
  }

  /**
   * Logs an ignored error, once per error kind (`code`) per minute: an outage fails every call,
   * and one line per call would flood the log.
   */
  #logOnce(error: CachexError): void {
    const now = performance.now()
    const last = this.#loggedAt.get(error.code)
    if (last !== undefined && now - last < LOG_EVERY_MS) return
    this.#loggedAt.set(error.code, now)
    // A logger that throws must not turn the ignored error into a rejection.
    safeLog(
      this.#logger,
      'error',
      `cachex: ignored ${error.name} (${error.code}): ${error.message} — further ${error.code} errors are not logged for ${LOG_EVERY_MS / 1000} s`,
    )
  }
}

/** Any error as a `CachexError`: a foreign one (from a custom connection) becomes a `ConnectionError`. */
function toCachexError(error: unknown): CachexError {
  if (error instanceof CachexError) return error
  const message = thrownText(error)
  return new ConnectionError(message, { cause: error })
}
