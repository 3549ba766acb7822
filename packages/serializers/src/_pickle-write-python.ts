// The pickle writer's Python classes: globals and reduce calls, datetime / date / time, the
// zones (shared as Python shares them), Decimal, UUID, Django's SafeString and the application's
// own classes, each written as CPython's `__reduce_ex__` of that class writes it.

import type { ClassEntry, PickledInstance } from './_pickle-classes.ts'
import { BUILD, GLOBAL, NEWOBJ, POP, REDUCE, STACK_GLOBAL } from './_pickle-opcodes.ts'
import { ALLOWED_GLOBALS } from './_pickle-reader.ts'
import { ScalarWriter } from './_pickle-write-scalars.ts'
import {
  DATE,
  DATETIME,
  FreshStr,
  fail,
  GETATTR,
  type GlobalSpec,
  g,
  INTERNED_NAMES,
  PY2_MODULES,
  PYTZ_P,
  PYTZ_UTC,
  SAFE_STRING,
  ScopedStr,
  TIME,
  UUID,
  ZONEINFO,
} from './_pickle-write-support.ts'
import {
  type PyDate,
  type PyDateTime,
  type PyGlobal,
  type PySafeString,
  type PyTime,
  PyTuple,
  type PytzTimezone,
  type PyUUID,
  type PyZoneInfo,
} from './py-values.ts'

/** The saves of Python's own classes, over the output; the plain values are `Writer`'s. */
export abstract class PythonValueWriter extends ScalarWriter {
  /** Saves any value (the `Writer`'s dispatch). */
  protected abstract save(value: unknown): void

  protected saveGlobal(spec: GlobalSpec): void {
    this.boundary()
    const key = `${spec.module}.${spec.name}`
    const index = this.globalMemo.get(key)
    if (index !== undefined) {
      this.memoGet(index)
      return
    }
    if (this.proto >= 4) {
      this.save(spec.freshModule === true ? new FreshStr(spec.module) : spec.module)
      this.save(spec.internedName ? spec.name : new FreshStr(spec.name))
      this.op(STACK_GLOBAL)
    } else {
      let module = spec.module
      if (this.proto < 3 && Object.hasOwn(PY2_MODULES, module))
        module = PY2_MODULES[module] as string
      const text = `${module}\n${spec.name}\n`
      const at = this.reserve(1 + text.length)
      this.buf[at] = GLOBAL
      this.buf.write(text, at + 1, 'latin1')
    }
    this.globalMemo.set(key, this.memoPut())
  }

  protected saveGlobalRef(ref: PyGlobal): void {
    const key = `${ref.module}.${ref.name}`
    const ours = this.classes?.byGlobal.has(`${ref.module}\n${ref.name}`) === true
    if (!ALLOWED_GLOBALS.has(key) && !ours) {
      fail(`refusing to write global ${key}: not on the allow-list`)
    }
    this.saveGlobal(g(ref.module, ref.name, ours || INTERNED_NAMES.has(key)))
  }

  /** `save_reduce(callable, args, obj=obj)` with a global callable. */
  protected saveReduce(callable: GlobalSpec, args: unknown[], obj: object): void {
    this.saveGlobal(callable)
    this.save(new PyTuple(args))
    this.op(REDUCE)
    const index = this.lookup(obj)
    if (index !== undefined) {
      this.op(POP)
      this.memoGet(index)
    } else {
      this.remember(obj)
    }
  }

  protected saveDatetime(dt: PyDateTime, obj: object): void {
    const fold = dt.fold === 1 && this.proto > 3 ? 0x80 : 0
    const us = dt.microsecond
    const state = Buffer.from([
      dt.year >> 8,
      dt.year & 0xff,
      dt.month | fold,
      dt.day,
      dt.hour,
      dt.minute,
      dt.second,
      us >> 16,
      (us >> 8) & 0xff,
      us & 0xff,
    ])
    this.saveReduce(DATETIME, dt.tzinfo === null ? [state] : [state, dt.tzinfo], obj)
  }

  protected saveDate(date: PyDate): void {
    const state = Buffer.from([date.year >> 8, date.year & 0xff, date.month, date.day])
    this.saveReduce(DATE, [state], date)
  }

  protected saveTime(time: PyTime): void {
    const fold = time.fold === 1 && this.proto > 3 ? 0x80 : 0
    const us = time.microsecond
    const state = Buffer.from([
      time.hour | fold,
      time.minute,
      time.second,
      us >> 16,
      (us >> 8) & 0xff,
      us & 0xff,
    ])
    this.saveReduce(TIME, time.tzinfo === null ? [state] : [state, time.tzinfo], time)
  }

  /** A time zone Python shares by value: BINGET when an equal one was written, else `write()`. */
  protected saveSharedZone(key: string, zone: object, write: () => void): void {
    const index = this.zoneMemo.get(key)
    if (index !== undefined) {
      this.memoGet(index)
      return
    }
    write()
    const written = this.memo.get(zone)
    if (written !== undefined) this.zoneMemo.set(key, written)
  }

  /**
   * `ZoneInfo.__reduce__`: `(ZoneInfo._unpickle, (key, from_cache))`, the bound classmethod being
   * pickled as `getattr(ZoneInfo, '_unpickle')` (its name a fresh str each time).
   */
  protected saveZoneInfo(zone: PyZoneInfo): void {
    const write = () => {
      this.saveGlobal(GETATTR)
      this.save(new PyTuple([ZONEINFO, new FreshStr('_unpickle')]))
      this.op(REDUCE)
      this.memoPut() // the bound method: a new object each time, never fetched again
      this.save(new PyTuple([zone.key, zone.fromCache ? 1 : 0]))
      this.op(REDUCE)
      this.remember(zone)
    }
    // ZoneInfo.no_cache() makes a new object each time: shared only by identity.
    if (zone.fromCache) this.saveSharedZone(`zoneinfo\n${zone.key}`, zone, write)
    else write()
  }

  /** pytz's `__reduce__`: `pytz._UTC()`, `pytz._p(zone)` or `pytz._p(zone, utcoffset, dst, tzname)`. */
  protected savePytz(zone: PytzTimezone): void {
    if (zone.isUtc) {
      this.saveSharedZone('pytz-utc', zone, () => this.saveReduce(PYTZ_UTC, [], zone))
      return
    }
    // The abbreviation of each state is a str of its own (read from the zone's file).
    const name = new ScopedStr(zone.zone, this.pytzNames)
    const args =
      zone.utcoffsetSeconds === null
        ? [name]
        : [name, zone.utcoffsetSeconds, zone.dstSeconds, new FreshStr(zone.tzname as string)]
    const key = `pytz\n${zone.zone}\n${zone.utcoffsetSeconds}\n${zone.dstSeconds}\n${zone.tzname}`
    this.saveSharedZone(key, zone, () => this.saveReduce(PYTZ_P, args, zone))
  }

  /**
   * A str subclass from protocol 2 on: `cls.__new__(cls, str(self))`, a fresh copy of the text
   * (but the empty str, which CPython never copies: its one empty str is shared).
   */
  protected saveSafeString(text: PySafeString): void {
    const copy = text.valueOf()
    this.saveGlobal(SAFE_STRING)
    this.save(new PyTuple([copy === '' ? copy : new FreshStr(copy)]))
    this.op(NEWOBJ)
    this.remember(text)
  }

  /** An instance of an application's class: its handler's `write`, as `save_reduce` writes it. */
  protected saveHandled(entry: ClassEntry, value: object): void {
    let out: PickledInstance
    try {
      out = (entry.handler.write as (value: unknown) => PickledInstance)(value)
    } catch (error) {
      throw new Error(
        `pickle: the handler of ${entry.module}.${entry.name} could not write a value: ${(error as Error)?.message ?? error}`,
        { cause: error },
      )
    }
    if (typeof out !== 'object' || out === null || !Array.isArray(out.args)) {
      fail(`the handler of ${entry.module}.${entry.name} must return { args: [...] } from write()`)
    }
    if (out.kind !== undefined && out.kind !== 'new' && out.kind !== 'reduce') {
      fail(`the handler of ${entry.module}.${entry.name} returned kind ${String(out.kind)}`)
    }
    this.saveGlobal(g(entry.module, entry.name, true))
    this.save(new PyTuple(out.args))
    this.op(out.kind === 'reduce' ? REDUCE : NEWOBJ)
    const index = this.lookup(value)
    if (index !== undefined) {
      this.op(POP)
      this.memoGet(index)
    } else {
      this.remember(value)
    }
    // As CPython: a state of None writes no BUILD.
    if (out.state !== undefined && out.state !== null) {
      this.save(out.state)
      this.op(BUILD)
    }
  }

  /** `object.__reduce_ex__`: NEWOBJ with no arguments, then BUILD with `UUID.__getstate__()`. */
  protected saveUuid(uuid: PyUUID): void {
    this.saveGlobal(UUID)
    this.save(new PyTuple([]))
    this.op(NEWOBJ)
    this.remember(uuid)
    const state: Record<string, unknown> = { int: uuid.int }
    if (uuid.isSafe !== null) state.is_safe = uuid.isSafe
    this.save(state)
    this.op(BUILD)
  }
}
