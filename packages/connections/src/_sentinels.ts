import { ConnectionError } from '@cachex/core'
import { type NodeRedisClient, newClient } from './_client-factory.ts'
import { destroyClient, within } from './_connect.ts'
import { scrub, toCachexError } from './_errors.ts'
import { withPlainHintText } from './_mismatch-hints.ts'
import { TEXT_COMMAND_OPTIONS } from './_options.ts'
import {
  isRefusedHandshake,
  isUnreadableReply,
  PASSWORD_IN_SENTINELS,
  reconnectDelay,
  refusedRetryDelay,
  SENTINELS_CREDENTIALS,
  withAuthHint,
} from './_retry.ts'
import { type NodeAddress, type SentinelView, viewOf } from './_sentinel-replies.ts'
import { SentinelRoster } from './_sentinel-roster.ts'
import { UnreadableBackoff } from './_unreadable.ts'

export type { NodeAddress, SentinelView } from './_sentinel-replies.ts'
export { portOf } from './_sentinel-replies.ts'

/** A notification a sentinel published about the monitored service. */
export interface SentinelEvent {
  /** The channel: `+switch-master`, `+try-failover`, `+sdown`… */
  channel: string
  /** The words of the message. */
  words: string[]
  /** The sentinel that published it, as `host:port`. */
  from: string
}

/** How `SentinelWatch` reaches the sentinels. */
export interface SentinelWatchOptions {
  /** The service name (`sentinel monitor <name> …`). */
  name: string
  /** node-redis client options for the connections to the sentinels (host and port excluded). */
  clientOptions: Record<string, unknown> & { socket?: Record<string, unknown> }
  /** Milliseconds a query to a sentinel may take. */
  queryTimeoutMs: number
  /** Passwords, cut out of every message. */
  secrets: readonly string[]
  /** Called for each notification about the service, from any sentinel. */
  onEvent(event: SentinelEvent): void
  /** Called when a sentinel connection is ready again after it dropped (notifications may have been missed). */
  onReconnect(from: string): void
}

/**
 * The channels cachex listens to on every sentinel: the failover's steps (`+try-failover`,
 * `-failover-abort-*`, `+failover-end`…), `+switch-master`, and the changes of replicas and
 * sentinels.
 */
const PATTERNS = [
  '+switch-master',
  '*failover*',
  '+elected-leader',
  '+selected-slave',
  '+promoted-slave',
  '+slave',
  '[-+]sdown',
  '[-+]odown',
  '+convert-to-slave',
  '[-+]role-change',
  '+slave-reconf-done',
  '+sentinel',
  '+reset-master',
]

type Client = NodeRedisClient

/** What to change when plain connections to the sentinels are dropped unanswered. */
const SENTINELS_TLS = 'if the sentinels serve TLS only, set `sentinelOptions.tls: true`'

interface Link {
  readonly key: string
  readonly node: NodeAddress
  readonly client: Client
  /** Whether the notifications are subscribed (node-redis subscribes again after reconnecting). */
  subscribed: boolean
  /** Whether it was ready once: a later 'ready' is a reconnection. */
  wasReady: boolean
  /** Its last connection attempt failed (node-redis retries in the background). */
  failing: boolean
  lastError: unknown
  /** When the connections to this sentinel replaced for replies they could not read reconnect. */
  readonly unreadable: UnreadableBackoff
  /** Handshakes refused in a row (`isRefusedHandshake`); the next try waits the longer. */
  refusals: number
  /** Its next try after a refused handshake: the client is closed meanwhile. */
  retry?: NodeJS.Timeout
}

/** The name of the service a notification is about, from its words. */
export function eventMaster(channel: string, words: readonly string[]): string | undefined {
  // +switch-master <name> <old ip> <old port> <new ip> <new port>
  if (channel === '+switch-master') return words[0]
  // <type> <name> <ip> <port> [@ <master name> <master ip> <master port>]
  const at = words.indexOf('@')
  if (at >= 0) return words[at + 1]
  return words[0] === 'master' ? words[1] : undefined
}

/**
 * The address of the primary a notification is about: the instance itself for `master …`
 * messages, the one after `@` for the others.
 */
export function eventMasterAddress(words: readonly string[]): string | undefined {
  const at = words.indexOf('@')
  if (at >= 0) return `${words[at + 2]}:${words[at + 3]}`
  return words[0] === 'master' ? `${words[2]}:${words[3]}` : undefined
}

/**
 * One connection to each sentinel (the ones given, and those they report): each listens to the
 * sentinel's notifications about the service, and answers queries of its view. RESP3, so that
 * one connection does both; node-redis reconnects it and subscribes again by itself. A discovered
 * sentinel the views no longer name is let go, and at most 64 are connected to (`SentinelRoster`).
 */
export class SentinelWatch {
  readonly #options: SentinelWatchOptions
  readonly #links = new Map<string, Link>()
  readonly #roster = new SentinelRoster()
  /** The tries of connections closed a while (`#later`): close() clears them. */
  readonly #timers = new Set<NodeJS.Timeout>()
  #closed = false

  constructor(options: SentinelWatchOptions) {
    this.#options = options
  }

  /**
   * Connects to the sentinel at `host:port` unless it is known already. Those added before any
   * view came are the configured ones, kept always; the others are let go once the views stop
   * naming them, and are not connected to beyond 64 (see `SentinelRoster`).
   */
  add(node: NodeAddress): void {
    if (this.#closed) return
    const evicted = this.#roster.add(`${node.host}:${node.port}`)
    for (const key of evicted ?? []) this.#drop(key)
    if (evicted !== undefined) this.#open(node)
  }

  /**
   * Connects to `node` unless it is known already; `previous`: the connection to it that this
   * one replaces (`#replace`).
   */
  #open(node: NodeAddress, previous?: Link): void {
    const key = `${node.host}:${node.port}`
    // Let go meanwhile (a replacement's or a retry's).
    if (this.#closed || this.#links.has(key) || !this.#roster.has(key)) return
    const options = this.#options
    const client = newClient({
      ...options.clientOptions,
      // A subscribed RESP2 connection cannot run commands.
      RESP: 3,
      disableOfflineQueue: true,
      socket: {
        ...options.clientOptions.socket,
        host: node.host,
        port: node.port,
        // A refused handshake is tried again by `#later`, seldom (see the 'error' listener).
        reconnectStrategy: reconnectDelay,
      },
    } as never) as Client
    const link: Link = {
      key,
      node,
      client,
      subscribed: false,
      // Notifications may have been missed while it was replaced: as after a reconnection.
      wasReady: previous?.wasReady ?? false,
      failing: false,
      lastError: previous?.lastError,
      unreadable: previous?.unreadable ?? new UnreadableBackoff(),
      refusals: previous?.refusals ?? 0,
    }
    this.#links.set(key, link)
    // An 'error' event without a listener crashes the process.
    client.on('error', (error: unknown) => {
      link.lastError = error
      if (!client.isReady) link.failing = true
      if (isUnreadableReply(error)) this.#replace(link)
      // node-redis would wait out the next try on a timer close() cannot clear, holding the
      // process open minutes after it: the client is closed here, before node-redis waits, and
      // tried again on cachex's own timer, 10 s later, doubling up to 5 minutes.
      else if (isRefusedHandshake(error) && this.#links.get(key) === link && !this.#closed) {
        link.failing = true
        destroyClient(client)
        this.#later(link, refusedRetryDelay(link.refusals++), true)
      }
    })
    client.on('ready', () => {
      link.failing = false
      link.refusals = 0
      link.unreadable.up()
      if (this.#closed) return
      if (!link.subscribed) {
        link.subscribed = true
        client
          .pSubscribe(PATTERNS, (message: string, channel: string) => {
            this.#onMessage(link, channel, message)
          })
          .catch((error: unknown) => {
            // Retried on the next reconnection.
            link.subscribed = false
            link.lastError = error
          })
      }
      if (link.wasReady) options.onReconnect(key)
      link.wasReady = true
    })
    client.connect().catch((error: unknown) => {
      link.lastError = error
    })
  }

  /**
   * The view of the first sentinel that answers, within `timeoutMs`: a `ConnectionError` naming
   * the last failure when none does (a refused connection, a wrong password, an unknown service
   * fail at once rather than at the end of the wait), with a hint when plain connections were
   * dropped unanswered, as TLS-only sentinels do (`withPlainHintText`).
   */
  async first(timeoutMs: number, where: string): Promise<SentinelView> {
    const options = this.#options
    const links = [...this.#links.values()]
    try {
      const view = await within(
        Promise.any(links.map((link) => this.#ask(link, timeoutMs))),
        timeoutMs,
        `no sentinel of ${where} answered`,
      )
      this.#roster.named([view])
      return view
    } catch (error) {
      const errors = error instanceof AggregateError ? error.errors : [error]
      const last = errors[errors.length - 1]
      // Plain connections that TLS-only sentinels drop unanswered, as one server says it; not
      // once a sentinel answered (a reset since is an outage).
      const plain =
        options.clientOptions.socket?.tls !== true && !links.some((link) => link.wasReady)
      const text = this.#describe(last)
      throw new ConnectionError(
        `could not connect to ${where}: ${plain ? withPlainHintText(text, last, SENTINELS_TLS) : text}`,
        { cause: scrub(last, this.#options.secrets) },
      )
    }
  }

  /** The views of every sentinel connected now (those that answer within the query bound). */
  async all(): Promise<SentinelView[]> {
    const ready = [...this.#links.values()].filter((link) => link.client.isReady)
    const results = await Promise.allSettled(
      ready.map((link) => this.#ask(link, this.#options.queryTimeoutMs)),
    )
    const views = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))
    for (const key of this.#roster.round(views)) this.#drop(key)
    return views
  }

  /**
   * `link` could not read a reply (`isUnreadableReply`): node-redis keeps its socket and the
   * queries waiting for replies, out of step (a query would get another's reply, its handshake
   * would wait for ever). It is destroyed — its queries reject — and another connection to the
   * sentinel is opened after 100 ms, doubling up to 2 s while it garbles again within 5 s of being
   * up (`UnreadableBackoff`: a sentinel that garbles a reply after every login is not knocked at
   * in a loop).
   */
  #replace(link: Link): void {
    if (this.#closed || this.#links.get(link.key) !== link) return
    destroyClient(link.client)
    this.#later(link, link.unreadable.next(false), false)
  }

  /**
   * Opens another connection to `link`'s sentinel in `ms` (an unref'd timer, cleared by close()),
   * unless it is let go meanwhile. `keep`: `link` stays listed meanwhile (its queries fail at
   * once with its last error, and `add` does not connect to it sooner).
   */
  #later(link: Link, ms: number, keep: boolean): void {
    if (!keep) this.#links.delete(link.key)
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      if (this.#links.get(link.key) === link) this.#links.delete(link.key)
      this.#open(link.node, link)
    }, ms)
    timer.unref()
    link.retry = timer
    this.#timers.add(timer)
  }

  /** Lets the sentinel `key` go: its connection closed, its next try cancelled. */
  #drop(key: string): void {
    const link = this.#links.get(key)
    if (link === undefined) return
    this.#links.delete(key)
    if (link.retry !== undefined) {
      clearTimeout(link.retry)
      this.#timers.delete(link.retry)
    }
    if (link.client.isOpen) destroyClient(link.client)
  }

  /** Disconnects from every sentinel. */
  close(): void {
    this.#closed = true
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    for (const link of this.#links.values()) {
      if (link.client.isOpen) destroyClient(link.client)
    }
    this.#links.clear()
  }

  /** Waits (at most `timeoutMs`) for the link to be ready, then asks its view. */
  async #ask(link: Link, timeoutMs: number): Promise<SentinelView> {
    if (!link.client.isReady) await whenReady(link, timeoutMs)
    const name = this.#options.name
    const send = (args: string[]) =>
      within(
        link.client.sendCommand(args, TEXT_COMMAND_OPTIONS) as Promise<unknown>,
        this.#options.queryTimeoutMs,
        `no reply to ${args.slice(0, 2).join(' ')} from the sentinel at ${link.key}`,
      )
    const [master, replicas, sentinels] = await Promise.all([
      send(['SENTINEL', 'MASTER', name]),
      send(['SENTINEL', 'REPLICAS', name]),
      send(['SENTINEL', 'SENTINELS', name]),
    ])
    return viewOf(link.key, master, replicas, sentinels)
  }

  #onMessage(link: Link, channel: string, message: string): void {
    if (this.#closed) return
    const words = String(message).split(' ')
    if (eventMaster(channel, words) !== this.#options.name) return
    this.#options.onEvent({ channel, words, from: link.key })
  }

  /**
   * The message of `error`, passwords cut out. A sentinel refusing the handshake (`NOAUTH`,
   * `WRONGPASS`) says in words what it means and where the sentinels' password goes
   * (`sentinelOptions.password`: the URL's is the data nodes'), as one server does (see
   * `withAuthHint`).
   */
  #describe(error: unknown): string {
    return withAuthHint(
      toCachexError(error, this.#options.secrets).message,
      PASSWORD_IN_SENTINELS,
      SENTINELS_CREDENTIALS,
    )
  }
}

/** Resolves when the link is ready; rejects at its next error, or after `timeoutMs`. */
function whenReady(link: Link, timeoutMs: number): Promise<void> {
  const client = link.client
  return new Promise<void>((resolve, reject) => {
    const done = (error?: unknown) => {
      clearTimeout(timer)
      client.off('ready', onReady)
      client.off('error', onError)
      if (error === undefined) resolve()
      else reject(error)
    }
    const onReady = () => done()
    const onError = (error: unknown) => done(error)
    const timer = setTimeout(
      () =>
        done(
          link.lastError ??
            new Error(`the sentinel at ${link.key} did not answer within ${timeoutMs} ms`),
        ),
      timeoutMs,
    )
    timer.unref()
    client.on('ready', onReady)
    client.on('error', onError)
    // Its last attempt failed: do not wait for the next one (node-redis retries in the
    // background, and a later call finds it ready).
    if (link.failing) done(link.lastError)
  })
}
