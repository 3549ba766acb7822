// The pickle reader's state: the input and its caps, the stack and marks, the memo, the work
// budget, and how globals are resolved. The rooms above it: _pickle-read-objects.ts, then the
// opcode loop in _pickle-reader.ts.

import type { ClassEntry, ClassTable, PickleCallKind } from './_pickle-classes.ts'
import { isContainer, isPlainDict } from './_pickle-read-containers.ts'
import {
  ALLOWED_GLOBALS,
  clip,
  fail,
  failPassedOn,
  GETATTR,
  handlerRefused,
  Internal,
  NestedPath,
  PY2_MODULES,
  refuseGlobal,
} from './_pickle-read-rules.ts'
import { decodeUtf8 } from './_pickle-read-text.ts'
import { PyGlobal, type PyUUID } from './py-values.ts'

/** One `loads` call's state; `ObjectReader` and `Reader` build on it. */
export abstract class ReaderState {
  protected readonly data: Buffer
  protected pos = 0
  protected readonly stack: unknown[] = []
  protected readonly marks: number[] = []
  protected fence = 0
  // The memo: an array, and a Map for indices far beyond it (PUT takes any index). No stored
  // value is ever `undefined`, so `undefined` means "not set".
  protected readonly memo: unknown[] = []
  protected memoFar: Map<number, unknown> | null = null
  protected memoCount = 0
  // Dicts that started as plain objects and became Maps when a non-str key arrived.
  protected converted: Map<object, Map<unknown, unknown>> | null = null
  // Insertion order of plain-object dicts that have array-index keys (JS objects reorder those),
  // also remembered for writers (@cachex/core's _key-order.ts).
  protected indexKeyOrder: Map<object, string[]> | null = null
  // UUIDs made by __new__ that still wait for their state.
  protected pendingUuids: Set<PyUUID> | null = null
  // What JS values cannot tell apart: which arrays are tuples (lists are the others), which
  // Sets are frozensets, which Buffers are bytearrays. Python refuses to append to a tuple, to
  // call with a list of arguments, or to hash a list, dict, set or bytearray (a dict key or set
  // item); so does this reader.
  protected readonly tuples = new Set<unknown[]>()
  protected readonly frozensets = new Set<Set<unknown>>()
  protected readonly bytearrays = new Set<Buffer>()
  protected readonly hashableTuples = new Set<unknown[]>()
  // Work beyond reading the input: items copied by constructors, dict conversions, fix-ups.
  protected budget: number
  // How many containers (lists, tuples, dicts, sets) were made: no value nests deeper. And
  // whether a container was taken again from the memo or by DUP (containers may then be shared
  // and hold cycles).
  protected containers = 0
  protected shared = false
  // The application's classes (pickleSerializer's `classes`), and the values their handlers
  // made (a BUILD on one goes to its handler's setState).
  protected readonly classes: ClassTable | null
  protected handled: Map<object, ClassEntry> | null = null
  // The check of what leaves the reader (`handOut`): the containers walked already, each checked
  // and fixed once; the slots to visit (pairs of a container and a key, or null and a value
  // handed out), queued until there is something to check; and where each plain dict met in a
  // walked container sits, to swap in its Map should it become one.
  protected walked: Set<object> | null = null
  protected readonly toVisit: unknown[] = []
  protected dictSlots: Map<object, unknown[]> | null = null
  // Whether builtins.getattr was loaded: the value read must then be checked for leftovers.
  protected internals = false

  constructor(data: Buffer, classes: ClassTable | null) {
    this.data = data
    this.classes = classes
    this.budget = 16 * data.length + 1_000_000
  }

  /**
   * Whether a message may quote what the pickle holds: in a pickle of protocol 2 or later (PROTO
   * first: never text). Protocols 0 and 1 cannot be told from plain text read as a pickle
   * (`config\n…\nNoted.` is one in shape), whose own text a message would quote.
   */
  protected quotes(): boolean {
    return this.data[0] === 0x80
  }

  /** Resolves a global by name: the allow-list, getattr, the application's classes. */
  protected global(module: string, name: string): PyGlobal | Internal {
    const mod = Object.hasOwn(PY2_MODULES, module) ? (PY2_MODULES[module] as string) : module
    const key = `${mod}.${name}`
    if (ALLOWED_GLOBALS.has(key) || this.classes?.byGlobal.has(`${mod}\n${name}`) === true) {
      return new PyGlobal(mod, name)
    }
    if (key === 'builtins.getattr') {
      this.internals = true
      return GETATTR
    }
    if (this.classes?.nestedPaths.has(`${mod}\n${name}`) === true) {
      this.internals = true
      return new NestedPath(mod, name)
    }
    // Named only where a message may quote the pickle (`quotes`).
    return refuseGlobal(
      this.quotes()
        ? `${clip(mod, 100)}.${clip(name, 100)}`
        : '(named only in a pickle of protocol 2 or later: these bytes may be text)',
    )
  }

  /** Calls an application's handler on what the pickle holds; its errors keep their cause. */
  protected callHandler(entry: ClassEntry, args: unknown[], kind: PickleCallKind): unknown {
    this.handOut(args)
    let value: unknown
    try {
      value = entry.handler.read(args, kind)
    } catch (error) {
      handlerRefused(`${entry.module}.${entry.name}`, error)
    }
    if (typeof value === 'object' && value !== null) {
      this.handled ??= new Map()
      this.handled.set(value, entry)
    }
    return value
  }

  /**
   * Checks and fixes `root` as it leaves the reader (a handler call's arguments, a BUILD's state,
   * the value read at STOP), with whatever the pickle wrote since into what left before: no
   * getattr nor what it returned, and every dict that became a Map swapped for its Map. The
   * handlers keep what they were given, and the pickle may add to it after the call (APPEND or
   * SETITEM into a memoized list or dict): those writes are checked at the next call, and at STOP.
   * `last` at STOP: no dict becomes a Map any more, where dicts sit need not be remembered.
   */
  protected handOut(root: unknown, last = false): void {
    this.toVisit.push(null, root)
    this.visit(last)
  }

  /**
   * Visits the slots queued, and every container met that was not walked yet, slot by slot.
   * Each container is walked once, whoever shares it, and a write into a walked one queues just
   * the slot written (`written`): the whole check is linear in the input. Nothing is walked
   * until a dict became a Map or getattr was loaded (before that there is nothing to fix or
   * refuse): the queue waits, and the first walk takes all of it. (`last`: see `handOut`.)
   */
  protected visit(last: boolean): void {
    const converted = this.converted
    if (converted === null && !this.internals) return
    const queue = this.toVisit
    this.walked ??= new Set()
    const walked = this.walked
    while (queue.length > 0) {
      const key = queue.pop()
      const holder = queue.pop() as object | null
      const found = holder === null ? key : slotValue(holder, key)
      if (found instanceof NestedPath) {
        fail(`${found.what} is read only as the class a nested class is found in (getattr)`)
      }
      if (found instanceof Internal) {
        fail(`${found.what} is read only as the callable of the call that creates a time zone`)
      }
      if (!isContainer(found)) continue
      const map = converted?.get(found)
      const value = map ?? found
      if (map !== undefined) {
        if (holder !== null) setSlot(holder, key, map)
      } else if (!last && holder !== null && isPlainDict(value)) {
        this.dictSlots ??= new Map()
        const slots = this.dictSlots.get(value)
        if (slots === undefined) this.dictSlots.set(value, [holder, key])
        else slots.push(holder, key)
      }
      if (walked.has(value)) continue
      walked.add(value)
      this.queueSlots(value)
    }
  }

  /** Queues every slot of a container (the work is charged). */
  private queueSlots(node: object): void {
    if (Array.isArray(node)) {
      this.charge(node.length)
      for (let i = 0; i < node.length; i++) this.toVisit.push(node, i)
    } else if (node instanceof Map || node instanceof Set) {
      this.charge(node.size)
      for (const key of node.keys()) this.queueSlot(node, key)
    } else {
      const keys = Object.keys(node)
      this.charge(keys.length)
      for (const key of keys) this.toVisit.push(node, key)
    }
  }

  /**
   * Queues one slot: a list's index, a dict's key (a Map's key is checked too, as a value), a
   * set's item (a value: a set item is hashable, never a dict, there is nothing to swap).
   */
  private queueSlot(holder: object, key: unknown): void {
    if (holder instanceof Set) this.toVisit.push(null, key)
    else if (holder instanceof Map) this.toVisit.push(null, key, holder, key)
    else this.toVisit.push(holder, key)
  }

  /** The pickle wrote `container[key]` (APPEND, SETITEM, ADDITEMS): visited again if walked. */
  protected written(container: object, key: unknown): void {
    if (this.walked?.has(container) === true) this.queueSlot(container, key)
  }

  /** A handler's setState changed `obj` (BUILD): walked again, all of it, if it was walked. */
  protected changed(obj: object): void {
    if (this.walked?.delete(obj) === true) this.toVisit.push(null, obj)
  }

  /**
   * `dict` became `map` (a key that is not a str arrived): the walked containers that hold it
   * get the Map in its place, and the Map (with what is new in it) is walked if the dict was.
   */
  protected replaced(dict: object, map: Map<unknown, unknown>): void {
    const slots = this.dictSlots?.get(dict)
    if (slots !== undefined) {
      this.dictSlots?.delete(dict)
      for (let i = 0; i < slots.length; i += 2) {
        const holder = slots[i] as object
        if (slotValue(holder, slots[i + 1]) === dict) setSlot(holder, slots[i + 1], map)
      }
    }
    if (this.walked?.has(dict) === true) this.toVisit.push(null, map)
  }

  protected tuple(items: unknown[]): unknown[] {
    this.tuples.add(items)
    this.containers++
    return items
  }

  /** A value taken again from the memo or by DUP: containers may now be shared. */
  protected reuse(value: unknown): unknown {
    if (!this.shared && isContainer(value)) this.shared = true
    return value
  }

  /** Throws unless `value` can be a dict key or a set item in Python. */
  protected checkHashable(value: unknown): void {
    if (typeof value !== 'object' || value === null) return
    const todo: unknown[] = [value]
    while (todo.length > 0) {
      const v = todo.pop()
      if (typeof v !== 'object' || v === null) continue
      let kind: string | null = null
      if (Array.isArray(v)) {
        if (!this.tuples.has(v)) kind = 'list'
        else if (!this.hashableTuples.has(v)) {
          this.charge(v.length)
          this.hashableTuples.add(v) // (the check fails as a whole if an item is unhashable)
          for (const item of v) todo.push(item)
        }
      } else if (v instanceof Set) {
        if (!this.frozensets.has(v)) kind = 'set'
      } else if (Buffer.isBuffer(v)) {
        if (this.bytearrays.has(v)) kind = 'bytearray'
      } else if (v instanceof Map || isPlainDict(v)) {
        kind = 'dict'
      }
      if (kind !== null) fail(`unhashable type: '${kind}' (as a dict key or set item)`)
    }
  }

  protected checkHashables(items: readonly unknown[], from: number, to: number, step: 1 | 2): void {
    for (let i = from; i < to; i += step) {
      const item = items[i]
      if (typeof item === 'object' && item !== null) this.checkHashable(item)
    }
  }

  protected charge(units: number): void {
    this.budget -= units
    if (this.budget < 0) failPassedOn('too much work for the size of the input (a pickle bomb?)')
  }

  // --- input --------------------------------------------------------------------------------

  protected need(n: number): number {
    const start = this.pos
    if (n > this.data.length - start) fail('pickle data was truncated')
    this.pos = start + n
    return start
  }

  /**
   * The end (the newline's index) of the line starting at `pos`, which must come within `max`
   * bytes: the scan stops there, so a missing newline costs at most `max` steps.
   */
  protected lineEnd(max: number, opcode: string): number {
    const data = this.data
    const stop = Math.min(data.length, this.pos + max + 1)
    for (let i = this.pos; i < stop; i++) if (data[i] === 0x0a) return i
    if (stop === data.length) fail('pickle data was truncated (no newline)')
    return fail(`${opcode} line longer than ${max} bytes`)
  }

  /** A text opcode's argument line (latin-1), at most `max` bytes long. */
  protected readLine(max: number, opcode: string): string {
    const end = this.lineEnd(max, opcode)
    const text = this.data.toString('latin1', this.pos, end)
    this.pos = end + 1
    return text
  }

  /** A GLOBAL's module or name line (UTF-8), at most `max` bytes long. */
  protected readUtf8Line(max: number, opcode: string): string {
    const end = this.lineEnd(max, opcode)
    const text = decodeUtf8(this.data, this.pos, end)
    this.pos = end + 1
    return text
  }

  /** The end of a STRING or UNICODE line: as long as the input allows (one native scan). */
  protected longLineEnd(): number {
    const end = this.data.indexOf(0x0a, this.pos)
    if (end === -1) fail('pickle data was truncated (no newline)')
    return end
  }

  protected readSize(width: 1 | 4 | 8): number {
    const at = this.need(width)
    if (width === 1) return this.data[at] as number
    if (width === 4) return this.data.readUInt32LE(at)
    const lo = this.data.readUInt32LE(at)
    const hi = this.data.readUInt32LE(at + 4)
    // Anything past 2^53 is past the input anyway: keep it huge so that need() refuses it.
    return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 0x100000000 + lo
  }

  // --- stack --------------------------------------------------------------------------------

  protected pop(): unknown {
    if (this.stack.length <= this.fence) fail('unpickling stack underflow')
    return this.stack.pop()
  }

  protected top(): unknown {
    if (this.stack.length <= this.fence) fail('unpickling stack underflow')
    return this.stack[this.stack.length - 1]
  }

  protected popMark(): number {
    const mark = this.marks.pop()
    if (mark === undefined) fail('could not find MARK')
    this.fence = this.marks.length > 0 ? (this.marks[this.marks.length - 1] as number) : 0
    return mark
  }

  /** Pops everything down to the last MARK, and the MARK. */
  protected popToMark(): unknown[] {
    const mark = this.popMark()
    const items = this.stack.splice(mark)
    return items
  }

  protected memoGet(index: number): unknown {
    let value = index < this.memo.length ? this.memo[index] : undefined
    if (value === undefined && this.memoFar !== null) value = this.memoFar.get(index)
    // Not named: the index is the bytes after GET's opcode, which plain text read as a pickle
    // makes of its own (`john:…` reads as a LONG_BINGET of `ohn:`); no pickle Python writes
    // gets here.
    if (value === undefined) fail('memo key not found')
    return value
  }

  protected memoPut(index: number, value: unknown): void {
    if (index <= this.memo.length + 4096 && this.memoFar?.has(index) !== true) {
      if (this.memo[index] === undefined) this.memoCount++
      this.memo[index] = value
    } else {
      this.memoFar ??= new Map()
      if (!this.memoFar.has(index)) this.memoCount++
      this.memoFar.set(index, value)
    }
  }

  /** Drops the stack down to `length` items. */
  protected truncate(length: number): void {
    const stack = this.stack
    while (stack.length > length) stack.pop()
  }
}

/** What a list, Map or plain dict holds at `key`. */
function slotValue(holder: object, key: unknown): unknown {
  if (holder instanceof Map) return holder.get(key)
  return (holder as Record<string | number, unknown>)[key as string | number]
}

/** Puts `value` at `key` in a list, Map or plain dict. */
function setSlot(holder: object, key: unknown, value: unknown): void {
  if (holder instanceof Map) holder.set(key, value)
  else (holder as Record<string | number, unknown>)[key as string | number] = value
}
