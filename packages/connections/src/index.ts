export type { NodeRedisClientLike, StandaloneOptions } from './standalone.ts'
export { isNodeRedisClient, standalone } from './standalone.ts'
export type { RedisAddress } from './url.ts'
export { parseRedisUrl, redactUrl } from './url.ts'
