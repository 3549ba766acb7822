// The addresses the sentinels report (`SENTINEL MASTER`, `REPLICAS`, `SENTINELS`,
// `+switch-master`), checked before cachex connects to them: a sentinel with a broken
// configuration, or a hostile one, may name a port no server has, or list thousands of replicas.
import { isIPv6 } from 'node:net'
import { ConnectionError } from '@cachex/core'
import { markUnsent } from '@cachex/core/internal'
import type { NodeAddress, SentinelView } from './_sentinels.ts'

/**
 * The most replicas, and the most sentinels, taken from one sentinel's view: the first ones it
 * lists with a valid address, each once. A longer list (a broken or hostile sentinel) would have
 * cachex open a connection to every node it names.
 */
export const MAX_NODES_PER_VIEW = 64

/** The longest host (or port) text a message quotes. */
const SHOWN_CHARS = 64

/**
 * A host name or an IP address as a sentinel reports one (IPv6 without brackets): nothing that
 * would change the URL cachex connects with (`@`, `/`, `?`, `#`, `[`, spaces…).
 */
const HOST = /^[A-Za-z0-9._:-]{1,255}$/

/**
 * An IPv6 address with a zone ID (`fe80::1%eth0`: the interface of a link-local address), which
 * Node's `net.connect` takes as it is: the address, then a zone of 1 to 64 letters, digits, `_`,
 * `.` or `-` (an interface name or index) — nothing a URL or a log line would read otherwise.
 */
const ZONED = /^([0-9A-Fa-f:.]{2,45})%([A-Za-z0-9_.-]{1,64})$/

/** Whether `host` is a host name or an IP address, IPv6 with a zone ID too (`ZONED`). */
function validHost(host: string): boolean {
  if (HOST.test(host)) return true
  const zoned = ZONED.exec(host)
  return zoned !== null && isIPv6(zoned[1] as string)
}

/**
 * Why `node`, an address a sentinel reported, is none a server can have: its host is empty or not
 * a host name or IP address (an IPv6 one may carry a zone ID: `fe80::1%eth0`), or its port is
 * not an integer in 1..65535. `undefined` when it is valid.
 */
export function invalidAddress(node: NodeAddress): string | undefined {
  const { host, port } = node
  if (typeof host !== 'string' || host === '') return 'it names no host'
  if (!validHost(host)) return 'its host is no host name or IP address'
  if (typeof port !== 'number' || Number.isNaN(port)) return 'its port is not a number'
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return `its port ${shown(String(port))} is not an integer in 1..65535`
  }
  return undefined
}

/** `host:port` for a message: the host cut to `SHOWN_CHARS`, control characters escaped. */
export function showAddress(node: NodeAddress): string {
  return `${shown(String(node.host))}:${shown(String(node.port))}`
}

/** `text` cut to `SHOWN_CHARS`, quoted as JSON when it holds anything but plain characters. */
function shown(text: string): string {
  const cut = text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text
  return /^[\x21-\x7e…]*$/.test(cut) ? cut : JSON.stringify(cut)
}

/**
 * The nodes of `listed` to connect to: those with a valid address (`invalidAddress`), each
 * `host:port` once, none of `skip`, at most `MAX_NODES_PER_VIEW`, in the order listed.
 */
export function nodesToUse<T extends NodeAddress>(
  listed: readonly T[],
  skip: ReadonlySet<string> = new Set(),
): T[] {
  const taken = new Map<string, T>()
  for (const node of listed) {
    if (taken.size >= MAX_NODES_PER_VIEW) break
    if (invalidAddress(node) !== undefined) continue
    const id = `${node.host}:${node.port}`
    if (!skip.has(id) && !taken.has(id)) taken.set(id, node)
  }
  return [...taken.values()]
}

/**
 * The error of a discovery whose sentinels named no valid primary for the service `name` (`first`:
 * the view of the first that answered): no call was sent, and the sentinels are asked again in
 * the background.
 */
export function invalidPrimaryError(name: string, first: SentinelView): ConnectionError {
  const reason = invalidAddress(first.master) ?? 'cachex could not connect to it'
  return markUnsent(
    new ConnectionError(
      `no primary known for sentinel service '${shown(name)}': the sentinel at ${shown(first.from)} reported an invalid address for it, ${showAddress(first.master)} (${reason}); asking the sentinels again`,
    ),
  )
}

/**
 * Items handled in the order given, a few per turn of the event loop: for at most `budgetMs` of
 * each turn (at least one item). Making a node-redis client takes tens of milliseconds, so
 * opening connections to every replica a sentinel lists in one go would block the process.
 */
export class PacedQueue<T> {
  readonly #handle: (item: T) => boolean
  readonly #handled: () => void
  readonly #budgetMs: number
  #items: T[] = []
  #turn: NodeJS.Immediate | undefined

  /**
   * `handle` handles one item (`true`: it did something); `handled` is called after a turn in
   * which one did.
   */
  constructor(handle: (item: T) => boolean, handled: () => void, budgetMs = 10) {
    this.#handle = handle
    this.#handled = handled
    this.#budgetMs = budgetMs
  }

  /** Handles `items` from the next turn on, in place of those still waiting. */
  replace(items: T[]): void {
    this.#items = items
    if (items.length > 0) this.#turn ??= setImmediate(() => this.#run())
  }

  /** Drops the items still waiting. */
  clear(): void {
    clearImmediate(this.#turn)
    this.#turn = undefined
    this.#items = []
  }

  #run(): void {
    this.#turn = undefined
    const until = performance.now() + this.#budgetMs
    let did = false
    do {
      const item = this.#items.shift()
      if (item === undefined) break
      if (this.#handle(item)) did = true
    } while (performance.now() < until)
    if (this.#items.length > 0) this.#turn = setImmediate(() => this.#run())
    if (did) this.#handled()
  }
}
