export type { JsonSerializerOptions } from './json.ts'
export { jsonSerializer } from './json.ts'
export type { MsgpackSerializerOptions } from './msgpack.ts'
export { msgpackSerializer } from './msgpack.ts'
export type {
  PickleCallKind,
  PickleClass,
  PickleClasses,
  PickledInstance,
  PickleOptions,
  PyTzInfo,
} from './pickle.ts'
export {
  PyDate,
  PyDateTime,
  PyDecimal,
  PyGlobal,
  PySafeString,
  PyTime,
  PyTimeDelta,
  PyTimezone,
  PyTuple,
  PytzTimezone,
  PyUUID,
  PyZoneInfo,
  pickleSerializer,
  tuple,
} from './pickle.ts'
