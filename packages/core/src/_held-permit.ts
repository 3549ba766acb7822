import { ClosedError } from './errors.ts'
import type { CacheSemaphore, HeldPermit } from './semaphore-types.ts'

/**
 * The `HeldPermit` that `cache.acquirePermit()` resolves: a `CacheSemaphore` holding its
 * permits, with the disposal `await using` needs (as `HeldLockHandle` for locks).
 */
export class HeldPermitHandle implements HeldPermit {
  readonly semaphore: CacheSemaphore

  constructor(semaphore: CacheSemaphore) {
    this.semaphore = semaphore
  }

  get name(): string {
    return this.semaphore.name
  }

  get token(): string | null {
    return this.semaphore.token
  }

  release(): Promise<void> {
    return this.semaphore.release()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    // Released already (by `release()`, or a release that found the permits given away).
    if (this.semaphore.token === null) return
    try {
      await this.semaphore.release()
    } catch (error) {
      // The cache was closed before the block ended: the permits expire by their timeout, and
      // throwing would hide the block's own outcome.
      if (error instanceof ClosedError) return
      throw error
    }
  }
}
