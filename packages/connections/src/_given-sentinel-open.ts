import { connectBounded, SharedAttempt } from './_connect.ts'
import { isErrorReply, ownerClosedError } from './_errors.ts'
import type { RedisSentinelLike } from './_sentinel-options.ts'

// The opening of a node-redis `RedisSentinel` the user handed in (`SentinelOpener`), owned by
// `GivenSentinelConnection`: its `connect()`, waited for within `socketConnectTimeout`, the last
// error it reported (for messages), and whether it was open once — closed since, its owner
// closed it, and it is not opened again.

/**
 * Why a `RedisSentinel` that reported no error may not connect: node-redis tells of its node
 * clients' errors — a data node refusing the password (`NOAUTH`, `WRONGPASS`) among them — only
 * with `passthroughClientErrorEvents`, and retries them meanwhile (`maxCommandRediscovers` times,
 * one a second) before its `connect()` gives up with the error.
 */
const SILENT = new Error(
  'node-redis reported no error: a RedisSentinel tells why its clients of the nodes fail (a password refused, a node unreachable) only with its option passthroughClientErrorEvents: true, else once it gives up, after maxCommandRediscovers tries a second apart',
)

/** Options of a `SentinelOpener`. */
export interface SentinelOpenerOptions {
  sentinel: RedisSentinelLike
  /** Where the sentinel is, for messages. */
  where: string
  /** How long one wait for the sentinel to connect may take (`socketConnectTimeout`). */
  connectTimeoutMs: number
  /** The passwords cut out of messages. */
  secrets: string[]
  /** The message of an error, redacted (see `GivenSentinelConnection`). */
  describe(error: unknown): string
}

/** Opens a given `RedisSentinel` (once, unless its owner closed it) and tells whether it is ready. */
export class SentinelOpener {
  readonly #options: SentinelOpenerOptions
  /** `sentinel.connect()` in flight. */
  #opening: Promise<void> | undefined
  /** One bounded wait for `#opening`, shared by the calls that arrive meanwhile. */
  readonly #connecting = new SharedAttempt()
  /** The last error the sentinel reported (or its `connect()` failed with), for messages. */
  lastError: unknown
  /**
   * Whether the sentinel was open once: closed since, its owner closed it (`close()`,
   * `destroy()`), and it is not opened again (reopened, it would keep the owner's process alive
   * after its shutdown).
   */
  #givenOpened: boolean

  constructor(options: SentinelOpenerOptions) {
    this.#options = options
    this.#givenOpened = options.sentinel.isOpen === true
  }

  /** `sentinel.connect()` in flight, if any. */
  get opening(): Promise<void> | undefined {
    return this.#opening
  }

  /** Whether a call may go: the sentinel is open, and not being opened. */
  ready(): boolean {
    return this.#options.sentinel.isOpen && this.#opening === undefined
  }

  /** The sentinel is open (its `ready` event): closed later, its owner closed it. */
  seenOpen(): void {
    this.#givenOpened = true
  }

  /** Whether the sentinel, open once, is closed now: by its owner. */
  closedByOwner(): boolean {
    return this.#givenOpened && !this.#options.sentinel.isOpen
  }

  /**
   * Waits for the sentinel to connect, at most `socketConnectTimeout`; starts connecting if
   * needed. A connection attempt that outlives the wait goes on, and later calls wait for it. A
   * sentinel its owner closed is not opened again.
   */
  connect(): Promise<void> {
    const { sentinel, where } = this.#options
    if (this.closedByOwner()) return Promise.reject(ownerClosedError(where, 'sentinel'))
    if (this.#opening === undefined && !sentinel.isOpen) {
      const opening = sentinel.connect().then(() => undefined)
      this.#opening = opening
      const clear = () => {
        if (this.#opening === opening) this.#opening = undefined
      }
      opening.then(clear, (error: unknown) => {
        this.lastError = error
        clear()
      })
    }
    const opening = this.#opening
    if (opening === undefined) return Promise.resolve()
    return this.#connecting.run(() =>
      connectBounded({
        emitter: sentinel,
        where,
        timeoutMs: this.#options.connectTimeoutMs,
        opening,
        // A sentinel or a data node refused the handshake (a wrong password, an unknown user).
        isFatal: isErrorReply,
        lastError: () => this.lastError ?? SILENT,
        setLastError: (error) => {
          this.lastError = error
        },
        describe: (error) => this.#options.describe(error),
        secrets: this.#options.secrets,
      }).then(() => {
        // Open now, by the cache's hand or its owner's: closed later, its owner closed it.
        this.#givenOpened = true
      }),
    )
  }
}
