// The tracking connection of the local tier: a dedicated RESP3 client with
// `CLIENT TRACKING on BCAST PREFIX …`, whose invalidation pushes are reported to a listener.
import { InvalidArgumentError, type Tracking, type TrackingListener } from '@cachex/core'
import { STALLED_LOOP_MS } from '@cachex/core/internal'
import { ErrorReply } from '@redis/client'
import {
  commandRefusal,
  refusalRemedy,
  refusalWords,
  WARN_ONCE_FOR,
  type Warn,
  warner,
  warnOnce,
} from './_acl.ts'
import { destroyClient } from './_connect.ts'
import { isRefusedHandshake, isUnreadableReply, refusedRetryDelay } from './_retry.ts'
import { UnreadableBackoff } from './_unreadable.ts'

/** What the tracking connection needs of a node-redis client made with `RESP: 3, emitInvalidate: true`. */
export interface TrackingClientLike {
  sendCommand(args: string[]): Promise<unknown>
  connect(): Promise<unknown>
  destroy(): void
  on(event: string, listener: (...args: unknown[]) => void): unknown
  once?(event: 'connect', listener: () => void): unknown
  readonly isOpen: boolean
  readonly isReady?: boolean
  /** node-redis's options of the client: its `pingInterval` paces the keepalive (`silentFor`). */
  readonly options?: { readonly pingInterval?: unknown }
}

/**
 * How long past when its keepalive `PING` was due a tracking connection may stay silent (no
 * `PING` reply, no invalidation) before it counts as lost: the server may have lost it without a
 * close reaching this process (a NAT entry expired, a laptop slept, a serverless freeze), and a
 * connection that hears nothing more would leave the tier serving what others overwrote until
 * TCP gives up, minutes later.
 */
const SILENT_GRACE_MS = 5000

/**
 * Starts tracking on `client` (not yet connected): on every `ready` (the first connection and
 * each reconnection, after which the server has forgotten the tracking state) it switches the
 * connection to BCAST mode for `prefixes` and reports `up`; on every error or end it reports
 * `down`. node-redis reconnects by itself (the client's reconnect strategy, every 2 s at most);
 * but it connects again at once to a connection that was ready, so one lost, or left without
 * tracking (`CLIENT TRACKING ON … BCAST` answered with an error such as `-BUSY`, a script of
 * another client running), within `UNREADABLE_STABLE_MS` (5 s) of coming up is closed and opened
 * again 100 ms later, doubling up to 2 s (`UnreadableBackoff`, shared with the replies it could
 * not read): a server that kills it at once every time (a `client-output-buffer-limit` one
 * invalidation push overflows, under steady writes) is not knocked at in a loop. The keepalive's
 * `PING` answered with an error (`-BUSY`) leaves the connection, and tracking, as they are. Not
 * after a command refused for good (`commandRefusal`: a user the ACL forbids `CLIENT
 * TRACKING`, which node-redis sends in the handshake of a client made with `emitInvalidate`,
 * `NOPERM`; or `CLIENT` renamed or disabled on the server, `ERR unknown command 'CLIENT'`, as
 * managed services do), which the next attempt would meet too: the client is closed, tracking
 * stays down (the local tier stays off), `warn` says so once per `listener` (per the group of a
 * listener that names one, `WARN_ONCE_FOR`), and it is tried again after `refusedRetryDelay`
 * (10 s, then twice as late each time, up to 5 minutes: the permission may be granted, or the
 * command enabled, meanwhile). A handshake refused for its credentials (a wrong password) backs
 * off the same way, without a warning: the cache's own connection reports that refusal to every
 * call.
 */
export function startTracking(
  client: TrackingClientLike,
  prefixes: readonly string[],
  listener: TrackingListener,
  warn: Warn = warner(),
): Tracking {
  let closed = false
  /** Counts connections, so that a late `up` of a lost one is not reported. */
  let generation = 0
  let isUp = false
  /** Whether the connection is ready (from its 'ready' to its loss). */
  let ready = false
  /** Refusals in a row (the ACL's, a command unknown); the next try waits the longer. */
  let refusals = 0
  let retry: NodeJS.Timeout | undefined
  /** When the connection was last heard from (`performance.now()`): ready, a PING's reply, a push. */
  let heard = 0
  const hear = () => {
    heard = performance.now()
  }
  /** Whether its socket is connected (from 'connect' to its loss): in its handshake, or on. */
  let connected = false
  const down = () => {
    generation++
    ready = false
    connected = false
    if (isUp) {
      isUp = false
      if (!closed) listener.down()
    }
  }
  /** Tries again after a refusal: node-redis's reconnection loop ended when the client closed. */
  const reconnect = () => {
    if (closed || client.isOpen) return
    client.connect().catch(() => {
      // Reported by the error event.
    })
  }
  /**
   * When it connects again after replies it could not read, or a connection lost, or left
   * without tracking, soon after it came up.
   */
  const backoff = new UnreadableBackoff()
  /** Closes the client, and connects again after `wait` ms (`reconnect`). */
  const replace = (wait: number) => {
    if (client.isOpen) client.destroy()
    clearTimeout(retry)
    retry = setTimeout(reconnect, wait)
    retry.unref()
  }
  /** The tracking connection refused for good (`commandRefusal`): warned of, tried less often. */
  const refused = (refusal: NonNullable<ReturnType<typeof commandRefusal>>) => {
    const key = (listener as { [WARN_ONCE_FOR]?: object })[WARN_ONCE_FOR] ?? listener
    const what =
      refusal.command === 'client|tracking'
        ? 'CLIENT TRACKING'
        : `${refusal.command.replace('|', ' ').toUpperCase()} (on its tracking connection)`
    warnOnce(
      key,
      warn,
      `cachex: ${what} ${refusalWords(refusal)}, and the local tier needs it to hear of writes: the local tier stays off (localStats().tracking is false), and its tracking connection is tried again less and less often (after 10 s, then up to every 5 minutes). ${refusalRemedy(refusal, '+client|tracking')} to use the local tier.`,
    )
    replace(refusedRetryDelay(refusals++))
  }
  client.on('error', (error: unknown) => {
    // A reply it could not read (`isUnreadableReply`): node-redis keeps the socket, out of step
    // (an invalidation may be lost, and no 'ready' comes again): the tier goes down, and the
    // connection is replaced after 100 ms, doubling up to 2 s while it garbles again within 5 s
    // of being up (`UnreadableBackoff`: one that garbles after every login is not knocked at in
    // a loop).
    if (isUnreadableReply(error)) {
      down()
      if (!closed) replace(backoff.next(false))
      return
    }
    const refusal = commandRefusal(error)
    // The keepalive (`pingInterval`) refused by the ACL: the connection is fine, and the refused
    // `PING` still reached the server, which keeps it from closing the connection as idle.
    if (refusal?.command === 'ping') return hear()
    if (client.isReady === true) {
      // Still ready: not a loss but the keepalive's `PING` failing. Answered with an error
      // (`-BUSY` while a script of another client runs), the connection is fine and tracking
      // still on; anything else (a timeout) may be a connection gone silent: it is replaced.
      if (error instanceof ErrorReply) return hear()
      down()
      if (!closed) replace(backoff.next(false))
      return
    }
    const wasReady = ready
    down()
    if (closed) return
    if (refusal === undefined && !isRefusedHandshake(error)) {
      // A connection that was ready, lost: node-redis connects again at once, which it may do
      // if it had stayed up (`UnreadableBackoff.next` gives 0); lost again soon after coming up
      // (killed each time: a `client-output-buffer-limit` one push overflows), it backs off.
      if (!wasReady) return
      const wait = backoff.next(true)
      if (wait > 0) replace(wait)
      return
    }
    // A wrong password refuses this connection as it refuses the cache's own, which reports it;
    // node-redis would try again every 2 s, forever, each time refused: back off instead.
    if (refusal !== undefined) refused(refusal)
    else replace(refusedRetryDelay(refusals++))
  })
  client.on('connect', () => {
    connected = true
    hear()
  })
  client.on('end', down)
  client.on('reconnecting', down)
  client.on('ping-interval', hear)
  client.on('invalidate', (key: unknown) => {
    hear()
    if (closed || !isUp) return
    listener.invalidate(key === null || key === undefined ? null : [String(key)])
  })
  client.on('ready', () => {
    ready = true
    hear()
    const mine = ++generation
    const on = ['CLIENT', 'TRACKING', 'ON', 'BCAST']
    for (const prefix of prefixes) on.push('PREFIX', prefix)
    // The handshake turned tracking on in default mode; BCAST needs it off first.
    Promise.all([client.sendCommand(['CLIENT', 'TRACKING', 'OFF']), client.sendCommand(on)])
      .then(() => {
        if (closed || mine !== generation) return
        refusals = 0
        backoff.up()
        isUp = true
        listener.up()
      })
      .catch((error: unknown) => {
        // Not up: the tier stays bypassed. Lost meanwhile: the loss is handled. Refused for good
        // (the ACL, a command unknown): as in the handshake. Otherwise (`-BUSY`: a script of
        // another client running) no reconnection would come on a healthy connection: it is
        // replaced after the backoff of a connection lost soon after coming up.
        if (closed || mine !== generation) return
        const refusal = commandRefusal(error)
        down()
        if (refusal !== undefined) refused(refusal)
        else replace(backoff.next(false))
      })
  })
  client.connect().catch(() => {
    // Reported by the error event; node-redis keeps reconnecting.
  })
  // A connection silent past its keepalive's reply — on, or still in its handshake or its
  // `CLIENT TRACKING` (neither has a deadline of its own) — is lost, though no close came. A
  // check that runs far later than due counts nothing: this process's own loop was blocked or
  // frozen (the PING was not even sent meanwhile), and a reply may wait unread in the socket.
  const pingMs = client.options?.pingInterval
  const everyMs = Math.min(Number(pingMs), SILENT_GRACE_MS)
  let checked = performance.now()
  const watchdog =
    typeof pingMs === 'number' && pingMs > 0 && Number.isFinite(pingMs)
      ? setInterval(() => {
          const now = performance.now()
          const late = now - checked > everyMs + STALLED_LOOP_MS
          checked = now
          if (late) heard = Math.max(heard, now)
          if (closed || !connected || now - heard <= pingMs + SILENT_GRACE_MS) return
          down()
          replace(backoff.next(false))
        }, everyMs).unref()
      : undefined
  return {
    async close(): Promise<void> {
      if (closed) return
      closed = true
      isUp = false
      clearInterval(watchdog)
      clearTimeout(retry)
      if (client.isOpen) destroyClient(client)
    },
  }
}

/**
 * A tracking connection of a server's connection (`Connection.track`): made by `make` and
 * started (`startTracking`), kept in `trackings` until it is closed, so that the connection's
 * `close()` closes what is left. A handed-in client pool cannot be duplicated (`make` undefined):
 * refused.
 */
export function trackingIn(
  trackings: Set<Tracking>,
  make: (() => TrackingClientLike) | undefined,
  prefixes: readonly string[],
  listener: TrackingListener,
): Tracking {
  if (make === undefined) {
    throw new InvalidArgumentError(
      'the local tier needs a tracking connection, which a handed-in client pool cannot open: pass a URL or a node-redis client',
    )
  }
  const tracking = startTracking(make(), prefixes, listener)
  trackings.add(tracking)
  return {
    close: async () => {
      trackings.delete(tracking)
      await tracking.close()
    },
  }
}
