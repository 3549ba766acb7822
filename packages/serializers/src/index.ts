export type { JsonSerializerOptions } from './json.ts'
export { jsonSerializer } from './json.ts'
export type { MsgpackSerializerOptions } from './msgpack.ts'
export { msgpackSerializer } from './msgpack.ts'
