export { jsonSerializer } from './json.ts'
export type { JsonSerializerOptions } from './json.ts'
export { msgpackSerializer } from './msgpack.ts'
export type { MsgpackSerializerOptions } from './msgpack.ts'
