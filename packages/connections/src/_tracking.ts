// The tracking connection of the local tier: a dedicated RESP3 client with
// `CLIENT TRACKING on BCAST PREFIX …`, whose invalidation pushes are reported to a listener.
import { InvalidArgumentError, type Tracking, type TrackingListener } from '@cachex/core'
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
}

/**
 * Starts tracking on `client` (not yet connected): on every `ready` (the first connection and
 * each reconnection, after which the server has forgotten the tracking state) it switches the
 * connection to BCAST mode for `prefixes` and reports `up`; on every error or end it reports
 * `down`. node-redis reconnects by itself (the client's reconnect strategy, every 2 s at most),
 * but not after a command refused for good (`commandRefusal`: a user the ACL forbids `CLIENT
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
  /** Refusals in a row (the ACL's, a command unknown); the next try waits the longer. */
  let refusals = 0
  let retry: NodeJS.Timeout | undefined
  const down = () => {
    generation++
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
  /** When it connects again after replies it could not read. */
  const unreadable = new UnreadableBackoff()
  client.on('error', (error: unknown) => {
    // A reply it could not read (`isUnreadableReply`): node-redis keeps the socket, out of step
    // (an invalidation may be lost, and no 'ready' comes again): the tier goes down, and the
    // connection is replaced after 100 ms, doubling up to 2 s while it garbles again within 5 s
    // of being up (`UnreadableBackoff`: one that garbles after every login is not knocked at in
    // a loop).
    if (isUnreadableReply(error)) {
      down()
      if (closed) return
      if (client.isOpen) client.destroy()
      clearTimeout(retry)
      retry = setTimeout(reconnect, unreadable.next(false))
      retry.unref()
      return
    }
    const refusal = commandRefusal(error)
    const command = refusal?.command
    // The keepalive (`pingInterval`) refused by the ACL: the connection is fine, and the refused
    // `PING` still reached the server, which keeps it from closing the connection as idle.
    if (command === 'ping') return
    down()
    // A wrong password refuses this connection as it refuses the cache's own, which reports it.
    if ((refusal === undefined && !isRefusedHandshake(error)) || closed) return
    // node-redis would try again every 2 s, forever, each time refused: back off instead.
    if (client.isOpen) client.destroy()
    if (refusal !== undefined) {
      const key = (listener as { [WARN_ONCE_FOR]?: object })[WARN_ONCE_FOR] ?? listener
      const what =
        command === 'client|tracking'
          ? 'CLIENT TRACKING'
          : `${refusal.command.replace('|', ' ').toUpperCase()} (on its tracking connection)`
      warnOnce(
        key,
        warn,
        `cachex: ${what} ${refusalWords(refusal)}, and the local tier needs it to hear of writes: the local tier stays off (localStats().tracking is false), and its tracking connection is tried again less and less often (after 10 s, then up to every 5 minutes). ${refusalRemedy(refusal, '+client|tracking')} to use the local tier.`,
      )
    }
    clearTimeout(retry)
    retry = setTimeout(reconnect, refusedRetryDelay(refusals++))
    retry.unref()
  })
  client.on('end', down)
  client.on('reconnecting', down)
  client.on('invalidate', (key: unknown) => {
    if (closed || !isUp) return
    listener.invalidate(key === null || key === undefined ? null : [String(key)])
  })
  client.on('ready', () => {
    const mine = ++generation
    const on = ['CLIENT', 'TRACKING', 'ON', 'BCAST']
    for (const prefix of prefixes) on.push('PREFIX', prefix)
    // The handshake turned tracking on in default mode; BCAST needs it off first.
    Promise.all([client.sendCommand(['CLIENT', 'TRACKING', 'OFF']), client.sendCommand(on)])
      .then(() => {
        if (closed || mine !== generation) return
        refusals = 0
        unreadable.up()
        isUp = true
        listener.up()
      })
      .catch(() => {
        // Not up: the tier stays bypassed; the next reconnection tries again.
      })
  })
  client.connect().catch(() => {
    // Reported by the error event; node-redis keeps reconnecting.
  })
  return {
    async close(): Promise<void> {
      if (closed) return
      closed = true
      isUp = false
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
