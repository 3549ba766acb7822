// The coalescers of one cache, and the order between them: calls gathered in one tick by
// different coalescers (gets, existence checks, hash reads, sets, incrs) reach Redis in the order
// they were made, and a command sent at once does not overtake any of them.
import type { CommandRoute, Connection, RedisArgument } from './types.ts'

/**
 * Calls per coalesced read at most (keys per `MGET` or `EXISTS`, fields per `HMGET`); a tick
 * with more sends several. With 1,000 gets of distinct keys in flight, 64, 128 and 512 measured
 * within the (large) noise of a shared 2-core machine, 128 ahead in median in two runs; a bounded
 * batch also keeps one reply, and the event-loop turn that parses it, short.
 */
export const COALESCE_MAX = 128

/**
 * `connection.command(args, route)`, a synchronous throw (a broken custom connection) turned into
 * a rejection: a coalescer answers its callers from the promise alone.
 */
export function sendCommand(
  connection: Connection,
  args: RedisArgument[],
  route: CommandRoute,
): Promise<unknown> {
  try {
    // A custom connection that answers with a plain value (not a Promise) is still answered.
    return Promise.resolve(connection.command(args, route))
  } catch (error) {
    return Promise.reject(error)
  }
}

/**
 * The members of a `Connection` that send: each first sends what the coalescers gathered
 * (`close` too, so that the calls gathered before it are answered).
 */
const SENDING: ReadonlySet<PropertyKey> = new Set([
  'command',
  'batch',
  'transaction',
  'scan',
  'client',
  'flush',
  'close',
])

/**
 * `connection`, whose commands go after the calls gathered in this tick (`flush` first): the
 * connection the cache's own code, `cache.connection` and the lock and semaphore use, so that no
 * command sent at once overtakes a coalesced call made before it (a lock taken right after a
 * `getMany` of its key, a `GET` of the local tier right after a `set`). Every other member is the
 * connection's own (`storeName`, `routesBySlot`, `generation`…), its methods bound to it, and
 * `instanceof` sees its class.
 */
export function orderedConnection(connection: Connection, flush: () => void): Connection {
  const methods = new Map<PropertyKey, { of: unknown; method: unknown }>()
  // A blank target, not the connection: a Proxy must answer a non-writable, non-configurable own
  // property of its target (a frozen connection's methods) with that very value.
  const blank = Object.create(null) as Connection
  // `util.inspect` (`console.log(cache.connection)`) reads a Proxy's target without its traps:
  // it shows the connection.
  Object.defineProperty(blank, Symbol.for('nodejs.util.inspect.custom'), {
    __proto__: null,
    configurable: true,
    value: (
      _depth: number,
      options: object,
      inspect: (value: unknown, options: object) => string,
    ) => inspect(connection, options),
  } as PropertyDescriptor)
  return new Proxy(blank, {
    get(_, name) {
      const member: unknown = Reflect.get(connection, name, connection)
      // The class itself as it is (`view.constructor`); methods bound to the connection.
      if (typeof member !== 'function' || name === 'constructor') return member
      const known = methods.get(name)
      if (known !== undefined && known.of === member) return known.method
      const fn = member as (...args: unknown[]) => unknown
      const method = SENDING.has(name)
        ? (...args: unknown[]) => {
            flush()
            return fn.apply(connection, args)
          }
        : (...args: unknown[]) => fn.apply(connection, args)
      methods.set(name, { of: member, method })
      return method
    },
    // Everything else is the connection's: a property defined, changed or deleted through the
    // view is the connection's own (the blank target stays blank).
    set: (_, name, value) => Reflect.set(connection, name, value),
    has: (_, name) => Reflect.has(connection, name),
    defineProperty: (_, name, descriptor) =>
      Reflect.defineProperty(connection, name, {
        __proto__: null,
        ...descriptor,
      } as PropertyDescriptor),
    deleteProperty: (_, name) => Reflect.deleteProperty(connection, name),
    ownKeys: () => Reflect.ownKeys(connection),
    getOwnPropertyDescriptor: (_, name) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(connection, name)
      // Reported configurable: the blank target does not hold it (a Proxy's invariant).
      return descriptor === undefined ? undefined : { ...descriptor, configurable: true }
    },
    getPrototypeOf: () => Object.getPrototypeOf(connection),
    // The view stays extensible (its blank target holds the inspect hook, which its keys leave
    // out): `Object.preventExtensions` / `Object.freeze` of it fail at once, not its keys later.
    preventExtensions: () => false,
  })
}

/** What each coalescer offers: to send what it gathered so far. */
export interface Coalescer {
  flush(): void
  /**
   * The connection is about to close, after which it refuses new commands (those in flight are
   * answered): a coalescer whose calls in flight may need another command once their reply
   * comes sends it now, so that calls made before `close()` are answered.
   */
  closing?(): void
}

/** Every coalescer of a cache, and the one gathering the calls of this tick now. */
export class Gathering {
  readonly #all: Coalescer[] = []
  #current: Coalescer | undefined

  /** Registers `coalescer`, so that `flush` sends what it gathers. */
  add<C extends Coalescer>(coalescer: C): C {
    this.#all.push(coalescer)
    return coalescer
  }

  /** `coalescer`, once the calls another coalescer gathered before it are sent. */
  use<C extends Coalescer>(coalescer: C): C {
    const current = this.#current
    if (current !== coalescer) {
      current?.flush()
      this.#current = coalescer
    }
    return coalescer
  }

  /** Sends what every coalescer gathered: for a command about to be sent at once. */
  readonly flush = (): void => {
    for (const coalescer of this.#all) coalescer.flush()
  }

  /**
   * Sends what every coalescer gathered, and what its calls in flight may still need (see
   * `Coalescer.closing`): `close()` calls it right before it closes the connection.
   */
  closing(): void {
    this.flush()
    for (const coalescer of this.#all) coalescer.closing?.()
  }
}

/**
 * The calls of one tick by Redis key (keys in first-call order, each key's calls in call order),
 * handed to `send` when the microtask queue runs (no timer), at once on `flush()`, or as soon as
 * `max` calls are gathered.
 */
export class KeyedTick<W> {
  readonly #max: number
  readonly #send: (batches: [string, W[]][]) => void
  #pending: Map<string, W[]> | undefined
  /** How many calls `#pending` holds. */
  #count = 0

  constructor(max: number, send: (batches: [string, W[]][]) => void) {
    this.#max = max
    this.#send = send
  }

  /** Gathers `call` under `key`. */
  add(key: string, call: W): void {
    let pending = this.#pending
    if (pending === undefined) {
      const fresh = new Map<string, W[]>()
      this.#pending = pending = fresh
      queueMicrotask(() => this.#flush(fresh))
    }
    const calls = pending.get(key)
    if (calls === undefined) pending.set(key, [call])
    else calls.push(call)
    if (++this.#count >= this.#max) this.#flush(pending)
  }

  /** Sends what is gathered now: a command sent after it must not overtake it. */
  flush(): void {
    const pending = this.#pending
    if (pending !== undefined) this.#flush(pending)
  }

  #flush(pending: Map<string, W[]>): void {
    if (this.#pending === pending) {
      this.#pending = undefined
      this.#count = 0
    }
    // Emptied as it is sent: the microtask queued for it may come after an earlier `flush()`.
    const batches = [...pending]
    pending.clear()
    if (batches.length > 0) this.#send(batches)
  }
}
