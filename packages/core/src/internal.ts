// `@cachex/core/internal`: what cachex's own packages share and users need not see. No semver
// promise: these names may change in any release.

export type { SetCondition, ValueStore } from './_value-store.ts'
export type { CodecOptions } from './codec.ts'
export { Codec, parseInteger } from './codec.ts'
export { SLOT_COUNT } from './key-slot.ts'
export { requireOptional } from './optional.ts'
