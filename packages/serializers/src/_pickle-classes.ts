// The extension point of the pickle serializer: a table of an application's own Python classes,
// each with the code that builds a JS value from what the pickle holds, and back.

import { InvalidArgumentError } from '@cachex/core'

/** How a pickle creates an instance of a class: `cls(*args)` or `cls.__new__(cls, *args)`. */
export type PickleCallKind = 'reduce' | 'new'

/** What `PickleClass.write` gives: how the pickle re-creates the value in Python. */
export interface PickledInstance {
  /** The arguments of the call, written as a Python `tuple`. */
  args: readonly unknown[]
  /**
   * `'new'` (the default) writes `cls.__new__(cls, *args)` (NEWOBJ), what CPython writes for
   * instances of plain classes from protocol 2 on; `'reduce'` writes `cls(*args)` (REDUCE), what it
   * writes when the class's `__reduce__` returns `(cls, args)`.
   * @default 'new'
   */
  kind?: PickleCallKind
  /**
   * The state Python then sets (BUILD): usually a dict, the instance's `__dict__`. Omitted or
   * `undefined`: no state, as CPython writes for an instance with an empty `__dict__`.
   */
  state?: unknown
}

/**
 * A reader (and optionally a writer) for one Python class or callable that the pickle reader does
 * not know. The reader never runs Python code: it calls `read` with the arguments the pickle holds
 * — data from Redis, which whoever can write to Redis controls — so `read` and `setState` must
 * check what they get, and never pass it on to anything that executes or loads code.
 */
export interface PickleClass<T = unknown> {
  /**
   * Builds the JS value when the pickle calls the class: `kind` is `'new'` for
   * `cls.__new__(cls, *args)` (NEWOBJ, what CPython writes for most classes; `args` is usually
   * empty, the fields come with `setState`), `'reduce'` for `cls(*args)` (REDUCE, for classes
   * whose `__reduce__` returns `(cls, args)`). `args` are values as the reader gives them (tuples
   * as arrays, dicts as objects or Maps). Throw to refuse.
   */
  read(args: unknown[], kind: PickleCallKind): T
  /**
   * Applies the state that follows the call (BUILD: Python's `__setstate__`, or the update of
   * `__dict__`; a dict, or `[dict, slots]` for classes with `__slots__`) to the value `read` made,
   * in place. Without it, a pickle that carries state for this class is refused.
   */
  setState?(value: T, state: unknown): void
  /**
   * For writing: the JS class whose instances are written as this Python class (`instanceof`).
   * Without `type` and `write`, the class is read-only.
   */
  type?: abstract new (
    ...args: never[]
  ) => T
  /** For writing: the arguments and state that re-create `value` in Python. */
  write?(value: T): PickledInstance
}

/**
 * Application classes the pickle serializer reads (and writes), by their global name as Python
 * pickles it: `'myapp.models.Money'` (module and class name, split at the last dot), or
 * `'module:Outer.Inner'` for a nested class. Off by default: every global outside the built-in
 * allow-list is refused.
 */
export type PickleClasses = Readonly<Record<string, PickleClass>>

/** One entry of the table, with its global split into module and qualified name. */
export interface ClassEntry {
  readonly module: string
  readonly name: string
  readonly handler: PickleClass<unknown>
}

/** The table, checked, by `module\nname` (the reader's lookup) and in order (the writer's). */
export interface ClassTable {
  readonly byGlobal: ReadonlyMap<string, ClassEntry>
  readonly writers: readonly ClassEntry[]
  /**
   * The classes a nested class's name goes through, by `module\nqualname`: `Outer` (and
   * `Outer.Inner` of `Outer.Inner.Deep`) for `'module:Outer.Inner'`. Protocols 0 to 3 pickle a
   * nested class as `getattr(module.Outer, 'Inner')`: the reader follows such a path to a
   * handler, and no further.
   */
  readonly nestedPaths: ReadonlySet<string>
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/

/** Checks the user's table; `reserved` are the globals the reader handles itself. */
export function classTable(
  classes: PickleClasses | undefined,
  reserved: ReadonlySet<string>,
): ClassTable | null {
  if (classes === undefined) return null
  if (typeof classes !== 'object' || classes === null) {
    throw new InvalidArgumentError('pickle classes must be an object: { "module.Class": { read } }')
  }
  const byGlobal = new Map<string, ClassEntry>()
  const writers: ClassEntry[] = []
  const nestedPaths = new Set<string>()
  for (const [global, handler] of Object.entries(classes)) {
    const colon = global.indexOf(':')
    const split = colon >= 0 ? colon : global.lastIndexOf('.')
    const module = global.slice(0, Math.max(split, 0))
    const name = global.slice(split + 1)
    if (split <= 0 || !NAME.test(module) || !NAME.test(name)) {
      throw new InvalidArgumentError(
        `pickle classes: ${JSON.stringify(global)} is not a global name ('module.Class', or 'module:Outer.Inner')`,
      )
    }
    if (reserved.has(`${module}.${name}`)) {
      throw new InvalidArgumentError(
        `pickle classes: ${global} is read by the serializer itself and cannot be replaced`,
      )
    }
    if (typeof handler !== 'object' || handler === null || typeof handler.read !== 'function') {
      throw new InvalidArgumentError(`pickle classes: ${global} needs a read(args, kind) function`)
    }
    if ((handler.type === undefined) !== (handler.write === undefined)) {
      throw new InvalidArgumentError(
        `pickle classes: ${global} needs both type and write to be written, or neither`,
      )
    }
    for (const member of ['setState', 'type', 'write'] as const) {
      const value = handler[member]
      if (value !== undefined && typeof value !== 'function') {
        throw new InvalidArgumentError(`pickle classes: ${global}.${member} must be a function`)
      }
    }
    const entry: ClassEntry = { module, name, handler: handler as PickleClass<unknown> }
    byGlobal.set(`${module}\n${name}`, entry)
    if (handler.type !== undefined) writers.push(entry)
    for (let dot = name.indexOf('.'); dot > 0; dot = name.indexOf('.', dot + 1)) {
      nestedPaths.add(`${module}\n${name.slice(0, dot)}`)
    }
  }
  return { byGlobal, writers, nestedPaths }
}
