export type { CreateKeyvOptions } from './create-keyv.ts'
export { createKeyv } from './create-keyv.ts'
export type { KeyvCachexOptions, KeyvCachexOpts, KeyvSerialization } from './store.ts'
export { createKeyvStore, KeyvCachex } from './store.ts'
