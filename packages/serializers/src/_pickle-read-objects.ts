// The pickle reader's objects: dict and set items, the calls of allow-listed globals (REDUCE,
// NEWOBJ, OBJ, INST), BUILD, the application's classes, and the final pass over the value.

import { isIndexKey, rememberKeyOrder } from '@cachex/core/internal'
import {
  callGetattr,
  makeDate,
  makeDatetime,
  makeDecimal,
  makePytz,
  makeTime,
  makeTimedelta,
  makeTimezone,
  makeZoneInfo,
  uuidFromState,
} from './_pickle-read-classes.ts'
import {
  addPy,
  isContainer,
  isPlainDict,
  longestChainCheck,
  setPy,
  treeDepthCheck,
} from './_pickle-read-containers.ts'
import { asInteger, describe } from './_pickle-read-numbers.ts'
import {
  clip,
  fail,
  failPassedOn,
  GETATTR,
  Internal,
  MAX_READ_DEPTH,
  NestedPath,
  PASSED_ON,
} from './_pickle-read-rules.ts'
import { ReaderState } from './_pickle-read-state.ts'
import { hasLoneSurrogate } from './_pickle-read-text.ts'
import { unpooledCopy, unpooledText } from './_unpooled.ts'
import { initUuid, PyGlobal, PySafeString, PytzTimezone, PyUUID } from './py-values.ts'

/** Builds what the opcodes ask for, over the state; the loop is `Reader`'s. */
export abstract class ObjectReader extends ReaderState {
  // --- containers ---------------------------------------------------------------------------

  protected resolve(value: unknown): unknown {
    if (this.converted !== null && typeof value === 'object' && value !== null) {
      return this.converted.get(value) ?? value
    }
    return value
  }

  /**
   * The container just below stack index `end` (the items being added start there), which must
   * be at or above the fence. A dict that became a Map is swapped in.
   */
  protected under(end: number): unknown {
    const i = end - 1
    if (i < this.fence) fail('unpickling stack underflow')
    const value = this.resolve(this.stack[i])
    this.stack[i] = value
    return value
  }

  /**
   * dict[key] = value for the pairs in `items[from..to)`. `slot` is where the dict sits on the
   * stack, replaced by a Map when a key that is not a str arrives.
   */
  protected setItems(
    target: unknown,
    items: unknown[],
    from: number,
    to: number,
    slot: number,
  ): void {
    if (!(target instanceof Map) && !isPlainDict(target)) {
      fail(`SETITEM on ${describe(target)}, not a dict`)
    }
    this.checkHashables(items, from, to, 2)
    if (target instanceof Map) {
      for (let i = from; i + 1 < to; i += 2) {
        this.written(target, setPy(target, items[i], items[i + 1]))
      }
      return
    }
    const dict = target
    for (let i = from; i + 1 < to; i += 2) {
      const key = items[i]
      if (typeof key !== 'string') {
        // Not every key is a str: the dict becomes a Map, in insertion order.
        const map = this.toMap(dict)
        for (let j = i; j + 1 < to; j += 2) setPy(map, items[j], items[j + 1])
        this.stack[slot] = map
        return
      }
      // JS objects list array-index keys first: remember the dict's order (for a Map it may
      // become, and for writers: an untouched value is written back in Python's order).
      if (this.indexKeyOrder !== null || isIndexKey(key)) this.trackOrder(dict, key)
      if (key === '__proto__') {
        Object.defineProperty(dict, key, {
          __proto__: null,
          value: items[i + 1],
          writable: true,
          enumerable: true,
          configurable: true,
        } as PropertyDescriptor)
      } else {
        dict[key] = items[i + 1]
      }
      this.written(dict, key)
    }
  }

  protected trackOrder(dict: Record<string, unknown>, key: string): void {
    if (Object.hasOwn(dict, key)) return
    let order = this.indexKeyOrder?.get(dict)
    if (order === undefined) {
      if (!isIndexKey(key)) return
      order = Object.keys(dict)
      this.indexKeyOrder ??= new Map()
      this.indexKeyOrder.set(dict, order)
      rememberKeyOrder(dict, order)
    }
    order.push(key)
  }

  /** Turns a plain-object dict into a Map (a key that is not a str arrived), keeping its order. */
  protected toMap(dict: Record<string, unknown>): Map<unknown, unknown> {
    const keys = this.indexKeyOrder?.get(dict) ?? Object.keys(dict)
    this.charge(keys.length + 1)
    const map = new Map<unknown, unknown>()
    for (const key of keys) map.set(key, dict[key])
    this.converted ??= new Map()
    this.converted.set(dict, map)
    this.replaced(dict, map)
    return map
  }

  protected construct(callable: unknown, args: unknown, viaNew: boolean): unknown {
    if (!(callable instanceof PyGlobal) && !(callable instanceof Internal)) {
      fail(`cannot call ${describe(callable)}`)
    }
    const what =
      callable instanceof Internal ? callable.what : `${callable.module}.${callable.name}`
    if (!Array.isArray(args) || !this.tuples.has(args)) {
      fail(`arguments to ${what}() must be a tuple, got ${describe(args)}`)
    }
    const list = args
    if (callable instanceof NestedPath) {
      fail(`${what} is read only as the class a nested class is found in (getattr)`)
    }
    if (callable instanceof Internal) {
      if (viaNew) fail(`${what} is not a class`)
      if (callable === GETATTR) return callGetattr(list, this.classes, this.quotes())
      return this.wrapErrors(what, () => makeZoneInfo(list))
    }
    const entry = this.classes?.byGlobal.get(`${callable.module}\n${callable.name}`)
    if (entry !== undefined) return this.callHandler(entry, list, viaNew ? 'new' : 'reduce')
    return this.wrapErrors(what, () => {
      const value = this.call(what, list, viaNew)
      if (value instanceof Map || value instanceof Set) this.containers++
      if (what === 'builtins.frozenset' && value instanceof Set) this.frozensets.add(value)
      if (what === 'builtins.bytearray' && Buffer.isBuffer(value)) this.bytearrays.add(value)
      return value
    })
  }

  /**
   * Runs `make`, turning a Py* constructor's error into a SerializationError naming `what` (an
   * allowed global); where the message may not quote the pickle (`quotes`), with no more.
   */
  protected wrapErrors<T>(what: string, make: () => T): T {
    try {
      return make()
    } catch (error) {
      // The Py* constructors validate (a 30th of February, an hour of 24): say where it came from.
      // Their messages, and those of the arguments refused here, hold the arguments; those of
      // `PASSED_ON` (a handler's, the work budget's) go as they are.
      if (!(error instanceof Error) || PASSED_ON.has(error)) throw error
      if (!this.quotes()) fail(`invalid arguments to ${what}()`)
      if (!error.message.startsWith('pickle: ')) {
        fail(`invalid arguments to ${what}(): ${error.message}`)
      }
      throw error
    }
  }

  protected call(what: string, list: unknown[], viaNew: boolean): unknown {
    switch (what) {
      case 'datetime.datetime':
        return makeDatetime(list)
      case 'datetime.date':
        return makeDate(list)
      case 'datetime.time':
        return makeTime(list)
      case 'datetime.timedelta':
        return makeTimedelta(list)
      case 'datetime.timezone':
        return makeTimezone(list)
      case 'decimal.Decimal':
        return makeDecimal(list)
      case 'pytz._UTC':
        if (viaNew || list.length !== 0) fail('pytz._UTC() takes no arguments')
        return PytzTimezone.utc
      case 'pytz._p':
        if (viaNew) fail('pytz._p is not a class')
        return makePytz(list)
      case 'django.utils.safestring.SafeString':
      case 'django.utils.safestring.SafeText':
        // CPython pickles a str subclass as cls.__new__(cls, str(self)) (NEWOBJ), only so.
        if (!viaNew || list.length !== 1 || typeof list[0] !== 'string') {
          fail(`${what} is read only as CPython pickles it: ${what}.__new__(${what}, str)`)
        }
        return new PySafeString(list[0])
      case 'uuid.UUID': {
        if (viaNew) {
          if (list.length > 0) fail('uuid.UUID.__new__ takes no arguments')
          return this.newUuid()
        }
        if (list.length !== 1 || typeof list[0] !== 'string') fail('uuid.UUID() needs one str')
        return new PyUUID(list[0])
      }
      case 'collections.OrderedDict': {
        const map = new Map<unknown, unknown>()
        if (viaNew || list.length === 0) return map
        if (list.length > 1) fail('collections.OrderedDict() takes at most 1 argument')
        for (const pair of this.iterate(list[0], what)) {
          const kv = this.resolve(pair)
          if (!Array.isArray(kv) || kv.length !== 2) fail('OrderedDict() items must be pairs')
          this.checkHashable(kv[0])
          setPy(map, kv[0], kv[1])
        }
        return map
      }
      case 'builtins.set':
      case 'builtins.frozenset': {
        if (list.length > 1) fail(`${what}() takes at most 1 argument`)
        // set.__new__ ignores its arguments (set.__init__ fills the set); frozenset's does not.
        if (list.length === 0 || (viaNew && what === 'builtins.set')) return new Set()
        const items = this.iterate(list[0], what)
        this.checkHashables(items, 0, items.length, 1)
        const set = new Set<unknown>()
        for (const item of items) addPy(set, item)
        return set
      }
      case 'builtins.bytes':
      case 'builtins.bytearray': {
        if (viaNew && what === 'builtins.bytearray') return Buffer.alloc(0)
        if (list.length === 0) return Buffer.alloc(0)
        const source = list[0]
        if (source instanceof Uint8Array && list.length === 1) {
          this.charge(source.length)
          return unpooledCopy(source)
        }
        if (typeof source === 'string' && list.length === 2)
          return this.encode(source, list[1], what)
        if (Array.isArray(source) && list.length === 1) {
          this.charge(source.length)
          const out = Buffer.alloc(source.length)
          source.forEach((item, i) => {
            const byte = asInteger(item, 'byte')
            if (byte < 0 || byte > 255) fail('bytes must be in range(0, 256)')
            out[i] = byte
          })
          return out
        }
        return fail(`unsupported arguments to ${what}()`)
      }
      case '_codecs.encode':
      case 'codecs.encode': {
        if (viaNew) fail(`${what} is not a class`)
        if (list.length < 1 || list.length > 3 || typeof list[0] !== 'string') {
          fail(`${what}() needs a str`)
        }
        if (list.length === 3 && list[2] !== 'strict')
          fail(`${what}() supports errors='strict' only`)
        return this.encode(list[0], list.length >= 2 ? list[1] : 'utf-8', what)
      }
      case 'copyreg._reconstructor': {
        if (viaNew) fail(`${what} is not a class`)
        const [cls, base, state] = list
        if (list.length !== 3 || !(cls instanceof PyGlobal) || !(base instanceof PyGlobal)) {
          fail('copyreg._reconstructor() needs (class, base, state)')
        }
        if (`${base.module}.${base.name}` !== 'builtins.object' || state !== null) {
          fail(`copyreg._reconstructor() is only supported with base object and no state`)
        }
        const entry = this.classes?.byGlobal.get(`${cls.module}\n${cls.name}`)
        if (entry !== undefined) return this.callHandler(entry, [], 'new')
        if (`${cls.module}.${cls.name}` !== 'uuid.UUID') {
          fail(
            `copyreg._reconstructor() is only supported for uuid.UUID, not ${cls.module}.${cls.name}`,
          )
        }
        return this.newUuid()
      }
      default:
        return fail(`refusing to call ${what}`)
    }
  }

  protected newUuid(): PyUUID {
    const uuid = new PyUUID(0n)
    this.pendingUuids ??= new Set()
    this.pendingUuids.add(uuid)
    return uuid
  }

  protected iterate(source: unknown, what: string): unknown[] {
    const value = this.resolve(source)
    let items: unknown[]
    if (Array.isArray(value)) items = value
    else if (value instanceof Set) items = [...value]
    else if (value instanceof Map) items = [...value.keys()]
    else if (isPlainDict(value)) items = this.indexKeyOrder?.get(value) ?? Object.keys(value)
    else return fail(`${what}() argument must be iterable, got ${describe(value)}`)
    this.charge(items.length)
    return items
  }

  protected encode(text: string, encoding: unknown, what: string): Buffer {
    if (typeof encoding !== 'string') fail(`${what}() encoding must be a str`)
    this.charge(text.length)
    const name = encoding.toLowerCase().replaceAll('_', '-')
    if (['latin1', 'latin-1', 'iso-8859-1', 'iso8859-1', 'l1', 'latin'].includes(name)) {
      for (let i = 0; i < text.length; i++) {
        if (text.charCodeAt(i) > 0xff) fail(`${what}(): character not in latin-1`)
      }
      return unpooledText(text, 'latin1')
    }
    if (name === 'ascii' || name === 'us-ascii') {
      for (let i = 0; i < text.length; i++) {
        if (text.charCodeAt(i) > 0x7f) fail(`${what}(): character not in ascii`)
      }
      return unpooledText(text, 'latin1')
    }
    if (name === 'utf-8' || name === 'utf8') {
      if (hasLoneSurrogate(text)) fail(`${what}(): surrogates not allowed in utf-8`)
      return unpooledText(text, 'utf8')
    }
    return fail(`${what}(): unsupported encoding ${JSON.stringify(clip(encoding))}`)
  }

  protected build(target: unknown, state: unknown): void {
    const obj = this.resolve(target)
    const entry = typeof obj === 'object' && obj !== null ? this.handled?.get(obj) : undefined
    if (entry !== undefined) {
      const setState = entry.handler.setState
      const what = `${entry.module}.${entry.name}`
      if (setState === undefined) {
        fail(`${what} carries state (BUILD), and its handler has no setState`)
      }
      const value = this.resolve(state)
      this.handOut(value)
      try {
        setState.call(entry.handler, obj, value)
      } catch (error) {
        failPassedOn(
          `the handler of ${what} refused the pickled state: ${(error as Error)?.message ?? error}`,
          error,
        )
      }
      this.changed(obj as object)
      return
    }
    if (obj instanceof PyUUID && this.pendingUuids?.has(obj) === true) {
      const { int, isSafe } = uuidFromState(this.resolve(state))
      initUuid(obj, int, isSafe)
      this.pendingUuids.delete(obj)
      return
    }
    fail(`BUILD is only supported for uuid.UUID, not ${describe(obj)}`)
  }

  /**
   * Throws when containers nest more than MAX_READ_DEPTH deep in the finished value. Skipped when
   * too few containers were made for that (nearly every value); else one iterative walk.
   */
  protected checkDepth(root: unknown): void {
    if (this.containers <= MAX_READ_DEPTH || !isContainer(root)) return
    if (this.shared) longestChainCheck(root)
    else treeDepthCheck(root, this.containers)
  }
}
