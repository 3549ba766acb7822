import { isUtf8 } from 'node:buffer'
import {
  ClosedError,
  ConnectionError,
  InvalidArgumentError,
  ResponseError,
  TimeoutError,
} from '@cachex/core'
import { ErrorReply } from '@redis/client'
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

/** Where the password goes, for a connection cachex opens from a URL and its options. */
export const PASSWORD_IN_URL = 'put it in the URL (redis://:password@host) or the `password` option'
/**
 * Where the password goes, for a node-redis `RedisSentinel` handed in as `location`: cachex does
 * not open its connections, node-redis does, with its own options.
 */
export const PASSWORD_IN_SENTINEL =
  'give it in the `nodeClientOptions` of the RedisSentinel you handed in (`sentinelClientOptions` for the sentinels themselves)'
/**
 * Where the password goes, for a node-redis `RedisCluster` handed in as `location`: cachex does
 * not open its connections, node-redis does, with its own options.
 */
export const PASSWORD_IN_CLUSTER = 'give it in the `defaults` of the RedisCluster you handed in'
/**
 * Where the password goes, for the sentinels of cachex's own sentinel connection: the URL's
 * credentials and the `password` option are the data nodes', not the sentinels'.
 */
export const PASSWORD_IN_SENTINELS =
  "give the sentinels' password as `sentinelOptions.password` (the URL's and the `password` option are the data nodes')"
/** Which credentials the sentinels of cachex's own sentinel connection refused. */
export const SENTINELS_CREDENTIALS =
  "the sentinels' are `sentinelOptions.username` and `sentinelOptions.password`"
/** What to do about a server that asks for a password none was given for (`NOAUTH`). */
const NOAUTH_HINT = 'the server requires a password: '
/** What a server that refused the credentials given (`WRONGPASS`) means. */
const WRONGPASS_HINT = 'the user name or password given is wrong'

/**
 * Whether `message` (of an error, or an error's text) reports the server refusing the
 * connection's credentials: none given where it requires a password (`NOAUTH`), or wrong ones
 * (`WRONGPASS`).
 */
export function isAuthRefusal(message: string): boolean {
  return /\b(NOAUTH|WRONGPASS)\b/.test(message)
}

/**
 * `message` with what an authentication refusal it reports means, in words: Redis's own text
 * (`NOAUTH HELLO must be called with the client already authenticated…`) never says "password".
 * `where` says where the password goes (`PASSWORD_IN_URL` for a connection cachex opens from a
 * URL, `PASSWORD_IN_SENTINELS` for the sentinels cachex connects to, `PASSWORD_IN_SENTINEL`,
 * `PASSWORD_IN_CLUSTER` for a node-redis object handed in); `whose`, if given, says whose
 * credentials a wrong one (`WRONGPASS`) was (`SENTINELS_CREDENTIALS`). Once only: a message that
 * quotes another keeps one hint.
 */
export function withAuthHint(
  message: string,
  where: string = PASSWORD_IN_URL,
  whose?: string,
): string {
  if (message.includes(NOAUTH_HINT) || message.includes(WRONGPASS_HINT)) return message
  const hint = /\bNOAUTH\b/.test(message)
    ? `${NOAUTH_HINT}${where}`
    : /\bWRONGPASS\b/.test(message)
      ? whose === undefined
        ? WRONGPASS_HINT
        : `${WRONGPASS_HINT} — ${whose}`
      : undefined
  if (hint === undefined) return message
  return `${hint} (${message.trimEnd()})`
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

/** Walks `SCAN` on one node through `run`, yielding each reply's keys as one batch. */
export async function* scanNode(
  run: (args: string[]) => Promise<unknown>,
  pattern: string,
  count: number,
): AsyncGenerator<Array<string | Buffer>> {
  let cursor = '0'
  // Redis never hands out a cursor twice in one walk (it advances in reverse-binary order until
  // 0); a server that does (a proxy's bug) would keep the walk going forever.
  const seen = new Set<string>()
  do {
    const reply = await run(['SCAN', cursor, 'MATCH', pattern, 'COUNT', String(count)])
    if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) {
      throw new ResponseError('SCAN answered something other than [cursor, keys]')
    }
    cursor = String(reply[0])
    if (seen.has(cursor)) {
      throw new ResponseError(
        `SCAN handed out the cursor ${cursor.slice(0, 20)} twice in one walk: the server's walk does not end`,
      )
    }
    seen.add(cursor)
    yield (reply[1] as unknown[]).map(scannedKey)
  } while (cursor !== '0')
}

/**
 * A key of a `SCAN` reply: its text, or its bytes when they are not UTF-8. Decoding those would
 * turn each invalid byte into U+FFFD, the name of another key (or of none): a caller that deletes
 * what it scanned would delete that one instead.
 */
function scannedKey(key: unknown): string | Buffer {
  if (!Buffer.isBuffer(key)) return String(key)
  return isUtf8(key) ? key.toString('utf8') : key
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

/** Milliseconds before the first reconnection attempt after a failed one. */
export const FIRST_RECONNECT_DELAY = 100
/** The longest wait between two reconnection attempts, in milliseconds. */
export const MAX_RECONNECT_DELAY = 2000

/**
 * Milliseconds to wait before reconnection attempt `retries` (0 for the first after a failure):
 * 100 ms, doubling up to 2 s, each shortened by up to 20 % at random so that many processes that
 * lost the same server do not all knock at once. Never gives up: a connection that cachex made is
 * retried for as long as it is open. node-redis's `reconnectStrategy` for the clients cachex
 * creates.
 */
export function reconnectDelay(retries: number): number {
  const base = Math.min(MAX_RECONNECT_DELAY, FIRST_RECONNECT_DELAY * 2 ** Math.min(retries, 16))
  return Math.round(base * (1 - 0.2 * Math.random()))
}

/** Milliseconds before a handshake the server refused (see `isRefusedHandshake`) is tried again. */
export const REFUSED_FIRST_RETRY_MS = 10_000
/** The longest wait between two tries of a handshake the server keeps refusing, in milliseconds. */
export const REFUSED_MAX_RETRY_MS = 300_000

/**
 * Milliseconds to wait before trying again a connection whose handshake the server refused
 * `refusals` times in a row (0 for the first refusal): 10 s, doubling up to 5 minutes, each
 * shortened by up to 20 % at random (see `reconnectDelay`). A refusal stands until an operator
 * changes the password or the ACL, and every try lands in the server's ACL log as a failed
 * authentication: `reconnectDelay`'s 2 s, on every connection of every process, floods it.
 */
export function refusedRetryDelay(refusals: number): number {
  const base = Math.min(
    REFUSED_MAX_RETRY_MS,
    REFUSED_FIRST_RETRY_MS * 2 ** Math.min(Math.max(refusals, 0), 8),
  )
  return Math.round(base * (1 - 0.2 * Math.random()))
}

/**
 * A `reconnectStrategy` for a client of cachex's that node-redis keeps reconnecting (a sentinel's):
 * `reconnectDelay` apart, but `refusedRetryDelay` apart (10 s, doubling up to 5 minutes) while
 * the server refuses its handshake (`cause`: a wrong password, an unknown user). One per client:
 * it counts that client's refusals in a row, from its last connection (`retries` 0).
 */
export function refusalAwareReconnect(): (retries: number, cause: unknown) => number {
  let refusals = 0
  return (retries, cause) => {
    if (retries === 0) refusals = 0
    if (!isRefusedHandshake(cause)) return reconnectDelay(retries)
    return refusedRetryDelay(refusals++)
  }
}

/**
 * Whether `error`, or an error it wraps, is the server refusing a connection's handshake with an
 * error reply: wrong credentials or an unknown user (`WRONGPASS`), none given where it requires
 * them (`NOAUTH`), or a user the ACL forbids a command of the handshake (`NOPERM`). The server is
 * up and answering; trying again meets the same refusal until its configuration changes.
 */
export function isRefusedHandshake(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof ErrorReply && /^(WRONGPASS|NOAUTH|NOPERM)\b/.test(e.message)) return true
  }
  return false
}

/**
 * The circuit breaker of a connection whose client says little about its health (a sentinel, a
 * cluster): once an attempt failed, the connection is down — calls reject at once (`error()`)
 * instead of waiting — and `attempt` runs again in the background, one at a time,
 * `reconnectDelay` apart, until one succeeds or `up()` is called (the client said it is ready).
 * With `refusal` set, a failure it recognises as the server refusing the handshake is tried
 * again `refusedRetryDelay` apart instead (10 s, doubling up to 5 minutes), as on one server.
 */
export class Breaker {
  #down = false
  #cause: unknown
  #retries = 0
  /** Refused handshakes in a row (see `refusal`), for their longer backoff. */
  #refusals = 0
  /** When (`performance.now()`) the last attempt failed, or a call last tried itself. */
  #failedAt = 0
  #timer: NodeJS.Timeout | undefined
  /** Whether `#timer` waits a refusal's step (`refusedRetryDelay`). */
  #timerRefused = false
  #running = false
  #closed = false

  /**
   * Whether a failure (what an attempt rejected with) is the server refusing the handshake — a
   * wrong password, an unknown user — for a topology each of whose attempts logs in anew (a
   * cluster's discovery, on every seed): each such attempt is a failed authentication in the
   * server's ACL log, and meets the same refusal until an operator changes the password or the
   * ACL. Such a failure is tried again `refusedRetryDelay` apart (10 s, doubling up to 5
   * minutes) rather than `reconnectDelay` apart, and a call made `REFUSED_FIRST_RETRY_MS` or
   * more after the last failure tries once itself (see `isDown`), so that a password fixed on
   * the server is picked up by the next call rather than by the background attempt, which may
   * be minutes away. Unset: every failure is tried again `reconnectDelay` apart.
   */
  refusal: ((cause: unknown) => boolean) | undefined

  /**
   * Whether the connection is known to be down: calls reject at once (`error()`). While a
   * refused handshake (`refusal`) is backed off, one call per `REFUSED_FIRST_RETRY_MS` since the
   * last failure finds it not down, and tries once itself; the calls that follow it reject at
   * once again until that try succeeds.
   */
  get isDown(): boolean {
    if (!this.#down) return false
    if (
      !this.#running &&
      !this.#closed &&
      this.#refused() &&
      performance.now() - this.#failedAt >= REFUSED_FIRST_RETRY_MS
    ) {
      // At most one such try per step, whatever the rate of calls.
      this.#failedAt = performance.now()
      return false
    }
    return true
  }

  /** Why it is down: the last failure. */
  get cause(): unknown {
    return this.#cause
  }

  /** Marks the connection down because of `cause`, and retries `attempt` in the background. */
  down(cause: unknown, attempt: () => Promise<unknown>): void {
    if (this.#closed) return
    this.#down = true
    this.#cause = cause
    this.#failedAt = performance.now()
    // A refusal's long step pending, and now the server is unreachable (a call's own try): the
    // short steps of an outage start now.
    if (this.#timer !== undefined && this.#timerRefused && !this.#refused()) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    this.#schedule(attempt)
  }

  /** The connection works: calls go through again, and the backoff starts over. */
  up(): void {
    this.#down = false
    this.#cause = undefined
    this.#retries = 0
    this.#refusals = 0
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** Stops retrying for good. */
  close(): void {
    this.#closed = true
    this.up()
  }

  /**
   * The error a call rejects with while the connection is down: `describe` gives the message of
   * the failure, and `secrets` are cut out of the failure kept as its cause.
   */
  error(
    what: string,
    describe: (error: unknown) => string,
    secrets: readonly string[] = [],
  ): ConnectionError {
    const cause = this.#cause
    const text = cause === undefined ? undefined : describe(cause)
    // A server that refuses the credentials is reachable: saying otherwise sends one looking at
    // the network (as a standalone connection says it).
    const state =
      text !== undefined && isAuthRefusal(text) ? 'refused the connection' : 'is unreachable'
    return new ConnectionError(
      `${what} ${state}, not waiting (retrying in the background)${text === undefined ? '' : `: ${text}`}`,
      { cause: scrub(cause, secrets) },
    )
  }

  /** Whether the failure the connection is down for is a refused handshake (see `refusal`). */
  #refused(): boolean {
    return this.refusal !== undefined && this.#cause !== undefined && this.refusal(this.#cause)
  }

  #schedule(attempt: () => Promise<unknown>): void {
    if (this.#timer !== undefined || this.#running || this.#closed) return
    let delay: number
    this.#timerRefused = this.#refused()
    if (this.#timerRefused) {
      delay = refusedRetryDelay(this.#refusals++)
    } else {
      // Refusals in a row only: an unreachable cluster keeps its short steps.
      this.#refusals = 0
      delay = reconnectDelay(this.#retries++)
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      if (!this.#down || this.#closed) return
      this.#running = true
      attempt().then(
        () => {
          this.#running = false
          this.up()
        },
        (error: unknown) => {
          this.#running = false
          if (!this.#down || this.#closed) return
          this.#cause = error
          this.#failedAt = performance.now()
          this.#schedule(attempt)
        },
      )
    }, delay)
    this.#timer.unref()
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
