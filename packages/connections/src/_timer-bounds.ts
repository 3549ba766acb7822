// The durations of the node-redis options cachex passes on as given (`clientOptions`,
// `connectionPool`…) that become a timer: Node.js fires a timer of more than 2^31 - 1 ms (about
// 24.8 days), or of a negative or non-number delay, after 1 ms instead (TimeoutOverflowWarning).
// A `pingInterval` of 30 days then PINGs every millisecond, a `reconnectStrategy` of 30 days
// reconnects to a dead server every millisecond, an `acquireTimeout` of 30 days rejects a call
// waiting for the pool at once. Such values are refused when the connection is made, naming the
// option; cachex's own durations are bounded where they are read (`secondsToMs`,
// `sentinelOptions.scanInterval`, `memoryOptions.sweepInterval`).
import { InvalidArgumentError } from '@cachex/core'
import { MAX_TIMER_MS } from '@cachex/core/internal'

/**
 * Throws `InvalidArgumentError` unless `value` is `undefined` or a number of milliseconds from 0
 * to 2^31 - 1 (`name` names the option in the message).
 */
export function checkTimerMs(value: unknown, name: string): void {
  if (value === undefined) return
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new InvalidArgumentError(
      `${name} must be a number of milliseconds, 0 to ${MAX_TIMER_MS}, got ${shown(value)}`,
    )
  }
  if (value > MAX_TIMER_MS) {
    throw new InvalidArgumentError(
      `${name} must be at most ${MAX_TIMER_MS} ms (about 24.8 days, the longest timer of Node.js, which fires a longer one after 1 ms), got ${value}`,
    )
  }
}

/**
 * Checks the timer options of node-redis client options `given` (`prefix` names them, such as
 * `'clientOptions.'`): `pingInterval`, `commandOptions.timeout` (node-redis arms it for its own
 * commands, the keep-alive PINGs included: past the bound each was aborted at once), and of its
 * `socket` `connectTimeout`, `socketTimeout` and a `reconnectStrategy` given as a number (`false`
 * and a function pass).
 */
export function checkClientTimers(given: unknown, prefix: string): void {
  if (typeof given !== 'object' || given === null) return
  checkTimerMs((given as { pingInterval?: unknown }).pingInterval, `${prefix}pingInterval`)
  const command = (given as { commandOptions?: unknown }).commandOptions
  if (typeof command === 'object' && command !== null) {
    checkTimerMs((command as { timeout?: unknown }).timeout, `${prefix}commandOptions.timeout`)
  }
  checkSocketTimers((given as { socket?: unknown }).socket, `${prefix}socket.`)
}

/**
 * Checks the timer options of node-redis socket options `given` (`prefix` names them, such as
 * `'sentinelOptions.socket.'`): `connectTimeout`, `socketTimeout`, and a `reconnectStrategy`,
 * which must be `false`, a function or a number of milliseconds in range.
 */
export function checkSocketTimers(given: unknown, prefix: string): void {
  if (typeof given !== 'object' || given === null) return
  const socket = given as Record<string, unknown>
  checkTimerMs(socket.connectTimeout, `${prefix}connectTimeout`)
  checkTimerMs(socket.socketTimeout, `${prefix}socketTimeout`)
  const strategy = socket.reconnectStrategy
  if (strategy === undefined || strategy === false || typeof strategy === 'function') return
  if (typeof strategy !== 'number') {
    throw new InvalidArgumentError(
      `${prefix}reconnectStrategy must be false, a function or a number of milliseconds, got ${shown(strategy)}`,
    )
  }
  checkTimerMs(strategy, `${prefix}reconnectStrategy`)
}

/** Checks `acquireTimeout` and `cleanupDelay` of node-redis pool options `given` (`connectionPool`). */
export function checkPoolTimers(given: unknown, name = 'connectionPool'): void {
  if (typeof given !== 'object' || given === null) return
  const pool = given as Record<string, unknown>
  checkTimerMs(pool.acquireTimeout, `${name}.acquireTimeout`)
  checkTimerMs(pool.cleanupDelay, `${name}.cleanupDelay`)
}

/** A value for a message: a number as it is, anything else by its type (never a secret's value). */
function shown(value: unknown): string {
  if (typeof value === 'number') return String(value)
  if (value === null) return 'null'
  return `a ${typeof value}`.replace(/^a ([aeiou])/, 'an $1')
}
