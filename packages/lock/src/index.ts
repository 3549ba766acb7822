export type {
  AcquireLockOptions,
  AcquireOptions,
  CacheLock,
  HeldLock,
  LockFactory,
  LockOptions,
} from '@cachex/core'
export { LockError, LockNotOwnedError } from '@cachex/core'
export { Lock, lockFactory } from './lock.ts'
