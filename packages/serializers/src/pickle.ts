import { defineSerializer, InvalidArgumentError, type Serializer } from '@cachex/core'
import type { InspectingSerializer } from '@cachex/core/internal'
import { describeGiven, own } from '@cachex/core/internal'
import { classTable, type PickleClasses } from './_pickle-classes.ts'
import { inspectPickle } from './_pickle-inspect.ts'
import { loadPickle, RESERVED_GLOBALS } from './_pickle-reader.ts'
import { dumpPickle } from './_pickle-writer.ts'

export type {
  PickleCallKind,
  PickleClass,
  PickleClasses,
  PickledInstance,
} from './_pickle-classes.ts'
export type { PyTzInfo } from './py-values.ts'
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
  tuple,
} from './py-values.ts'

/** Options of `pickleSerializer`. */
export interface PickleOptions {
  /**
   * The pickle protocol written, 2–5, or -1 for the highest (django-redis's `PICKLE_VERSION`). Every protocol 0–5 is
   * read whatever this is. 4 is CPython's default on 3.8–3.13; 5 reads on Python 3.8+, 4 on
   * 3.4+, 2 and 3 on any Python 3.
   * @default 4
   */
  pickleVersion?: number
  /**
   * An application's own Python classes to read (and write), by global name: `{ 'myapp.Money':
   * { read(args, kind) { … }, setState?, type?, write? } }`. Off by default: a global off the
   * built-in allow-list is refused. A handler is your code, run on data from Redis (whoever can
   * write to Redis chooses it): check every argument, as the built-in readers do. Globals the
   * serializer reads itself (`datetime.datetime`, …) cannot be replaced.
   * @default {} (none)
   */
  classes?: PickleClasses
}

/**
 * Python's pickle, pure TypeScript, as django-redis's default `PickleSerializer` reads and writes
 * it, so that a Node service and a Django app share cached values.
 *
 * Writing gives the bytes of CPython 3.11's `pickle.dumps(value, pickleVersion)` for `null`
 * (None), booleans, numbers (a safe integer is an `int`, any other number a `float`), `bigint`
 * (`int`), strings (`str`), `Buffer`/`Uint8Array` (`bytes`), arrays (`list`), `PyTuple` / `tuple()`
 * (`tuple`), plain objects and `Map`s (`dict`, in insertion order), `Set` (`set`), and the `Py*`
 * classes (`datetime`, `date`, `time`, `timedelta`, `timezone`, `Decimal`, `UUID`, zoneinfo and
 * pytz zones, Django's `SafeString`); a JS `Date` is written as an aware UTC `datetime`. Shared
 * and circular references are written as memo references, as CPython does. Anything else
 * (functions, symbols, `undefined`, class instances not in `classes`) throws.
 *
 * Reading accepts every protocol 0–5 and never runs code: the only globals it rebuilds are a fixed
 * allow-list (`datetime.*`, `decimal.Decimal`, `uuid.UUID`, `collections.OrderedDict`, `set`,
 * `frozenset`, `bytearray`, `bytes`, `_codecs.encode`, `copyreg._reconstructor` for UUID;
 * `pytz.utc`, `pytz._p(…)` and `zoneinfo.ZoneInfo` zones and Django's `SafeString`, each only in
 * the exact shape CPython writes — `builtins.getattr` only as `getattr(zoneinfo.ZoneInfo,
 * '_unpickle')`) and the application's `classes`; any other global — `os.system`,
 * `builtins.eval`, a user class — is refused with a `SerializationError` that names it and the
 * ways forward, as are malformed input, containers nested more than 2000 deep (what the
 * writer writes) and text-opcode lines past their caps (`INT`/`LONG` 4300 digits, `FLOAT` 64
 * bytes, `GET`/`PUT` 64, `GLOBAL` names 256), in time linear in the input.
 * `None` reads as `null`, `int` as `number` when safe else `bigint`, `bytes` and `bytearray` as
 * `Buffer`, `list` and `tuple` as arrays, `dict` as a plain object (a `Map` when a key is not a
 * str; `OrderedDict` is always a `Map`), `set` and `frozenset` as `Set`, Python 2 `str` as a
 * latin-1 decoded string, and the allow-listed classes as the `Py*` classes.
 */
export function pickleSerializer(options: PickleOptions = {}): Serializer {
  // -1 is Python's "highest protocol", which django-redis accepts as PICKLE_VERSION.
  const protocol = own(options, 'pickleVersion') === -1 ? 5 : (own(options, 'pickleVersion') ?? 4)
  if (!Number.isInteger(protocol) || protocol < 2 || protocol > 5) {
    throw new InvalidArgumentError(
      `pickleVersion must be 2, 3, 4, 5 or -1 (the highest), got ${describeGiven(own(options, 'pickleVersion'))}`,
    )
  }
  const classes = classTable(own(options, 'classes'), RESERVED_GLOBALS)
  const serializer = defineSerializer({
    name: 'pickle',
    serialize: (value) => dumpPickle(value, protocol, classes),
    deserialize: (data) => loadPickle(data, classes),
  })
  // For inspection tools (the admin UI): which arrays were tuples, which Sets frozensets.
  const inspecting: InspectingSerializer = {
    ...serializer,
    inspect: (data, maxItems) => inspectPickle(data, classes, maxItems),
  }
  return inspecting
}
