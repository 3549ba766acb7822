import type {
  RedisClientPoolType,
  RedisClientType,
  RedisClusterType,
  RedisSentinelType,
} from '@redis/client'

/**
 * The node-redis objects behind a cache's connection, by topology (`client` name): what
 * `connection.client()` and `getRedisConnection()` resolve. The types are node-redis's with its
 * defaults (RESP3, no modules, scripts or functions), which is how cachex creates them; a client
 * you handed in as `location` is the object you gave.
 */
export interface RedisConnectionClients {
  /**
   * One server, or a primary with read replicas (`client: 'default'`): a node-redis client, or a
   * client pool when `connectionPool` is set (or a pool was handed in).
   */
  default: RedisClientType | RedisClientPoolType
  /**
   * Redis Sentinel (`client: 'sentinel'`): the node-redis client of the current primary (or, with
   * `write: false`, of a replica in sync); node-redis's `RedisSentinel` when you handed one in.
   * The primary's client changes with a failover: ask again rather than keep it.
   */
  sentinel: RedisClientType | RedisSentinelType
  /** Redis Cluster (`client: 'cluster'`): node-redis's `RedisCluster`. */
  cluster: RedisClusterType
}

/** Any of the node-redis objects behind a cache's connection; narrow it with `client` in `getRedisConnection`. */
export type RedisConnectionClient = RedisConnectionClients[keyof RedisConnectionClients]
