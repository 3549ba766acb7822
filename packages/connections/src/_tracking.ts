// The tracking connection of the local tier: a dedicated RESP3 client with
// `CLIENT TRACKING on BCAST PREFIX …`, whose invalidation pushes are reported to a listener.
import type { Tracking, TrackingListener } from '@cachex/core'
import { destroyClient } from './_connect.ts'

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
 * `down`. node-redis reconnects by itself (the client's reconnect strategy).
 */
export function startTracking(
  client: TrackingClientLike,
  prefixes: readonly string[],
  listener: TrackingListener,
): Tracking {
  let closed = false
  /** Counts connections, so that a late `up` of a lost one is not reported. */
  let generation = 0
  let isUp = false
  const down = () => {
    generation++
    if (isUp) {
      isUp = false
      if (!closed) listener.down()
    }
  }
  client.on('error', down)
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
      if (client.isOpen) destroyClient(client)
    },
  }
}
