import { ConnectionError } from '@cachex/core'
import { type NodeRedisClient, newClient } from './_client-factory.ts'
import { destroyClient, within } from './_connect.ts'
import { scrub, toCachexError, withPlainHintText } from './_errors.ts'
import { TEXT_COMMAND_OPTIONS } from './_options.ts'
import {
  isUnreadableReply,
  PASSWORD_IN_SENTINELS,
  refusalAwareReconnect,
  SENTINELS_CREDENTIALS,
  withAuthHint,
} from './_retry.ts'
import { UnreadableBackoff } from './_unreadable.ts'

/** A data node or a sentinel, as the sentinels report it. */
export interface NodeAddress {
  host: string
  port: number
}

/** What one sentinel says of the monitored service (`SENTINEL MASTER`, `REPLICAS`, `SENTINELS`). */
export interface SentinelView {
  /** The sentinel that answered, as `host:port`. */
  from: string
  /** The primary it knows, with its flags (`s_down`, `failover_in_progress`…). */
  master: NodeAddress & { flags: string[]; epoch: number; failoverTimeoutMs: number }
  /** The replicas it knows, with their flags. */
  replicas: Array<NodeAddress & { flags: string[] }>
  /** The other sentinels it knows. */
  sentinels: NodeAddress[]
}

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
 * one connection does both; node-redis reconnects it and subscribes again by itself.
 */
export class SentinelWatch {
  readonly #options: SentinelWatchOptions
  readonly #links = new Map<string, Link>()
  #closed = false

  constructor(options: SentinelWatchOptions) {
    this.#options = options
  }

  /** Connects to the sentinel at `host:port` unless it is known already. */
  add(node: NodeAddress): void {
    this.#open(node)
  }

  /**
   * Connects to `node` unless it is known already; `previous`: the connection to it that this
   * one replaces (`#replace`).
   */
  #open(node: NodeAddress, previous?: Link): void {
    const key = `${node.host}:${node.port}`
    if (this.#closed || this.#links.has(key)) return
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
        // A sentinel that refuses the password: tried again seldom, not every 2 s.
        reconnectStrategy: refusalAwareReconnect(),
      },
    } as never) as Client
    const link: Link = {
      key,
      client,
      subscribed: false,
      // Notifications may have been missed while it was replaced: as after a reconnection.
      wasReady: previous?.wasReady ?? false,
      failing: false,
      lastError: previous?.lastError,
      unreadable: previous?.unreadable ?? new UnreadableBackoff(),
    }
    this.#links.set(key, link)
    // An 'error' event without a listener crashes the process.
    client.on('error', (error: unknown) => {
      link.lastError = error
      if (!client.isReady) link.failing = true
      if (isUnreadableReply(error)) this.#replace(link, node)
    })
    client.on('ready', () => {
      link.failing = false
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
      return await within(
        Promise.any(links.map((link) => this.#ask(link, timeoutMs))),
        timeoutMs,
        `no sentinel of ${where} answered`,
      )
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
    return results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))
  }

  /**
   * `link` could not read a reply (`isUnreadableReply`): node-redis keeps its socket and the
   * queries waiting for replies, out of step (a query would get another's reply, its handshake
   * would wait for ever). It is destroyed — its queries reject — and another connection to the
   * sentinel is opened after 100 ms, doubling up to 2 s while it garbles again within 5 s of being
   * up (`UnreadableBackoff`: a sentinel that garbles a reply after every login is not knocked at
   * in a loop).
   */
  #replace(link: Link, node: NodeAddress): void {
    if (this.#closed || this.#links.get(link.key) !== link) return
    this.#links.delete(link.key)
    destroyClient(link.client)
    setTimeout(() => this.#open(node, link), link.unreadable.next(false)).unref()
  }

  /** Disconnects from every sentinel. */
  close(): void {
    this.#closed = true
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
    const fields = pairs(master)
    return {
      from: link.key,
      master: {
        ...address(fields),
        flags: (fields.flags ?? '').split(','),
        epoch: finiteOr(fields['config-epoch'], 0),
        failoverTimeoutMs: finiteOr(fields['failover-timeout'], 180_000),
      },
      replicas: list(replicas).map((reply) => {
        const replica = pairs(reply)
        return { ...address(replica), flags: (replica.flags ?? '').split(',') }
      }),
      sentinels: list(sentinels).map((reply) => address(pairs(reply))),
    }
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

/** A flat `[field, value, …]` reply (or a map) as an object. */
function pairs(reply: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1])
  } else if (reply instanceof Map) {
    for (const [key, value] of reply) out[String(key)] = String(value)
  } else if (typeof reply === 'object' && reply !== null) {
    for (const [key, value] of Object.entries(reply)) out[key] = String(value)
  }
  return out
}

function list(reply: unknown): unknown[] {
  return Array.isArray(reply) ? reply : []
}

/**
 * A port as a sentinel spells it (a reply's `port`, `+switch-master … <ip> <port>`): digits only,
 * else `NaN`, an invalid address (`Number()` would take `0x10`, `1e3`, `' 6379'` or `''` as 0).
 */
export function portOf(text: string | undefined): number {
  return text !== undefined && /^[0-9]{1,5}$/.test(text) ? Number(text) : Number.NaN
}

/** A node's address as a sentinel reports it; the port strictly digits (else `NaN`: invalid). */
function address(fields: Record<string, string>): NodeAddress {
  return { host: fields.ip ?? '', port: portOf(fields.port) }
}

/** A number a sentinel reports, or `fallback` where it reports something else. */
function finiteOr(text: string | undefined, fallback: number): number {
  const n = Number(text ?? fallback)
  return Number.isFinite(n) ? n : fallback
}
