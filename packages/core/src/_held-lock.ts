import { ClosedError } from './errors.ts'
import type { CacheLock, HeldLock } from './lock-types.ts'

/**
 * The `HeldLock` that `cache.acquireLock()` resolves: a `CacheLock` that was acquired, with the
 * disposal `await using` needs. Works over any lock factory's locks.
 */
export class HeldLockHandle implements HeldLock {
  readonly lock: CacheLock

  constructor(lock: CacheLock) {
    this.lock = lock
  }

  get name(): string {
    return this.lock.name
  }

  get token(): string | null {
    return this.lock.token
  }

  get fencingToken(): number | null {
    return this.lock.fencingToken
  }

  release(): Promise<void> {
    return this.lock.release()
  }

  extend(seconds: number, options?: { replaceTtl?: boolean }): Promise<boolean> {
    return this.lock.extend(seconds, options)
  }

  reacquire(): Promise<boolean> {
    return this.lock.reacquire()
  }

  locked(): Promise<boolean> {
    return this.lock.locked()
  }

  owned(): Promise<boolean> {
    return this.lock.owned()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    // Released already (by `release()`, or a release that found the lock taken over).
    if (this.lock.token === null) return
    try {
      await this.lock.release()
    } catch (error) {
      // The cache was closed before the block ended: nothing can release the lock any more, and
      // throwing would hide the block's own outcome; the lock expires by its timeout.
      if (error instanceof ClosedError) return
      throw error
    }
  }
}
