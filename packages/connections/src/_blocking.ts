import { ClosedError, ConnectionError, type RedisArgument, ResponseError } from '@cachex/core'
import { rejectAfterTurn } from './_after-turn.ts'
import { OpeningBackoff } from './_blocking-backoff.ts'
import { commandWeight, nameOf } from './_command-shape.ts'
import { destroyClient, within } from './_connect.ts'
import type { Deadlines } from './_deadlines.ts'
import { isErrorReply } from './_errors.ts'
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
  /**
   * Sends `CLIENT UNBLOCK <id>` on the connection's own client to the node (how `close()` ends
   * a blocked call without dropping a value the server hands it meanwhile); `undefined` when
   * that client is not up. Without it, `close()` destroys the clients of the calls in flight.
   */
  unblock?: (id: string) => Promise<unknown> | undefined
}

interface Lease {
  client: BlockingClient
  sender: Sender<Pick<BlockingClient, 'sendCommand'>>
  idleTimer: NodeJS.Timeout | undefined
  /**
   * Its `CLIENT ID`, asked along with its first command (one write, no round trip of its own);
   * resolves `undefined` when the server did not tell it.
   */
  id: Promise<string | undefined> | undefined
  /** Settles once the call running on it is done with it (given back or dropped). */
  done: Promise<void> | undefined
}

/** Idle dedicated clients kept per node for the next blocking calls. */
const MAX_IDLE = 4
/** An idle dedicated client is closed after this long unused. */
const IDLE_MS = 30_000
/**
 * How long `close()` waits for the answer to a `CLIENT UNBLOCK` (at most `socketTimeout`): a
 * server that does not answer a command this short is taken as frozen, and the client destroyed.
 */
const UNBLOCK_MS = 1000
/** The longest pause between two `CLIENT UNBLOCK` of one client whose command is on its way. */
const UNBLOCK_RETRY_MS = 50

/**
 * The dedicated clients of one node for blocking commands: a call takes an idle one (or opens
 * one, within `socketConnectTimeout`), runs its command bounded by `socketTimeout + blockMs`, and
 * gives the client back — unless the call timed out or the connection failed, in which case the
 * client is destroyed (a timed-out blocking command must not linger on the server). At most
 * `MAX_IDLE` idle clients are kept, each for `IDLE_MS`. `close()` unblocks the calls in flight
 * rather than dropping their clients (see `close`). An opening the server refuses fails at once,
 * and the calls that would open one fail at once for a short backoff after it (see `#open`).
 */
export class BlockingClients {
  readonly #options: BlockingClientsOptions
  readonly #idle: Lease[] = []
  readonly #busy = new Set<Lease>()
  /** How to cut short each opening under way (see `#open`), with `ClosedError` by default. */
  readonly #opening = new Set<(reason?: Error) => void>()
  #closed = false
  /** The server refused `CLIENT ID` (an ACL user without it): not asked again. */
  #noClientId = false
  /** After a refused opening, the calls that would open a client fail at once (see `#open`). */
  readonly #backoff = new OpeningBackoff()

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
    const refused = deadlines.refuse(weight, nameOf(args), where)
    if (refused !== undefined) return rejectAfterTurn(refused)
    const lease = await this.#take()
    if (this.#closed) {
      // Closed after the client was taken, before its command was sent.
      this.#destroy(lease)
      throw this.#closedError()
    }
    this.#busy.add(lease)
    let finish = () => {}
    lease.done = new Promise((resolve) => {
      finish = resolve
    })
    try {
      const sender = lease.sender.as(text)
      this.#askId(lease)
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
      // Unblocked by close() with nothing: it ends as every call close() ends.
      if (reply === null && this.#closed) throw this.#closedError()
      return reply
    } catch (error) {
      // A reply of the server leaves the client as good as before; anything else may not.
      if (error instanceof ResponseError) this.#giveBack(lease)
      else this.#drop(lease)
      throw error
    } finally {
      finish()
    }
  }

  /**
   * Destroys every dedicated client now (their connection was reset: see
   * `StandaloneConnection.reset`): a call in flight rejects at once, its outcome unknown (the
   * server may have served it); a call still opening a client rejects with `reason`, unsent.
   * Later calls open new clients.
   */
  reset(reason: Error): void {
    for (const lease of this.#idle.splice(0)) this.#destroy(lease)
    for (const cut of this.#opening) cut(reason)
    this.#opening.clear()
    for (const lease of this.#busy) this.#destroy(lease)
  }

  /**
   * Closes every dedicated client. The calls still opening one reject with `ClosedError` at once
   * (not after `socketConnectTimeout`). A call in flight is unblocked (`CLIENT UNBLOCK` on the
   * connection's own client), not dropped: the server may have handed it a value already — a
   * popped item, off its list — which would be lost with the client. Its reply is awaited (at
   * most `socketTimeout`): the value when one came, else it rejects with `ClosedError`. Where
   * that cannot be done — no client ID, the connection's client down, `CLIENT UNBLOCK` refused
   * (an ACL user without it) or unanswered within `UNBLOCK_MS` (a frozen server) — the client is
   * destroyed at once, as a timed-out one is. Resolves once every call in flight is done; never
   * rejects.
   */
  close(): Promise<void> {
    this.#closed = true
    for (const lease of this.#idle.splice(0)) this.#destroy(lease)
    for (const cut of this.#opening) cut()
    this.#opening.clear()
    const busy = [...this.#busy]
    return Promise.all(busy.map((lease) => this.#unblock(lease))).then(() => undefined)
  }

  /** Asks the client's `CLIENT ID` once, pipelined before its command (see `close`). */
  #askId(lease: Lease): void {
    if (lease.id !== undefined || this.#noClientId || this.#options.unblock === undefined) return
    lease.id = lease.sender
      .as(true)
      .sendCommand(['CLIENT', 'ID'])
      .then(
        (id) => (/^[0-9]+$/.test(String(id)) ? String(id) : undefined),
        (error: unknown) => {
          // Refused (an ACL user without it, a server without it): each try would be one more
          // entry of the ACL log. Any other failure shows in the command's reply.
          if (isErrorReply(error)) this.#noClientId = true
          return undefined
        },
      )
  }

  /**
   * Ends the call in flight on `lease` for `close()` (see there), then destroys the client.
   * `CLIENT UNBLOCK` answers 1 when the call was blocked: its empty reply is on its way. It
   * answers 0 when the server served it already (its reply is on its way) — or when its command
   * is still on its way to the server, not blocked yet: asked again after a pause until the reply
   * comes, for at most `socketTimeout`.
   */
  async #unblock(lease: Lease): Promise<void> {
    const { unblock, deadlines, connectTimeoutMs } = this.#options
    const { id, done } = lease
    try {
      if (unblock === undefined || id === undefined || done === undefined) return
      const started = performance.now()
      const boundMs = deadlines.timeoutMs ?? connectTimeoutMs
      const answerMs = Math.min(boundMs, UNBLOCK_MS)
      const known = await within(id, answerMs, 'CLIENT ID')
      if (known === undefined) return
      for (let pause = 1; ; pause = Math.min(pause * 2, UNBLOCK_RETRY_MS)) {
        const sent = unblock(known)
        if (sent === undefined) return
        const unblocked = Number(await within(sent, answerMs, 'CLIENT UNBLOCK')) === 1
        const leftMs = boundMs - (performance.now() - started)
        if (await settlesWithin(done, unblocked ? leftMs : Math.min(pause, leftMs))) return
        if (unblocked || leftMs <= 0) return
      }
    } catch {
      // Refused, or not answered in time (a frozen server): destroyed below, as a timed-out call
      // is — a value the server hands it meanwhile is lost (see docs/configuration.md).
    } finally {
      this.#drop(lease)
    }
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
   * hold it for the whole connect timeout after the connection was closed); `reset()` too, with
   * its reason (a frozen primary would otherwise take the command as it wakes). The client's
   * first error (a refused or reset connection, a refused handshake: `max number of clients
   * reached`), which node-redis would retry until the timeout, rejects at once naming it, as
   * `connectBounded` does; then the calls that would open a client reject at once, marked
   * unsent, for `reconnectDelay` (a refused handshake's 10 s), before one tries (`OpeningBackoff`).
   */
  async #open(): Promise<Lease> {
    const { make, connectTimeoutMs, mapError, where } = this.#options
    this.#backoff.check()
    const failure = (error: unknown) => {
      if (this.#closed) return this.#closedError()
      const typed = mapError(error)
      return new ConnectionError(
        `could not open a connection to ${where} for a blocking command: ${typed.message}`,
        { cause: typed.cause ?? typed },
      )
    }
    let client: BlockingClient | undefined
    let phase = 'opening' as 'opening' | 'refused' | 'done'
    let cut!: (reason?: Error) => void
    const closing = new Promise<never>((_, reject) => {
      cut = (reason) => {
        if (phase === 'opening') phase = 'done'
        if (client !== undefined) destroyClient(client)
        reject(reason ?? this.#closedError())
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
    let refuse!: (error: unknown) => void
    const refusing = new Promise<never>((_, reject) => {
      refuse = (error) => {
        if (phase !== 'opening') return
        phase = 'refused'
        reject(error)
      }
    })
    // An 'error' event without a listener crashes the process: the first ends the opening, and
    // the call in flight reports those that come once it is open.
    client.on('error', refuse)
    try {
      const connecting = client.connect()
      connecting.catch(refuse)
      await Promise.race([
        within(connecting, connectTimeoutMs, `connecting to ${where}`),
        closing,
        refusing,
      ])
    } catch (error) {
      const refused = phase === 'refused'
      phase = 'done'
      destroyClient(client)
      const failed = failure(error)
      if (refused && !this.#closed && failed instanceof ConnectionError) {
        this.#backoff.refused(failed)
      }
      throw failed
    } finally {
      phase = 'done'
      this.#opening.delete(cut)
    }
    this.#backoff.opened()
    const opened = client
    const lease: Lease = {
      client: opened,
      sender: new Sender(opened, (options) => ({
        sendCommand: (args: ReadonlyArray<RedisArgument>, chain?: object) =>
          opened.sendCommand(args, chain === undefined ? options : { ...options, ...chain }),
      })),
      idleTimer: undefined,
      id: undefined,
      done: undefined,
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

/** Whether `promise` settles within `ms` (now, for `ms` ≤ 0 when it has not). */
function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, ms))
    }),
  ]).finally(() => clearTimeout(timer))
}
