// `memory://`: the in-process backend of `@cachex/connections`.
export type { MemoryOptions, MemoryStoreOptions } from './connection.ts'
export { isMemoryLocation, MemoryConnection, memory } from './connection.ts'
