// The pickle writer: protocols 2–5, byte for byte what CPython 3.11's C pickler (`_pickle.c`,
// which `pickle.dumps` uses) writes for the same value: the same opcode choices, memo puts and
// gets, batches of 1000 (including the empty trailing batch CPython writes for dicts and sets of
// exactly n*1000 items), and protocol 4 framing (frames of at most ~64 KiB, committed at the
// start of an object, none under 4 bytes, large str/bytes payloads outside any frame).
// The rooms, each a layer of the one Writer: _pickle-write-output.ts (buffer, frames, memo),
// _pickle-write-scalars.ts (int, float, str, bytes), _pickle-write-python.ts (Python's classes);
// _pickle-write-support.ts (globals, str encoding), _pickle-write-keys.ts (dict keys and set
// items: hashable, arrays as tuples and Sets as frozensets, none equal in Python). Here: the
// dispatch and the containers.

import { keysInOrder } from '@cachex/core/internal'
import type { ClassTable } from './_pickle-classes.ts'
import {
  ADDITEMS,
  APPEND,
  APPENDS,
  EMPTY_DICT,
  EMPTY_LIST,
  EMPTY_SET,
  EMPTY_TUPLE,
  FROZENSET as FROZENSET_OP,
  MARK,
  NEWFALSE,
  NEWTRUE,
  NONE,
  POP,
  POP_MARK,
  PROTO,
  SETITEM,
  SETITEMS,
  STOP,
  TUPLE,
  TUPLE1,
} from './_pickle-opcodes.ts'
import { FrozenSetKey, KeyTable } from './_pickle-write-keys.ts'
import { PythonValueWriter } from './_pickle-write-python.ts'
import {
  BATCHSIZE,
  DECIMAL,
  FROZENSET,
  FreshStr,
  fail,
  MAX_DEPTH,
  ScopedStr,
  SET,
  TIMEDELTA,
  TIMEZONE,
  typeName,
} from './_pickle-write-support.ts'
import {
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
} from './py-values.ts'

class Writer extends PythonValueWriter {
  private keyTable: KeyTable | null = null

  // --- save ---------------------------------------------------------------------------------

  dump(value: unknown): Buffer {
    const at = this.reserve(2)
    this.buf[at] = PROTO
    this.buf[at + 1] = this.proto
    this.framing = this.proto >= 4
    this.save(value)
    this.op(STOP)
    this.commitFrame()
    this.framing = false
    return this.buf.subarray(0, this.len)
  }

  protected save(value: unknown): void {
    this.boundary()
    switch (typeof value) {
      case 'boolean':
        this.op(value ? NEWTRUE : NEWFALSE)
        return
      case 'number':
        if (Number.isSafeInteger(value) && !Object.is(value, -0)) this.saveInt(value)
        else this.saveFloat(value)
        return
      case 'bigint':
        if (value >= -2147483648n && value <= 2147483647n) this.saveInt(Number(value))
        else this.saveLong(value)
        return
      case 'string': {
        const index = this.strMemo.get(value)
        if (index !== undefined) this.memoGet(index)
        else this.strMemo.set(value, this.saveStr(value))
        return
      }
      case 'object':
        break
      case 'undefined':
        fail('cannot pickle undefined (use null for None)')
        break
      default:
        fail(`cannot pickle a ${typeof value}`)
    }
    if (value === null) {
      this.op(NONE)
      return
    }
    let index = this.memo.get(value)
    if (index === undefined && value instanceof Uint8Array && value.length <= 1) {
      index = this.smallBytesMemo.get(value.length === 0 ? -1 : (value[0] as number))
    }
    if (index !== undefined) {
      this.memoGet(index)
      return
    }
    if (++this.depth > MAX_DEPTH) fail(`value is nested more than ${MAX_DEPTH} levels deep`)
    const proto = Object.getPrototypeOf(value)
    if (proto === Object.prototype || proto === null) {
      this.saveObject(value as Record<string, unknown>)
    } else if (Array.isArray(value)) this.saveList(value)
    else if (value instanceof Uint8Array) this.saveBytes(value)
    else if (value instanceof FreshStr) this.saveStr(value.text)
    else if (value instanceof ScopedStr) {
      const index = value.scope.get(value.text)
      if (index !== undefined) this.memoGet(index)
      else value.scope.set(value.text, this.saveStr(value.text))
    } else if (value instanceof PyTuple) this.saveTuple(value, value.items)
    else if (value instanceof Map) this.saveMap(value)
    else if (value instanceof Set) this.saveSet(value)
    else if (value instanceof FrozenSetKey) this.saveFrozenset(value)
    else if (value instanceof PyDateTime) this.saveDatetime(value, value)
    else if (value instanceof Date) this.saveDatetime(PyDateTime.fromDate(value), value)
    else if (value instanceof PyDate) this.saveDate(value)
    else if (value instanceof PyTime) this.saveTime(value)
    else if (value instanceof PyTimeDelta) {
      this.saveReduce(TIMEDELTA, [value.days, value.seconds, value.microseconds], value)
    } else if (value instanceof PyTimezone) {
      const args = value.name === null ? [value.offset] : [value.offset, value.name]
      this.saveReduce(TIMEZONE, args, value)
    } else if (value instanceof PyDecimal) {
      // Decimal.__reduce__ is (Decimal, (str(self),)): a new str each time.
      this.saveReduce(DECIMAL, [new FreshStr(value.value)], value)
    } else if (value instanceof PyUUID) this.saveUuid(value)
    else if (value instanceof PyGlobal) this.saveGlobalRef(value)
    else if (value instanceof PySafeString) this.saveSafeString(value)
    else if (value instanceof PyZoneInfo) this.saveZoneInfo(value)
    else if (value instanceof PytzTimezone) this.savePytz(value)
    else {
      const entry = this.classes?.writers.find(
        (e) => value instanceof (e.handler.type as abstract new (...args: never[]) => unknown),
      )
      if (entry === undefined) {
        fail(
          `cannot pickle an instance of ${typeName(value)}: only null, booleans, numbers, bigints, ` +
            'strings, Buffer/Uint8Array, arrays, plain objects, Map, Set, Date, the Py* classes ' +
            'and the classes given to pickleSerializer({ classes })',
        )
      }
      this.saveHandled(entry, value)
    }
    this.depth--
  }

  protected saveList(list: readonly unknown[]): void {
    this.op(EMPTY_LIST)
    this.remember(list)
    const n = list.length
    if (n === 0) return
    if (n === 1) {
      this.save(list[0])
      this.op(APPEND)
      return
    }
    let total = 0
    do {
      this.op(MARK)
      let batch = 0
      while (total < n) {
        this.save(list[total])
        total++
        if (++batch === BATCHSIZE) break
      }
      this.op(APPENDS)
    } while (total < n)
  }

  protected saveTuple(tuple: object, items: readonly unknown[]): void {
    const n = items.length
    if (n === 0) {
      this.op(EMPTY_TUPLE)
      return
    }
    if (n <= 3) {
      for (const item of items) this.save(item)
      const index = this.lookup(tuple)
      if (index !== undefined) {
        // The tuple contains itself (through a list): drop the items, fetch it from the memo.
        for (let i = 0; i < n; i++) this.op(POP)
        this.memoGet(index)
        return
      }
      this.op(TUPLE1 + n - 1)
    } else {
      this.op(MARK)
      for (const item of items) this.save(item)
      const index = this.lookup(tuple)
      if (index !== undefined) {
        this.op(POP_MARK)
        this.memoGet(index)
        return
      }
      this.op(TUPLE)
    }
    this.remember(tuple)
  }

  /**
   * A plain object as a dict (batch_dict_exact): a dict read with array-index keys in its
   * Python order, any other object in JS order.
   */
  protected saveObject(obj: Record<string, unknown>): void {
    this.op(EMPTY_DICT)
    this.remember(obj)
    const keys = keysInOrder(obj)
    const n = keys.length
    if (n === 0) return
    if (n === 1) {
      const key = keys[0] as string
      this.save(key)
      this.save(obj[key])
      this.op(SETITEM)
      return
    }
    // A dict of exactly n*1000 items ends with an empty MARK SETITEMS, as in CPython.
    let i = 0
    let count: number
    do {
      count = 0
      this.op(MARK)
      while (i < n) {
        const key = keys[i++] as string
        this.save(key)
        this.save(obj[key])
        if (++count === BATCHSIZE) break
      }
      this.op(SETITEMS)
    } while (count === BATCHSIZE)
  }

  /** The dict keys and set items of this call, as written. */
  private hashableKeys(keys: Iterable<unknown>, where: string): unknown[] {
    if (this.keyTable === null) this.keyTable = new KeyTable()
    return this.keyTable.keys(keys, where)
  }

  /**
   * A Map as a dict, in insertion order; its keys must be hashable in Python (an array is
   * written as a tuple, a Set as a frozenset).
   */
  protected saveMap(map: Map<unknown, unknown>): void {
    const keys = map.size === 0 ? [] : this.hashableKeys(map.keys(), 'Map key')
    this.op(EMPTY_DICT)
    this.remember(map)
    if (map.size === 0) return
    const values = map.values()
    if (map.size === 1) {
      this.save(keys[0])
      this.save(values.next().value)
      this.op(SETITEM)
      return
    }
    const n = keys.length
    let i = 0
    let count: number
    do {
      count = 0
      this.op(MARK)
      while (i < n) {
        this.save(keys[i++])
        this.save(values.next().value)
        if (++count === BATCHSIZE) break
      }
      this.op(SETITEMS)
    } while (count === BATCHSIZE)
  }

  /** A Set as a set; its items must be hashable in Python, as a Map's keys. */
  protected saveSet(set: Set<unknown>): void {
    const items = set.size === 0 ? [] : this.hashableKeys(set, 'Set item')
    if (this.proto < 4) {
      this.saveReduce(SET, [items], set)
      return
    }
    this.op(EMPTY_SET)
    this.remember(set)
    const n = items.length
    if (n === 0) return
    let i = 0
    let count: number
    do {
      count = 0
      this.op(MARK)
      while (i < n) {
        this.save(items[i++])
        if (++count === BATCHSIZE) break
      }
      this.op(ADDITEMS)
    } while (count === BATCHSIZE)
  }

  /**
   * A Set in a key position as a frozenset (save_frozenset): all its items in one MARK …
   * FROZENSET, no batches; below protocol 4, `frozenset(list)`.
   */
  protected saveFrozenset(set: FrozenSetKey): void {
    if (this.proto < 4) {
      this.saveReduce(FROZENSET, [Array.from(set.items)], set)
      return
    }
    this.op(MARK)
    for (const item of set.items) this.save(item)
    this.op(FROZENSET_OP)
    this.remember(set)
  }
}

/** Pickles `value` with `protocol` (2–5), byte for byte as CPython 3.11's `pickle.dumps`. */
export function dumpPickle(
  value: unknown,
  protocol: number,
  classes: ClassTable | null = null,
): Buffer {
  return new Writer(protocol, classes).dump(value)
}
