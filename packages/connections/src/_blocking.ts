import { ClosedError, ConnectionError, type RedisArgument, ResponseError } from '@cachex/core'
import { destroyClient, within } from './_connect.ts'
import { commandWeight, type Deadlines } from './_deadlines.ts'
import { type ReplyForm, Sender } from './_options.ts'

// Blocking commands (`CommandRoute.blockMs`: XREAD BLOCK, BLPOP…) on clients of their own. Redis
// answers one client's commands in order, so a command that waits on the server for data holds
// up every command sent after it on the same connection: on the shared client of a cache, a
// 2-second XREAD BLOCK would make each call behind it wait, time out and reset the connection.
// Each blocking call therefore borrows a dedicated client of the same node, kept for the next one
// once it answered.

/** What a dedicated client must offer: a node-redis client (`createClient`, `duplicate()`). */
export interface BlockingClient {
  sendCommand(args: ReadonlyArray<RedisArgument>, options?: object): Promise<unknown>
  connect(): Promise<unknown>
  destroy(): void
  on(event: string, listener: (...args: unknown[]) => void): unknown
  once?(event: 'connect', listener: () => void): unknown
  readonly isOpen: boolean
  readonly isReady?: boolean
}

/** What `BlockingClients` needs of its connection. */
export interface BlockingClientsOptions {
  /** Makes a new client of the node (not connected yet); may ask the server first. */
  make: () => BlockingClient | Promise<BlockingClient>
  /** `socketConnectTimeout`, in milliseconds: how long opening a client may take. */
  connectTimeoutMs: number
  /** The connection's deadlines: they bound each call by `socketTimeout` plus its block. */
  deadlines: Deadlines
  /** The connection's error mapping (passwords redacted, closed connections named). */
  mapError: (error: unknown) => Error
  /** Where the node is, for messages (password redacted). */
  where: string
}

interface Lease {
  client: BlockingClient
  sender: Sender<Pick<BlockingClient, 'sendCommand'>>
  idleTimer: NodeJS.Timeout | undefined
}

/** Idle dedicated clients kept per node for the next blocking calls. */
const MAX_IDLE = 4
/** An idle dedicated client is closed after this long unused. */
const IDLE_MS = 30_000

/**
 * The dedicated clients of one node for blocking commands: a call takes an idle one (or opens
 * one, within `socketConnectTimeout`), runs its command bounded by `socketTimeout + blockMs`, and
 * gives the client back — unless the call timed out or the connection failed, in which case the
 * client is destroyed (a timed-out blocking command must not linger on the server). At most
 * `MAX_IDLE` idle clients are kept, each for `IDLE_MS`.
 */
export class BlockingClients {
  readonly #options: BlockingClientsOptions
  readonly #idle: Lease[] = []
  readonly #busy = new Set<Lease>()
  /** How to cut short each opening under way (see `#open`). */
  readonly #opening = new Set<() => void>()
  #closed = false

  constructor(options: BlockingClientsOptions) {
    this.#options = options
  }

  /**
   * Runs one blocking command on a dedicated client; resolves its raw reply. With `asking`, the
   * command goes right after `ASKING` on the same client (how it follows an `ASK` to the node
   * that imports its slot); the call is bounded by `socketTimeout + blockMs` from now.
   */
  async run(
    args: RedisArgument[],
    text: ReplyForm,
    blockMs: number,
    asking = false,
  ): Promise<unknown> {
    const { deadlines, mapError, where } = this.#options
    const weight = commandWeight(args)
    const refused = deadlines.refuse(weight, args[0] as RedisArgument, where)
    if (refused !== undefined) throw refused
    const lease = await this.#take()
    this.#busy.add(lease)
    try {
      const sender = lease.sender.as(text)
      const chain = asking ? { chainId: Symbol('ASKING') } : undefined
      // Its failure shows in the reply (no ASKING, no answer to the command).
      if (chain !== undefined) sender.sendCommand(['ASKING'], chain).catch(() => {})
      // Weightless in maxInFlightBytes once sent: it waits on a client of its own, holding up no
      // other call, and a worker's endless BLPOP would otherwise keep the connection from ever
      // being idle for a command larger than the cap.
      const reply = await deadlines.track(
        sender.sendCommand(args, chain),
        String(args[0]),
        mapError,
        0,
        blockMs,
      )
      this.#giveBack(lease)
      return reply
    } catch (error) {
      // A reply of the server leaves the client as good as before; anything else may not.
      if (error instanceof ResponseError) this.#giveBack(lease)
      else this.#drop(lease)
      throw error
    }
  }

  /**
   * Closes every dedicated client; the calls on them reject, and so do the calls still opening
   * one (with `ClosedError`, at once: not after `socketConnectTimeout`).
   */
  close(): void {
    this.#closed = true
    for (const lease of this.#idle.splice(0)) this.#destroy(lease)
    for (const lease of this.#busy) this.#destroy(lease)
    this.#busy.clear()
    for (const cut of this.#opening) cut()
    this.#opening.clear()
  }

  async #take(): Promise<Lease> {
    if (this.#closed) throw this.#closedError()
    for (let lease = this.#idle.pop(); lease !== undefined; lease = this.#idle.pop()) {
      clearTimeout(lease.idleTimer)
      lease.idleTimer = undefined
      if (lease.client.isReady !== false) return lease
      this.#destroy(lease)
    }
    return this.#open()
  }

  /**
   * Opens a dedicated client within `socketConnectTimeout`. `close()` cuts an opening short: the
   * client is destroyed and the call rejects with `ClosedError` (a frozen server would otherwise
   * hold it for the whole connect timeout after the connection was closed).
   */
  async #open(): Promise<Lease> {
    const { make, connectTimeoutMs, mapError, where } = this.#options
    const failure = (error: unknown) => {
      if (this.#closed) return this.#closedError()
      const typed = mapError(error)
      return new ConnectionError(
        `could not open a connection to ${where} for a blocking command: ${typed.message}`,
        { cause: typed.cause ?? typed },
      )
    }
    let client: BlockingClient | undefined
    let cut!: () => void
    const closing = new Promise<never>((_, reject) => {
      cut = () => {
        if (client !== undefined) destroyClient(client)
        reject(this.#closedError())
      }
    })
    this.#opening.add(cut)
    try {
      // Not connected yet: a client made after the time ran out holds no socket.
      client = await Promise.race([
        within(Promise.resolve().then(make), connectTimeoutMs, `connecting to ${where}`),
        closing,
      ])
    } catch (error) {
      this.#opening.delete(cut)
      throw failure(error)
    }
    // An 'error' event without a listener crashes the process; the call in flight reports it.
    client.on('error', () => undefined)
    try {
      await Promise.race([
        within(client.connect(), connectTimeoutMs, `connecting to ${where}`),
        closing,
      ])
    } catch (error) {
      destroyClient(client)
      throw failure(error)
    } finally {
      this.#opening.delete(cut)
    }
    const opened = client
    const lease: Lease = {
      client: opened,
      sender: new Sender(opened, (options) => ({
        sendCommand: (args: ReadonlyArray<RedisArgument>, chain?: object) =>
          opened.sendCommand(args, chain === undefined ? options : { ...options, ...chain }),
      })),
      idleTimer: undefined,
    }
    if (this.#closed) {
      this.#destroy(lease)
      throw this.#closedError()
    }
    return lease
  }

  #closedError(): ClosedError {
    return new ClosedError(`the connection to ${this.#options.where} is closed`)
  }

  #giveBack(lease: Lease): void {
    this.#busy.delete(lease)
    if (this.#closed || this.#idle.length >= MAX_IDLE) {
      this.#destroy(lease)
      return
    }
    lease.idleTimer = setTimeout(() => {
      const at = this.#idle.indexOf(lease)
      if (at !== -1) this.#idle.splice(at, 1)
      this.#destroy(lease)
    }, IDLE_MS).unref()
    this.#idle.push(lease)
  }

  #drop(lease: Lease): void {
    this.#busy.delete(lease)
    this.#destroy(lease)
  }

  #destroy(lease: Lease): void {
    clearTimeout(lease.idleTimer)
    try {
      destroyClient(lease.client)
    } catch {
      // Already closed.
    }
  }
}
