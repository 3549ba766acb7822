export type { JsonSerializerOptions } from './json.ts'
export { jsonSerializer } from './json.ts'
export type { MsgpackSerializerOptions } from './msgpack.ts'
export { msgpackSerializer } from './msgpack.ts'
export type { PickleOptions } from './pickle.ts'
export {
  PyDate,
  PyDateTime,
  PyDecimal,
  PyGlobal,
  PyTime,
  PyTimeDelta,
  PyTimezone,
  PyTuple,
  PyUUID,
  pickleSerializer,
  tuple,
} from './pickle.ts'
