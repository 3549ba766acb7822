// `@cachex/connections/internal`: what cachex's own packages share (the umbrella recognises a
// handed-in node-redis object and parses `location` as the topologies do) and users need not
// see. No semver promise: these names may change in any release.
export { DEFAULT_URL, parseLocation } from './_location.ts'
export type {
  NodeRedisClusterLike,
  NodeRedisClusterNodeLike,
  NodeRedisNodeClientLike,
} from './cluster.ts'
export { isNodeRedisCluster } from './cluster.ts'
export { isMemoryLocation } from './memory/index.ts'
export type { RedisSentinelLike } from './sentinel.ts'
export { isRedisSentinel } from './sentinel.ts'
export type { NodeRedisClientLike } from './standalone.ts'
export { isNodeRedisClient } from './standalone.ts'
