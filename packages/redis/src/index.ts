export * from '@cachex/compressors'
export * from '@cachex/connections'
export * from '@cachex/core'
export { Lock, lockFactory } from '@cachex/lock'
export * from '@cachex/serializers'
export type {
  ClientName,
  CompressorName,
  CreateCacheOptions,
  SerializerName,
} from './create-cache.ts'
export { createCache } from './create-cache.ts'
export type { CacheGlobals, CachesConfig, GetRedisConnectionOptions } from './registry.ts'
export { caches, configureCaches, getRedisConnection } from './registry.ts'
