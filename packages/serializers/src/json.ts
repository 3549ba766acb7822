export { jsonSerializer } from '@cachex/core'
