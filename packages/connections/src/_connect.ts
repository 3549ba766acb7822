import { ClosedError, ConnectionError, InvalidArgumentError, TimeoutError } from '@cachex/core'
import { Deadlines } from './_deadlines.ts'

/** What a node-redis client, cluster or sentinel offers for watching it connect. */
interface Emitter {
  on(event: string, listener: (...args: unknown[]) => void): unknown
  off?(event: string, listener: (...args: unknown[]) => void): unknown
}

/** One wait for a connection, as each topology describes it to `connectBounded`. */
export interface ConnectWait {
  /** The client, cluster or sentinel whose events are watched. */
  emitter: Emitter
  /** Where it connects to, for messages (passwords already redacted). */
  where: string
  /** `socketConnectTimeout`, in milliseconds. */
  timeoutMs: number
  /** The event that means "ready now" (`'ready'`, `'connect'`), if any. */
  readyEvent?: string
  /** An opening in progress (`client.connect()`), if this wait started one. */
  opening?: Promise<unknown>
  /** Whether an error event is a handshake refusal (wrong password…) that retrying cannot fix. */
  isFatal?: (error: unknown) => boolean
  /** The last error the client reported, for the timeout message. */
  lastError(): unknown
  /** Records an error of the opening, so later messages can name it. */
  setLastError(error: unknown): void
  /** The message of an error, passwords redacted. */
  describe(error: unknown): string
}

/**
 * Waits until the client is ready, at most `timeoutMs`: resolves on the ready event or when the
 * opening resolves; rejects with a `ConnectionError` when the opening fails or the server refuses
 * the handshake, and with a `TimeoutError` (naming the last error seen) when time runs out. One
 * timer per wait, never one per command.
 */
export function connectBounded(wait: ConnectWait): Promise<void> {
  const { emitter, where } = wait
  const failure = (error: unknown) =>
    new ConnectionError(`could not connect to ${where}: ${wait.describe(error)}`, { cause: error })
  return new Promise<void>((resolve, reject) => {
    let settled = false
    const finish = (error?: Error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (wait.readyEvent !== undefined) emitter.off?.(wait.readyEvent, onReady)
      emitter.off?.('error', onError)
      if (error === undefined) resolve()
      else reject(error)
    }
    const onReady = () => finish()
    // A refused handshake (AUTH, SELECT…): retrying will not help, so fail now instead of at the
    // end of socketConnectTimeout.
    const onError = (error: unknown) => {
      if (wait.isFatal?.(error)) finish(failure(error))
    }
    const timer = setTimeout(() => {
      const last = wait.lastError()
      finish(
        new TimeoutError(
          `could not connect to ${where} within ${wait.timeoutMs} ms (socketConnectTimeout)${last === undefined ? '' : `: ${wait.describe(last)}`}`,
          { cause: last },
        ),
      )
    }, wait.timeoutMs)
    timer.unref()
    if (wait.readyEvent !== undefined) emitter.on(wait.readyEvent, onReady)
    emitter.on('error', onError)
    wait.opening?.then(
      () => finish(),
      (error: unknown) => {
        wait.setLastError(error)
        finish(failure(error))
      },
    )
  })
}

/**
 * One attempt in flight at a time: callers that arrive while it runs share it, and the next call
 * after it settles starts a new one.
 */
export class SharedAttempt {
  #current: Promise<void> | undefined

  /** Whether an attempt is in flight. */
  get pending(): boolean {
    return this.#current !== undefined
  }

  /** The attempt in flight, or a new one from `start`. */
  run(start: () => Promise<void>): Promise<void> {
    if (this.#current !== undefined) return this.#current
    const attempt = start()
    this.#current = attempt
    const clear = () => {
      if (this.#current === attempt) this.#current = undefined
    }
    attempt.then(clear, clear)
    return attempt
  }
}

/**
 * Closes gracefully (pending replies are awaited) but never for longer than `graceMs`: a frozen
 * server cannot hang `close()`; past the grace, `destroy` drops the connection.
 */
export async function closeWithin(
  close: () => Promise<unknown>,
  destroy: () => void,
  graceMs: number,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs).unref()
  })
  const result = await Promise.race([close().catch(() => undefined), timedOut])
  clearTimeout(timer)
  if (result === 'timeout') destroy()
}

/** Walks `SCAN` on one node through `run`, yielding each reply's keys as one batch. */
export async function* scanNode(
  run: (args: string[]) => Promise<unknown>,
  pattern: string,
  count: number,
): AsyncGenerator<string[]> {
  let cursor = '0'
  do {
    const reply = (await run(['SCAN', cursor, 'MATCH', pattern, 'COUNT', String(count)])) as [
      Buffer,
      Buffer[],
    ]
    cursor = reply[0].toString()
    yield reply[1].map((key) => key.toString('utf8'))
  } while (cursor !== '0')
}

/** The error every call of a closed connection rejects with. */
export function closedError(where: string): ClosedError {
  return new ClosedError(`the connection to ${where} is closed`)
}

/** Seconds a call waits for a connection, unless `socketConnectTimeout` says otherwise. */
export const DEFAULT_CONNECT_TIMEOUT = 5
/** Seconds a call waits for its reply, unless `socketTimeout` says otherwise. */
export const DEFAULT_SOCKET_TIMEOUT = 5

/** A positive number of seconds (or `fallback`) in whole milliseconds, at least 1. */
export function seconds(value: number | undefined, fallback: number, what: string): number {
  const s = value ?? fallback
  if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) {
    throw new InvalidArgumentError(`${what} must be a positive number of seconds`)
  }
  return Math.max(1, Math.round(s * 1000))
}

/**
 * The bounds every call of a connection gets: how long to wait for a connection, and the
 * `Deadlines` that bound each reply (none when `socketTimeout` is `null`).
 */
export function callBounds(options: {
  socketConnectTimeout?: number
  socketTimeout?: number | null
}): { connectTimeoutMs: number; deadlines: Deadlines | undefined } {
  return {
    connectTimeoutMs: seconds(
      options.socketConnectTimeout,
      DEFAULT_CONNECT_TIMEOUT,
      'socketConnectTimeout',
    ),
    deadlines:
      options.socketTimeout === null
        ? undefined
        : new Deadlines(seconds(options.socketTimeout, DEFAULT_SOCKET_TIMEOUT, 'socketTimeout')),
  }
}
