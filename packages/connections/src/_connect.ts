import { ClosedError, ConnectionError, InvalidArgumentError, TimeoutError } from '@cachex/core'
import { DEFAULT_MAX_IN_FLIGHT_BYTES, Deadlines } from './_deadlines.ts'
import { scrub } from './_errors.ts'
import { DEFAULT_CONNECT_TIMEOUT, DEFAULT_SOCKET_TIMEOUT, secondsToMs } from './_seconds.ts'

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
  /**
   * Whether an error event ends the wait with a `ConnectionError` now: a refused or reset
   * connection, or a handshake refusal (wrong password…), rather than waiting for a retry.
   */
  isFatal?: (error: unknown) => boolean
  /** The last error the client reported, for the timeout message. */
  lastError(): unknown
  /** Records an error of the opening, so later messages can name it. */
  setLastError(error: unknown): void
  /** The message of an error, passwords redacted. */
  describe(error: unknown): string
  /** The passwords to cut out of the errors kept as causes (see `scrub`). */
  secrets?: readonly string[]
}

/**
 * Waits until the client is ready, at most `timeoutMs`: resolves on the ready event or when the
 * opening resolves; rejects with a `ConnectionError` when the opening fails or an error event is
 * fatal (`isFatal`), and with a `TimeoutError` (naming the last error seen) when time runs out.
 * One timer per wait, never one per command.
 */
export function connectBounded(wait: ConnectWait): Promise<void> {
  const { emitter, where } = wait
  const failure = (error: unknown) =>
    new ConnectionError(`could not connect to ${where}: ${wait.describe(error)}`, {
      cause: scrub(error, wait.secrets),
    })
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
    // A refused connection or handshake: fail now instead of at the end of socketConnectTimeout
    // (the client goes on retrying in the background).
    const onError = (error: unknown) => {
      if (wait.isFatal?.(error)) finish(failure(error))
    }
    const timer = setTimeout(() => {
      const last = wait.lastError()
      finish(
        new TimeoutError(
          `could not connect to ${where} within ${wait.timeoutMs} ms (socketConnectTimeout)${last === undefined ? '' : `: ${wait.describe(last)}`}`,
          { cause: scrub(last, wait.secrets) },
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

/**
 * Waits until `pending` settles, at most `ms`; never rejects. For `close()` giving what is being
 * opened (a client, a discovery) the time it is allowed to open, and no more.
 */
export async function settledWithin(
  pending: Promise<unknown> | undefined,
  ms: number,
): Promise<void> {
  if (pending === undefined) return
  await closeWithin(
    () => pending,
    () => undefined,
    ms,
  )
}

/** What `destroyClient` needs of a node-redis client. */
export interface DestroyableClient {
  readonly isOpen: boolean
  readonly isReady?: boolean
  destroy(): void
  once?(event: 'connect', listener: () => void): unknown
}

/**
 * Destroys a node-redis client now, also one that is still connecting. node-redis 6 keeps the
 * socket of a connection attempt that was under way when `destroy()` ran, and that socket then
 * holds the process open for good (a script that closed its cache right after its first call did
 * not exit). Its `destroy()` tears down a socket it still holds, so a client that was connecting
 * is destroyed once more when the attempt connects.
 */
export function destroyClient(client: DestroyableClient): void {
  const connecting = client.isOpen && client.isReady === false
  client.destroy()
  if (connecting) client.once?.('connect', () => client.destroy())
}

/** The error every call of a closed connection rejects with (`where` it went, if known). */
export function closedError(where: string | undefined): ClosedError {
  return new ClosedError(
    where === undefined ? 'the connection is closed' : `the connection to ${where} is closed`,
  )
}

/**
 * The bounds every call of a connection gets: how long to wait for a connection, and the
 * `Deadlines` that bound each reply (no bound when `socketTimeout` is `null`) and cap the bytes
 * in flight (`maxInFlightBytes`).
 */
export function callBounds(options: {
  socketConnectTimeout?: number
  socketTimeout?: number | null
  maxInFlightBytes?: number | null
}): { connectTimeoutMs: number; deadlines: Deadlines } {
  const max = options.maxInFlightBytes
  if (max !== undefined && max !== null && !(typeof max === 'number' && max > 0)) {
    throw new InvalidArgumentError('maxInFlightBytes must be a positive number of bytes, or null')
  }
  return {
    connectTimeoutMs: secondsToMs(
      options.socketConnectTimeout,
      DEFAULT_CONNECT_TIMEOUT,
      'socketConnectTimeout',
    ),
    deadlines: new Deadlines(
      options.socketTimeout === null
        ? undefined
        : secondsToMs(options.socketTimeout, DEFAULT_SOCKET_TIMEOUT, 'socketTimeout'),
      max === null ? Number.POSITIVE_INFINITY : (max ?? DEFAULT_MAX_IN_FLIGHT_BYTES),
    ),
  }
}

/** `promise`, or a `TimeoutError` saying `what` when it has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} within ${ms} ms`)), ms)
    timer.unref()
  })
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer))
}
