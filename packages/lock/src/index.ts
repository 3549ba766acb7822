export type {
  AcquireLockOptions,
  AcquireOptions,
  CacheLock,
  CacheSemaphore,
  HeldLock,
  HeldPermit,
  LockFactory,
  LockOptions,
  SemaphoreFactory,
  SemaphoreOptions,
} from '@cachex/core'
export { LockError, LockNotOwnedError } from '@cachex/core'
export { Lock, lockFactory } from './lock.ts'
export { DEFAULT_SEMAPHORE_TIMEOUT, Semaphore, semaphoreFactory } from './semaphore.ts'
