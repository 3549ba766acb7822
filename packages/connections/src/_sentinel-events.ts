// What the sentinels say, followed: their notifications (`+switch-master`, the steps of a
// failover, a change of the replicas or the sentinels) and their views, asked again one ask at a
// time, made into the primary and the replicas in use (`SentinelNodes`), the failovers under way
// (`FailoverGate`), and the sentinels watched (and the client options they are reached with).
import { FAILOVER_STEPS, type FailoverGate } from './_failover.ts'
import type { Credentials } from './_options.ts'
import { invalidAddress, nodesToUse } from './_sentinel-address.ts'
import { nodeKey, type SentinelNodes } from './_sentinel-nodes.ts'
import type { SentinelConnectionOptions } from './_sentinel-options.ts'
import {
  eventMasterAddress,
  portOf,
  type SentinelEvent,
  type SentinelView,
  type SentinelWatch,
  type SentinelWatchOptions,
} from './_sentinels.ts'

/**
 * The node-redis client options of the connections to the sentinels (`SentinelWatch`):
 * `sentinelOptions`' client options, its credentials, TLS and socket over them, connected within
 * `connectTimeoutMs` (`socketConnectTimeout`) unless its socket says otherwise.
 */
export function sentinelClientOptions(
  extra: SentinelConnectionOptions,
  connectTimeoutMs: number,
): SentinelWatchOptions['clientOptions'] {
  const clientOptions = (extra.clientOptions ?? Object.create(null)) as Credentials & {
    socket?: object
  }
  return {
    ...clientOptions,
    username: extra.username ?? clientOptions.username,
    password: extra.password ?? clientOptions.password,
    socket: {
      connectTimeout: connectTimeoutMs,
      ...clientOptions.socket,
      ...extra.socket,
      // Last: a `tls: undefined` of the caller's (own, so spread) would otherwise take it away.
      ...(extra.tls ? { tls: true as const } : {}),
    },
  }
}

/** What `SentinelEvents` asks of the sentinel connection it serves. */
export interface SentinelEventsOptions {
  /** The sentinels: asked for their views, and told of the sentinels the views list. */
  watch: SentinelWatch
  /** The failovers under way, where writes go through them. */
  failover: FailoverGate
  /** The primary and the replicas in use. */
  nodes: SentinelNodes
  /** `sentinelOptions.scanInterval`: how often the views are asked besides (0: never). */
  scanIntervalMs: number
  /** Whether the connection was closed: nothing is followed then. */
  closed(): boolean
  /** Whether the first discovery named a primary: nothing is followed before. */
  discovered(): boolean
  /** The data nodes in use changed: every one is tracked. */
  retrack(): void
}

/**
 * Follows the sentinels of one connection: a notification is acted on at once (`onEvent`), and
 * the views are asked again (`refreshSoon`, and every `scanInterval`: `scan`) and applied
 * (`apply`) to the nodes in use.
 */
export class SentinelEvents {
  readonly #options: SentinelEventsOptions
  /** When a sentinel last announced a new primary (`+switch-master`), `performance.now()`. */
  #switchedAt = Number.NEGATIVE_INFINITY
  /** The newest `config-epoch` the primary was taken from. */
  #epoch = 0
  #refreshing = false
  #refreshAgain = false
  #scanTimer: NodeJS.Timeout | undefined

  constructor(options: SentinelEventsOptions) {
    this.#options = options
  }

  /** Asks the views every `scanIntervalMs` from now on (once discovered), until `stop()`. */
  scan(): void {
    const intervalMs = this.#options.scanIntervalMs
    if (intervalMs <= 0) return
    this.#scanTimer = setInterval(() => this.refreshSoon(), intervalMs)
    this.#scanTimer.unref()
  }

  /** Stops the asks of `scan` (the connection closes). */
  stop(): void {
    clearInterval(this.#scanTimer)
  }

  /** A notification of a sentinel (`SentinelWatch`'s `onEvent`). */
  onEvent(event: SentinelEvent): void {
    const options = this.#options
    const { nodes, failover } = options
    if (options.closed() || !options.discovered()) return
    const { channel, words, from } = event
    if (channel === '+switch-master') {
      // +switch-master <name> <old ip> <old port> <new ip> <new port>: writes go there now. An
      // address no server can have is no switch: the sentinels are asked which primary won.
      const node = { host: words[3] ?? '', port: portOf(words[4]) }
      if (nodes.usable(node) !== undefined) {
        failover.switched()
        nodes.switchTo(node)
        this.#switchedAt = performance.now()
        options.retrack()
      }
      this.refreshSoon()
      return
    }
    if (FAILOVER_STEPS.has(channel)) {
      // Sent before the sentinel promotes a replica: a write acknowledged by the old primary
      // after the promotion would be lost.
      if (eventMasterAddress(words) === nodes.primaryKey) failover.started(from, channel)
      return
    }
    // The end of a failover (the sentinels are asked which primary won), or a change of the
    // replicas or the sentinels.
    this.refreshSoon()
  }

  /** Asks every sentinel for its view again, one ask at a time (another follows if needed). */
  refreshSoon(): void {
    const options = this.#options
    if (options.closed() || !options.discovered()) return
    if (this.#refreshing) {
      this.#refreshAgain = true
      return
    }
    this.#refreshing = true
    const startedAt = performance.now()
    options.watch
      .all()
      .then((views) => {
        if (!options.closed() && views.length > 0) this.apply(views, startedAt)
      })
      .catch(() => undefined)
      .finally(() => {
        this.#refreshing = false
        if (this.#refreshAgain) {
          this.#refreshAgain = false
          this.refreshSoon()
        }
      })
  }

  /**
   * Follows what the sentinels say: the primary of the newest configuration (the highest
   * `config-epoch` among the sentinels that are not failing over), the failovers under way, the
   * replicas, and the sentinels they know. `startedAt`: when the views were asked; a failover
   * announced after that is not undone by them.
   */
  apply(views: SentinelView[], startedAt: number): void {
    const options = this.#options
    const { nodes, failover, watch } = options
    // A view naming a primary no server can be (a port out of 1..65535…) names none: the primary
    // in use stays, and its replicas and sentinels are taken all the same.
    const named = views.filter((view) => invalidAddress(view.master) === undefined)
    const settled = named.filter((view) => !view.master.flags.includes('failover_in_progress'))
    let best: SentinelView | undefined
    for (const view of settled) {
      if (best === undefined || view.master.epoch > best.master.epoch) best = view
    }
    const source = best ?? named[0] ?? (views[0] as SentinelView)
    failover.failoverTimeoutMs = source.master.failoverTimeoutMs
    // Views asked before a sentinel announced a switch predate it: they would move writes back
    // to the old primary. So would a sentinel that still has an older configuration.
    const current =
      best !== undefined && startedAt >= this.#switchedAt && best.master.epoch >= this.#epoch
    if ((current || nodes.primaryKey === undefined) && nodes.switchTo(source.master)) {
      this.#epoch = Math.max(this.#epoch, source.master.epoch)
    }
    // The sentinels failing over the primary in use: until one announces the switch (the leader
    // keeps its flag a moment after the others took the new configuration).
    const failing = new Set(
      views
        .filter(
          (view) =>
            view.master.flags.includes('failover_in_progress') &&
            nodeKey(view.master) === nodes.primaryKey,
        )
        .map((view) => view.from),
    )
    failover.settle(failing, startedAt)
    nodes.setReplicas(source.replicas)
    options.retrack()
    for (const view of views) {
      for (const node of nodesToUse(view.sentinels)) watch.add(node)
    }
    failover.wake()
  }
}
