export type {
  CreateKeyvOptions,
  KeyvCachexOptions,
  KeyvCachexOpts,
  KeyvSerialization,
} from './store.ts'
export { createKeyv, createKeyvStore, KeyvCachex } from './store.ts'
