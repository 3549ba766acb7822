export { DEFAULT_MAX_VALUE_SIZE, MAX_INTEGER_DIGITS, MAX_JSON_DEPTH } from './_limits.ts'
export type { LocalStats } from './_local-tier.ts'
export { Cache } from './cache.ts'
export type { CacheLike, ManyKeys } from './cache-like.ts'
export type {
  CacheOptions,
  GetOrSetOptions,
  IncrOptions,
  LocalOptions,
  MoveOptions,
  OrIgnored,
  ScanOptions,
  SetOptions,
  StoreOptions,
  TimeoutOption,
  VersionOption,
} from './cache-options.ts'
export type { MemberScanOptions } from './commands/_scan.ts'
export type { HashCommands } from './commands/hashes.ts'
export type {
  KeyHelperCommands,
  KeyType,
  RenameOptions,
  SlowlogEntry,
} from './commands/key-helpers.ts'
export type { ListCommands, ListPosition, ListSide, LPosOptions } from './commands/lists.ts'
export type { SemaphoreCommands } from './commands/semaphore.ts'
export type { SetCommands } from './commands/sets.ts'
export type {
  ScoreBound,
  ZAddMembers,
  ZAddOptions,
  ZRangeByScoreOptions,
  ZRangeOptions,
  ZRevRangeOptions,
} from './commands/sorted-set-options.ts'
export type { SortedSetCommands } from './commands/sorted-sets.ts'
export type { StreamGroupCommands } from './commands/stream-groups.ts'
export type {
  StreamEntry,
  StreamInfo,
  StreamOffsets,
  StreamRead,
  StreamTrimOptions,
  XAddOptions,
  XAutoClaimIdsResult,
  XAutoClaimOptions,
  XAutoClaimResult,
  XClaimOptions,
  XGroupCreateOptions,
  XPendingEntry,
  XPendingRangeOptions,
  XPendingSummary,
  XRangeOptions,
  XReadGroupOptions,
  XReadOptions,
  XTrimOptions,
} from './commands/stream-types.ts'
export type { StreamCommands } from './commands/streams.ts'
export type { CompressorDefinition, SerializerDefinition } from './define.ts'
export { defineCompressor, defineSerializer } from './define.ts'
export {
  BackpressureError,
  CachexError,
  ClosedError,
  CompressionError,
  ConnectionError,
  CrossSlotError,
  decompressionLimitError,
  InvalidArgumentError,
  isIgnorable,
  KeyNotFoundError,
  LockError,
  LockNotOwnedError,
  MissingDependencyError,
  NotANumberError,
  ResponseError,
  SerializationError,
  TimeoutError,
} from './errors.ts'
export type {
  CacheDeleteEvent,
  CacheErrorEvent,
  CacheEventListener,
  CacheEventMap,
  CacheEventName,
  CacheHitEvent,
  CacheInvalidateEvent,
  CacheMissEvent,
  CacheOperationEvent,
  CacheSetEvent,
} from './events.ts'
export type { JsonSerializerOptions } from './json.ts'
export { jsonSerializer } from './json.ts'
export { defaultKeyFunction, defaultReverseKeyFunction, globEscape } from './key-function.ts'
export { keySlot } from './key-slot.ts'
export type {
  AcquireLockOptions,
  AcquireOptions,
  CacheLock,
  HeldLock,
  LockFactory,
  LockOptions,
} from './lock-types.ts'
export type { Pipeline, PipelineMethod, PipelineResults } from './pipeline.ts'
export type { Script } from './script.ts'
export { defineScript, runScript } from './script.ts'
export type {
  CacheSemaphore,
  HeldPermit,
  SemaphoreFactory,
  SemaphoreOptions,
} from './semaphore-types.ts'
export type {
  CommandRoute,
  Compressor,
  Connection,
  ConnectionFactory,
  ConnectionOptions,
  KeyFunction,
  Logger,
  RedisArgument,
  ReverseKeyFunction,
  Serializer,
  Tracking,
  TrackingListener,
} from './types.ts'
