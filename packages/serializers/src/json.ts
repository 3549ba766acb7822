export type { JsonSerializerOptions } from '@cachex/core'
export { jsonSerializer } from '@cachex/core'
