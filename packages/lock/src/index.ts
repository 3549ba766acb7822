export type { AcquireOptions, CacheLock, LockFactory, LockOptions } from '@cachex/core'
export { LockError, LockNotOwnedError } from '@cachex/core'
export { Lock, lockFactory } from './lock.ts'
