// An acquisition that failed without an answer (a timeout, a lost connection) may still run on
// the server: its bytes were sent, and a frozen server runs them when it wakes. The lock or the
// permit would then be held by no one — for ever without a timeout. So its token is released in
// the background a few times, and again while no try is answered (a server frozen longer), until
// the server has surely run what it was sent; a release of a token no one holds does nothing. A lock's token may be the caller's own, given again to a retry
// of the same acquisition: so a token this process holds again by then (or is trying to take,
// the release would go behind that try) is left alone.
import { ClosedError, type Connection, ResponseError, runScript, type Script } from '@cachex/core'
import { wasUnsent } from '@cachex/core/internal'
import { onAbort } from './_seconds.ts'

/** When the release is tried, in milliseconds after the failure. */
const AFTER_MS = [1_000, 5_000, 30_000]
/** Then, while each try fails unanswered, the pause before the next. */
const AGAIN_MS = 30_000

/** What this process knows of the tokens of its locks and semaphores over one connection. */
interface Tokens {
  /**
   * The tokens held, by `tokenId(key, token)`: until when (`performance.now()` milliseconds, an
   * upper bound of the server's expiry; `Infinity` without a timeout).
   */
  held: Map<string, number>
  /** The size of `held` past which the entries whose time is up are dropped (see `hold`). */
  sweepAt: number
  /** The tries of acquisitions in flight, by `tokenId(key, token)`: how many. */
  trying: Map<string, number>
}

const byConnection = new WeakMap<Connection, Tokens>()

/** The fewest entries of `held` before any is swept. */
const MIN_SWEEP = 1_024

function tokensOf(connection: Connection): Tokens {
  let tokens = byConnection.get(connection)
  if (tokens === undefined) {
    tokens = { held: new Map(), sweepAt: MIN_SWEEP, trying: new Map() }
    byConnection.set(connection, tokens)
  }
  return tokens
}

/** `key` and `token` as one string that no other pair gives. */
function tokenId(key: string, token: string): string {
  return `${key.length}:${key}${token}`
}

/**
 * Notes that this process holds `token` on `key` over `connection` for `ms` milliseconds from
 * now (`null`: with no end), after a reply that said so: an acquisition, an extension. Measured
 * once the reply arrived, so it ends no earlier than the server's expiry. Holds never released
 * (left to expire) are swept once their time is up, so that they do not pile up.
 */
export function hold(connection: Connection, key: string, token: string, ms: number | null): void {
  const tokens = tokensOf(connection)
  const held = tokens.held
  held.set(tokenId(key, token), ms === null ? Number.POSITIVE_INFINITY : performance.now() + ms)
  if (held.size >= tokens.sweepAt) {
    const now = performance.now()
    for (const [id, until] of held) if (until <= now) held.delete(id)
    tokens.sweepAt = Math.max(MIN_SWEEP, held.size * 2)
  }
}

/**
 * Adds `ms` to the time `token` is held on `key` (an extension that added to the remaining
 * time): the new expiry is the old one plus `ms`, so the bound stays an upper bound.
 */
export function holdLonger(connection: Connection, key: string, token: string, ms: number): void {
  const held = byConnection.get(connection)?.held
  const id = tokenId(key, token)
  const until = held?.get(id)
  if (held !== undefined && until !== undefined) held.set(id, until + ms)
}

/**
 * How long at most `token` is still held on `key` over `connection`, in milliseconds (an upper
 * bound of the server's expiry, `hold`'s); `undefined` when this process does not know.
 */
export function heldFor(connection: Connection, key: string, token: string): number | undefined {
  const until = byConnection.get(connection)?.held.get(tokenId(key, token))
  return until === undefined ? undefined : until - performance.now()
}

/** Forgets `token` on `key`: a reply said it is released, or no longer there. */
export function unhold(connection: Connection, key: string, token: string): void {
  byConnection.get(connection)?.held.delete(tokenId(key, token))
}

/**
 * Whether a lock or semaphore of this process holds `token` on `key` over `connection`, or —
 * with `orTrying` — has a try to take it in flight.
 */
function heldHere(connection: Connection, key: string, token: string, orTrying: boolean): boolean {
  const tokens = byConnection.get(connection)
  if (tokens === undefined) return false
  const id = tokenId(key, token)
  const until = tokens.held.get(id)
  if (until !== undefined && until > performance.now()) return true
  return orTrying && tokens.trying.has(id)
}

/**
 * Releases `token` (the script's one argument) with `script` on `key` at each of `AFTER_MS`,
 * unless a lock or semaphore of this process holds that token on that key by then, or is trying
 * to take it: a retry of the acquisition with the caller's token (a release sent behind its try
 * would undo it), or another holder given the same token. When the last of them fails without an
 * answer (a server frozen or down for longer: what it was sent runs when it wakes, and holds for
 * the whole timeout from then), it is tried again every `AGAIN_MS` until one is answered, the
 * connection closes or the release is no longer wanted. Timers do not keep the process alive;
 * errors are dropped.
 */
export function releaseLater(
  connection: Connection,
  script: Script,
  key: string,
  token: string,
  handoff?: Handoff,
): void {
  const attempt = (last: boolean): void => {
    if (heldHere(connection, key, token, true) || handoff?.wanted() === false) return
    runScript(connection, script, [key], [token]).then(
      (reply) => handoff?.ran(reply),
      (error: unknown) => {
        handoff?.failed(error)
        if (last && !(error instanceof ResponseError || error instanceof ClosedError)) {
          setTimeout(attempt, AGAIN_MS, true).unref()
        }
      },
    )
  }
  AFTER_MS.forEach((ms, at) => {
    setTimeout(attempt, ms, at === AFTER_MS.length - 1).unref()
  })
}

/** What `releaseLater` is told of a release handed over by its holder (see `_handoff.ts`). */
export interface Handoff {
  /** Whether the release is still wanted: asked before each try is sent. */
  wanted(): boolean
  /** Called with the reply of a try that ran. */
  ran(reply: unknown): void
  /** Called with the error of a try that failed (it may have run: see `outcomeUnknown`). */
  failed(error: unknown): void
}

/** A try of an acquisition in flight (see `startTry`). */
export interface Try {
  /**
   * Ends the try, once its reply (or error) is in. Throws the signal's `reason` when the signal
   * was aborted meanwhile: the try was undone, and its acquisition ends with that reason.
   */
  end(): void
}

/**
 * Notes a try to take `token` on `key` over `connection`, about to be sent, until `end()`: the
 * background releases of earlier failed tries (`releaseLater`) wait for it. When `signal` is
 * aborted meanwhile — the cache that made the lock or semaphore closes — `token` is released at
 * once with `script`, unless this process holds it: the release is handed to the connection in
 * this tick, before the connection closes (which answers what it was given first), so it runs
 * behind the try and gives back whatever the try took. `end()` then throws the signal's reason
 * rather than let the acquisition resolve with a hold that nothing could release.
 */
export function startTry(
  connection: Connection,
  script: Script,
  key: string,
  token: string,
  signal: AbortSignal | undefined,
): Try {
  const trying = tokensOf(connection).trying
  const id = tokenId(key, token)
  trying.set(id, (trying.get(id) ?? 0) + 1)
  let aborted = false
  const abort = () => {
    aborted = true
    if (heldHere(connection, key, token, false)) return
    runScript(connection, script, [key], [token]).catch(() => undefined)
  }
  // Not a listener of its own: any number of tries may be in flight on the cache's one signal.
  const forget = signal === undefined ? undefined : onAbort(signal, abort)
  let ended = false
  return {
    end() {
      if (ended) return
      ended = true
      const left = (trying.get(id) ?? 1) - 1
      if (left > 0) trying.set(id, left)
      else trying.delete(id)
      forget?.()
      if (aborted) throw signal?.reason
    },
  }
}

/**
 * Whether `error` leaves the outcome of a command unknown: it may have run on the server (a
 * timeout, a connection dropped with the command sent). Not so for an error reply (it ran and
 * refused: nothing changed), for a refusal made before anything was sent (`wasUnsent`:
 * `BackpressureError`, `FailoverError`, a connection refusing at once while its server is known
 * down), nor for a `ClosedError`: a closed connection runs nothing more, so no later command over
 * it — a retried release, a background undo — could find what the first did.
 */
export function outcomeUnknown(error: unknown): boolean {
  return !(error instanceof ResponseError || error instanceof ClosedError || wasUnsent(error))
}
