// What a client pool (node-redis `RedisClientPool`) does not say by events, for `ClientLink`
// (`_standalone-link.ts`): a pool has no 'ready' and no 'end' event, so whether it is opening,
// open, or closed by the owner who handed it in is read off its `connect()` and `isOpen`.
import type { NodeRedisClientLike } from './_standalone-options.ts'

/**
 * The state of a standalone link's client pool (see the header).
 * @internal
 */
export class PoolState {
  /**
   * For a pool of the user's, whether it was open once: closed since, its owner closed it, and it
   * is not opened again. `undefined` for a pool cachex made.
   */
  #givenOpened: boolean | undefined
  /** The `connect()` of the pool in use, until it resolves (a pool has no ready event). */
  opening: Promise<unknown> | undefined
  /** The errors of its clients (each may precede a reconnection to another process). */
  errors = 0

  /** `given`: whether the pool `client` is the user's (cachex makes no other). */
  constructor(client: NodeRedisClientLike, given: boolean) {
    if (given) this.#givenOpened = client.isOpen
  }

  /**
   * Whether the pool `client` is open and not opening. A pool of the user's seen open, by its
   * owner's hand or the cache's, is one its owner closed when it is closed later.
   */
  isOpen(client: NodeRedisClientLike): boolean {
    const open = client.isOpen && this.opening === undefined
    if (open && this.#givenOpened === false) this.#givenOpened = true
    return open
  }

  /** Whether the pool `client`, a pool of the user's open once, is closed now: by its owner. */
  closedByOwner(client: NodeRedisClientLike): boolean {
    return this.#givenOpened === true && !client.isOpen
  }

  /**
   * Opens the pool `client` and records it open once `connect()` resolves: then `up()`, or
   * `down(error)` when it rejects, while `current()` says the link still uses it.
   */
  open(
    client: NodeRedisClientLike,
    current: () => boolean,
    up: () => void,
    down: (error: unknown) => void,
  ): Promise<unknown> {
    const opening = client.connect()
    this.opening = opening
    opening.then(
      () => {
        if (!current()) return
        this.opening = undefined
        if (this.#givenOpened === false) this.#givenOpened = true
        up()
      },
      (error: unknown) => {
        if (!current()) return
        this.opening = undefined
        down(error)
      },
    )
    return opening
  }
}
