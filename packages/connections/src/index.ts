export { FailoverError } from './_errors.ts'
export type { RedisConnectionClient, RedisConnectionClients } from './client-types.ts'
export type {
  ClusterOptions,
  NodeRedisClusterLike,
  NodeRedisClusterNodeLike,
  NodeRedisNodeClientLike,
} from './cluster.ts'
export { CrossSlotError, cluster, isNodeRedisCluster, keySlot } from './cluster.ts'
export type { ReplicaOptions } from './replica.ts'
export { replica } from './replica.ts'
export type {
  RedisSentinelLike,
  SentinelConnectionOptions,
  SentinelOptions,
} from './sentinel.ts'
export { isRedisSentinel, sentinel } from './sentinel.ts'
export type { NodeRedisClientLike, StandaloneOptions } from './standalone.ts'
export { isNodeRedisClient, standalone } from './standalone.ts'
export type { RedisAddress } from './url.ts'
export { parseRedisUrl, redactUrl } from './url.ts'
