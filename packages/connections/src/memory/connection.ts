// The `Connection` of `memory://`: every command cachex sends, run in this process on a `Store`.
// A blocking command's wait is `./_block.ts`.
import {
  ClosedError,
  type CommandRoute,
  type Connection,
  type ConnectionOptions,
  InvalidArgumentError,
  type RedisArgument,
} from '@cachex/core'
import {
  closestName,
  describeArgument,
  MAX_TIMER_MS,
  scanWalk,
  unknownName,
} from '@cachex/core/internal'
import { NOT_AN_ARGUMENT, notCommands } from '../_command-shape.ts'
import { ownConnectionOptions } from '../_own.ts'
import { type ReplyForm, replyForm } from '../_reply-form.ts'
import { redactUrl } from '../url.ts'
import { runBatch } from './_batch.ts'
import { BLOCKING, block } from './_block.ts'
import type { Call, CommandSpec, Wait } from './_command.ts'
import { heldKey } from './_held.ts'
import { arity, bin, fail, OOM, type Reply, shape, text } from './_reply.ts'
import { HASHES } from './hashes.ts'
import { KEYS } from './keys.ts'
import { LISTS } from './lists.ts'
import { scriptCommands } from './scripts.ts'
import { SETS } from './sets.ts'
import { acquireStore, releaseStore, type Store } from './store.ts'
import { STREAMS } from './streams.ts'
import { STRINGS } from './strings.ts'
import { ZSETS } from './zsets.ts'

/** Settings of the in-memory store (`memoryOptions` of `createCache`). */
export interface MemoryStoreOptions {
  /**
   * Most bytes the store holds (keys, values and a per-element overhead, approximately); past it,
   * the least recently used keys are evicted (Redis's `allkeys-lru`), and a write larger than the
   * bound on its own is refused with Redis's `OOM` error. `null` for no bound. A store shared by
   * name (`memory://name`) keeps the settings of the connection that created it.
   * @default 268435456 (256 MiB)
   */
  maxBytes?: number | null
  /**
   * Milliseconds between two runs of the sweep that drops expired keys nobody reads (expired keys
   * are also dropped whenever they are touched), from 0 to 2^31 − 1. As Redis's active expiry, a
   * run looks only at keys with a TTL, earliest expiry first, and works at most 25 ms; one that
   * leaves expired keys behind is followed by another sooner (the sweep taking up to a quarter of
   * the CPU) until it has caught up. 0 turns the sweep off.
   * @default 100
   */
  sweepInterval?: number
}

/** Options of `memory()`: the connection options, of which only `location` is read, and the store's. */
export interface MemoryOptions extends ConnectionOptions {
  /** `memory://` (a private store) or `memory://<name>` (shared by name within the process). */
  location?: ConnectionOptions['location']
  /** Settings of the store. */
  memoryOptions?: MemoryStoreOptions
}

const DEFAULT_MAX_BYTES = 256 * 1024 * 1024
/** Milliseconds between two runs of the expiry sweep, as Redis's `hz 10`. */
const DEFAULT_SWEEP_MS = 100
/** Arguments of one command at most: Redis's own limit on a multibulk (`INT_MAX`). */
const MAX_ARGS = 2 ** 31 - 1

/** The names `memoryOptions` takes (the compiler says when one is added to the type and not here). */
const STORE_OPTIONS = Object.keys({
  maxBytes: true,
  sweepInterval: true,
} as const satisfies Record<keyof MemoryStoreOptions, true>)

/**
 * Checks `memoryOptions`: an object of the names `MemoryStoreOptions` has, each in its range (a
 * misspelt name would otherwise leave its default silently). The settings, defaults filled in.
 */
function checkMemoryStoreOptions(options: unknown): Required<MemoryStoreOptions> {
  if (options === undefined) return { maxBytes: DEFAULT_MAX_BYTES, sweepInterval: DEFAULT_SWEEP_MS }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(
      `memoryOptions takes an object { maxBytes?, sweepInterval? }, got ${describeArgument(options)}`,
    )
  }
  const name = unknownName(options, STORE_OPTIONS)
  if (name !== undefined) {
    const meant = closestName(name, STORE_OPTIONS)
    throw new InvalidArgumentError(
      `memoryOptions takes ${STORE_OPTIONS.join(' and ')}, got an unknown option '${name}'${meant === undefined ? '' : `: did you mean '${meant}'?`}`,
    )
  }
  const settings = options as MemoryStoreOptions
  const maxBytes = settings.maxBytes === undefined ? DEFAULT_MAX_BYTES : settings.maxBytes
  if (maxBytes !== null && (!Number.isSafeInteger(maxBytes) || maxBytes < 1)) {
    throw new InvalidArgumentError(
      `memoryOptions.maxBytes must be a positive integer or null, got ${describeArgument(maxBytes)}`,
    )
  }
  const sweepInterval = settings.sweepInterval ?? DEFAULT_SWEEP_MS
  if (
    typeof sweepInterval !== 'number' ||
    !Number.isFinite(sweepInterval) ||
    sweepInterval < 0 ||
    sweepInterval > MAX_TIMER_MS
  ) {
    throw new InvalidArgumentError(
      `memoryOptions.sweepInterval must be from 0 (no sweep) to ${MAX_TIMER_MS} milliseconds (a timer's longest delay), got ${describeArgument(sweepInterval)}`,
    )
  }
  return { maxBytes, sweepInterval }
}

/** Whether `location` names the in-memory backend (`memory://…`). */
export function isMemoryLocation(location: unknown): location is string {
  return typeof location === 'string' && location.trim().toLowerCase().startsWith('memory://')
}

/**
 * The store name of a `memory://[name]` location (`''`: a private store; an `@` written as `%40`).
 * A refusal quotes the location redacted (`redactUrl`): a `memory://user:password@…` is a Redis
 * URL's credentials.
 */
export function memoryStoreName(location: string): string {
  const rest = location.trim().slice('memory://'.length)
  const name = rest.replace(/\/+$/, '')
  // An `@` is refused too: `memory://user:password@name` is a Redis URL's credentials, which
  // would otherwise be the store's name, shown where the cache's address is (the admin).
  if (name.length > 256 || /[\s/?#@]/.test(name)) {
    throw new InvalidArgumentError(
      `invalid memory location ${JSON.stringify(redactUrl(location))}: use memory:// or memory://<name> (no /, ?, #, @ or spaces)`,
    )
  }
  try {
    return decodeURIComponent(name)
  } catch {
    throw new InvalidArgumentError(
      `invalid memory location ${JSON.stringify(redactUrl(location))}: its name has a malformed %-escape (write a % as %25)`,
    )
  }
}

/**
 * A connection to an in-process Redis: `memory://` (a store of its own) or `memory://name` (the
 * store shared by every connection of that name in this process). The whole cachex API runs on
 * it — strings, hashes, lists, sets, sorted sets, streams, cachex's scripts, blocking pops — with
 * node-redis's reply shapes and Redis's error replies. No persistence, no other process, no
 * replicas, no client-side tracking (the local tier is refused), no node-redis client.
 */
export function memory(options: MemoryOptions = {}): Connection {
  return new MemoryConnection(options)
}

/** The connection `memory()` returns. */
export class MemoryConnection implements Connection {
  readonly #name: string
  readonly #store: Store
  readonly #commands: Map<string, CommandSpec>
  #closed = false
  /** Blocked calls, woken with a `ClosedError` by `close()`. */
  readonly #blocked = new Set<(error: Error) => void>()

  constructor(given: MemoryOptions = {}) {
    const options = ownConnectionOptions(given)
    const location = options.location ?? 'memory://'
    if (!isMemoryLocation(location)) {
      throw new InvalidArgumentError('memory() needs a location of memory:// or memory://<name>')
    }
    this.#name = memoryStoreName(location)
    const { maxBytes, sweepInterval } = checkMemoryStoreOptions(options.memoryOptions)
    this.#store = acquireStore(this.#name, maxBytes, sweepInterval)
    const table = new Map<string, CommandSpec>()
    for (const family of [KEYS, STRINGS, HASHES, LISTS, SETS, ZSETS, STREAMS]) {
      for (const [name, spec] of Object.entries(family)) table.set(name, spec)
    }
    const now = { value: 0 }
    this.#now = now
    for (const [name, spec] of Object.entries(
      scriptCommands((command, args) => this.#run(command, args, now.value)),
    )) {
      table.set(name, spec)
    }
    this.#commands = table
  }

  /** The time of the command running (scripts run their commands at it). */
  readonly #now: { value: number }

  /** The store's name (`''` for a private store). */
  get storeName(): string {
    return this.#name
  }

  command(args: RedisArgument[], route?: CommandRoute): Promise<unknown> {
    try {
      const reply = this.#step(args, replyForm(route))
      return reply instanceof Promise ? reply : Promise.resolve(reply)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Runs the commands in order, as a pipeline: one that blocks holds those behind it (`_batch.ts`). */
  async batch(commands: RedisArgument[][], route?: CommandRoute): Promise<unknown[]> {
    if (this.#closed) throw this.#closedError()
    const wrong = notCommands(commands, 'batch', this.#where())
    if (wrong !== undefined) throw wrong
    const asText = replyForm(route)
    return runBatch(commands, (args) => this.#step(args, asText))
  }

  /** Runs one command: its reply, or a promise of it when it blocks. Throws what it failed with. */
  #step(args: RedisArgument[], asText: ReplyForm): unknown {
    if (this.#closed) throw this.#closedError()
    try {
      const name = this.#name_(args)
      const rest = args.slice(1).map(bin)
      const wait = this.#wait(name, rest, false)
      if (wait !== undefined) return block(this.#store, this.#blocked, wait, rest, asText)
      return shape(this.#top(name, rest), asText)
    } finally {
      // As Redis after each command: the calls blocked on the keys it wrote are served now, before
      // any other command runs (a pipeline's next one included).
      this.#store.serveReady()
    }
  }

  /**
   * Runs the commands as one transaction: nothing else runs in between (this process runs them
   * in one go). An unknown command or a wrong number of arguments aborts it (`EXECABORT`) before
   * any runs; an error while running is that command's entry, and the others still run.
   */
  async transaction(commands: RedisArgument[][], route?: CommandRoute): Promise<unknown[]> {
    if (this.#closed) throw this.#closedError()
    const wrong = notCommands(commands, 'transaction', this.#where())
    if (wrong !== undefined) throw wrong
    const parsed = commands.map((args) => {
      const name = this.#name_(args)
      return { name, args: args.slice(1).map(bin) }
    })
    for (const { name, args } of parsed) this.#spec(name, args)
    const asText = replyForm(route)
    try {
      return parsed.map(({ name, args }) => {
        try {
          // A blocking command runs once, as its non-blocking form (Redis does not block in MULTI).
          return shape(this.#top(name, args, false), asText)
        } catch (error) {
          return error
        }
      })
    } finally {
      // Nothing is evicted between its commands: a later one reads what an earlier one wrote; the
      // calls blocked on its keys are served before (`fit` serves them first).
      this.#store.fit()
      // Blocked calls are served once the whole transaction ran, from the keys in the order it
      // first wrote them.
      this.#store.serveReady()
    }
  }

  scan(pattern: string, count: number): AsyncIterable<Array<string | Buffer>> {
    return scanWalk((args) => this.command(args), pattern, count)
  }

  async flush(): Promise<void> {
    await this.command(['FLUSHDB'])
  }

  async client(): Promise<unknown> {
    throw new InvalidArgumentError(
      'a memory:// connection has no node-redis client: it runs in this process (use cache.connection.command() for raw commands)',
    )
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const error = this.#closedError()
    for (const wake of [...this.#blocked]) wake(error)
    this.#blocked.clear()
    releaseStore(this.#name, this.#store)
  }

  #closedError(): ClosedError {
    return new ClosedError(`the connection to ${this.#where()} is closed`)
  }

  /** The location, for messages. */
  #where(): string {
    return this.#name === '' ? 'memory://' : `memory://${this.#name}`
  }

  /**
   * The command's name, upper-cased. A command that is not a non-empty array is refused as the
   * Redis connections refuse it (`commandWeight`), not answered as a server would.
   */
  #name_(args: RedisArgument[]): string {
    const first = Array.isArray(args) ? args[0] : undefined
    if (first === undefined) {
      throw new InvalidArgumentError(`the command not sent to ${this.#where()}: ${NOT_AN_ARGUMENT}`)
    }
    if (args.length > MAX_ARGS) throw fail('ERR Protocol error: invalid multibulk length')
    return text(bin(first)).toUpperCase()
  }

  #spec(name: string, args: readonly string[]): CommandSpec {
    const spec = this.#commands.get(name)
    if (spec === undefined) {
      // Redis quotes the arguments here; the Redis path's errors say what `redact` (_errors.ts)
      // leaves of them, and so does this one: an AUTH or a CONFIG SET may hold a password.
      throw fail(`ERR unknown command '${name}', with args beginning with: (arguments redacted)`)
    }
    const count = args.length + 1
    if (spec.arity >= 0 ? count !== spec.arity : count < -spec.arity) throw arity(name)
    return spec
  }

  #call(args: readonly string[], now: number): Call {
    return { store: this.#store, now, args }
  }

  /**
   * Runs one command sent by the caller: bounded, then evicting past `maxBytes` (unless `fit` is
   * false: a transaction evicts once it ran, as a server evicts before a command, not in EXEC).
   */
  #top(name: string, args: readonly string[], fit = true): Reply {
    const spec = this.#spec(name, args)
    const max = this.#store.maxBytes
    if (spec.write === true && max !== null) {
      let size = 0
      for (const a of args) size += a.length
      if (size > max) throw fail(OOM)
    }
    const now = Date.now()
    const saved = this.#now.value
    this.#now.value = now
    try {
      const reply = spec.run(this.#call(args, now))
      // A lock or semaphore just taken is not evicted while held (as on a default Redis).
      const held = heldKey(name, args, reply)
      if (held !== undefined) this.#store.hold(held)
      // Serves the calls blocked on the keys written before it evicts (`_evict.ts`): an item
      // pushed to a list a BLPOP waits on goes to it, not to eviction.
      if (fit && spec.write === true) this.#store.fit()
      return reply
    } finally {
      this.#now.value = saved
    }
  }

  /** A command run inside a script (same time, no eviction until the script ends). */
  #run(name: string, args: string[], now: number): Reply {
    const spec = this.#spec(name, args)
    this.#wait(name, args, true, now)
    return spec.run(this.#call(args, now))
  }

  /**
   * The wait of a blocking call (BLPOP…, XREAD BLOCK…), or `undefined` when it runs as a plain
   * command. In a script (`script`), throws the error Redis gives a blocking form there.
   */
  #wait(
    name: string,
    args: readonly string[],
    script: boolean,
    now = Date.now(),
  ): Wait | undefined {
    const blocking = BLOCKING.get(name)
    if (blocking === undefined) return undefined
    this.#spec(name, args)
    return blocking.wait(this.#call(args, now), script)
  }
}
