// `@cachex/core/internal`: what cachex's own packages share and users need not see. No semver
// promise: these names may change in any release.

export { checkBoolean, checkLogger, describeArgument, describeGiven } from './_args.ts'
export { bounded, QUOTED_LENGTH } from './_bounded.ts'
export { compileGlob, type Glob } from './_glob.ts'
export { itemBound, MAX_INSPECT_ITEMS, tooManyItemsError } from './_inspect-items.ts'
export { parseInteger } from './_integer.ts'
export type { CacheInternals } from './_internals.ts'
export { cacheInternals } from './_internals.ts'
export { isPlainPrototype } from './_json-check.ts'
export { parsePythonJson } from './_json-python.ts'
export {
  hasRememberedOrders,
  isIndexKey,
  keysInOrder,
  rememberKeyOrder,
  reorderedKeys,
} from './_key-order.ts'
export { MAX_TIMER_MS } from './_limits.ts'
export { STALLED_LOOP_MS } from './_local-heartbeat.ts'
export {
  isWrongType,
  READONLY_REPLY,
  REDIS_TYPES,
  TRYAGAIN_REPLY,
} from './_messages.ts'
export { closestName, unknownName } from './_names.ts'
export { givenNames, isGiven, own, ownOptions, pickGiven, reading, setOwn } from './_own.ts'
export { describeObject, isPlainObject } from './_plain.ts'
export { processWide } from './_process-wide.ts'
export { readingOptions } from './_readable.ts'
export { type ScanPace, SERVER_EPOCH, scanWalk, serverOf } from './_scan-walk.ts'
export { checkTimeoutMs } from './_timeout.ts'
export { markUnsent, wasUnsent } from './_unsent.ts'
export type { SetCondition, ValueStore } from './_value-store.ts'
export type { CodecInspection, CodecOptions, InspectingSerializer } from './codec.ts'
export { Codec } from './codec.ts'
export { parseInfo } from './commands/key-helpers.ts'
export { isCallBudgetError, recognizeAcrossCopies } from './errors.ts'
export { SLOT_COUNT } from './key-slot.ts'
export { requireOptional } from './optional.ts'
