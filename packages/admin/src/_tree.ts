// A decoded value as the browser shows it: a tree of typed nodes, every Python type named
// (`tuple`, `datetime`, `Decimal`…), bounded in nodes, text and depth whatever the value holds
// (cycles of a pickle included). Keys of dicts are nodes in a list of pairs, never properties of
// an object, so no name read from Redis reaches a prototype.
import type { TreeNode } from './_api-types.ts'

/** How much of a value one response shows. */
export interface TreeBudget {
  /** Nodes left. */
  nodes: number
  /** Characters of text left. */
  chars: number
}

/** Nodes one response shows at most. */
export const MAX_NODES = 20_000
/** Characters of text one response shows at most. */
export const MAX_CHARS = 2_000_000
/** Characters of one string shown at most. */
const MAX_STRING = 65_536
/** Bytes of one bytes value shown at most. */
const MAX_BYTES_SHOWN = 4096
/** Levels shown at most. */
const MAX_DEPTH = 64

export function newBudget(): TreeBudget {
  return { nodes: MAX_NODES, chars: MAX_CHARS }
}

/** The Python name of the stand-in classes of @cachex/serializers, by class name. */
const PY_CLASSES: Record<string, TreeNode['type']> = {
  PyDateTime: 'datetime',
  PyDate: 'date',
  PyTime: 'time',
  PyTimeDelta: 'timedelta',
  PyDecimal: 'Decimal',
  PyUUID: 'UUID',
  PyTimezone: 'timezone',
  PytzTimezone: 'timezone',
  PyZoneInfo: 'ZoneInfo',
  PySafeString: 'SafeString',
  PyGlobal: 'global',
}

/**
 * The tree of `value`. `kinds` (from the codec's `inspect`) says which arrays were tuples and
 * which Sets frozensets, which Buffers bytearrays, which `Number` objects whole floats.
 */
export function toTree(
  value: unknown,
  kinds: ReadonlyMap<object, string> | undefined,
  budget: TreeBudget,
): TreeNode {
  return node(value, kinds, budget, { path: new Set(), seen: new Set() }, 0)
}

/** The containers on the way to a node (a cycle), and every one already shown (shared). */
interface Walk {
  path: Set<object>
  seen: Set<object>
}

function text(value: string, budget: TreeBudget): { value: string; length?: number } {
  const room = Math.max(0, Math.min(MAX_STRING, budget.chars))
  budget.chars -= Math.min(value.length, room)
  return value.length <= room ? { value } : { value: value.slice(0, room), length: value.length }
}

function node(
  value: unknown,
  kinds: ReadonlyMap<object, string> | undefined,
  budget: TreeBudget,
  walk: Walk,
  depth: number,
): TreeNode {
  budget.nodes--
  switch (typeof value) {
    case 'string':
      return { type: 'str', ...text(value, budget) }
    case 'number':
      return { type: Number.isInteger(value) ? 'int' : 'float', value: String(value) }
    case 'bigint':
      return { type: 'int', value: bigIntText(value) }
    case 'boolean':
      return { type: 'bool', value }
    case 'undefined':
      return { type: 'none' }
    case 'symbol':
    case 'function':
      return { type: 'object', value: typeof value }
  }
  if (value === null) return { type: 'none' }
  const object = value as object
  // A float that is whole (1.0), which JS reads as 1: the serializer's `inspect` boxes it (pickle,
  // JSON, msgpack).
  if (object instanceof Number && kinds?.get(object) === 'float') {
    return { type: 'float', value: wholeFloat(object.valueOf()) }
  }
  if (Buffer.isBuffer(object) || object instanceof Uint8Array) {
    const bytes = Buffer.from(object.buffer, object.byteOffset, object.byteLength)
    const type = kinds?.get(object) === 'bytearray' ? 'bytearray' : 'bytes'
    const shown = escapeBytes(bytes, Math.min(MAX_BYTES_SHOWN, Math.max(0, budget.chars)))
    budget.chars -= shown.length
    return { type, value: shown, length: bytes.length }
  }
  if (object instanceof Date) {
    return {
      type: 'datetime',
      value: Number.isNaN(object.getTime()) ? 'Invalid Date' : object.toISOString(),
    }
  }
  const name = className(object)
  if (name === 'PyTuple') {
    const items = (object as { items?: unknown }).items
    const list = Array.isArray(items) ? items : []
    return container('tuple', list, list.length, kinds, budget, walk, depth, object)
  }
  const py = name === undefined ? undefined : PY_CLASSES[name]
  if (py !== undefined) return { type: py, ...text(safeString(object), budget) } as TreeNode
  if (walk.path.has(object)) return { type: 'cycle' }
  // A container shown already (pickles share objects): once is enough, and it bounds the work.
  if (walk.seen.has(object)) return { type: 'ref' }
  if (depth >= MAX_DEPTH) return { type: 'deep' }
  walk.seen.add(object)
  if (Array.isArray(object)) {
    const type = kinds?.get(object) === 'tuple' ? 'tuple' : 'list'
    return container(type, object, object.length, kinds, budget, walk, depth, object)
  }
  if (object instanceof Set) {
    const type = kinds?.get(object) === 'frozenset' ? 'frozenset' : 'set'
    return container(type, object, object.size, kinds, budget, walk, depth, object)
  }
  if (object instanceof Map) {
    return dict(object.entries(), object.size, kinds, budget, walk, depth, object)
  }
  const entries = Object.entries(object)
  const proto = Object.getPrototypeOf(object)
  const tree = dict(entries.values(), entries.length, kinds, budget, walk, depth, object)
  if (proto !== Object.prototype && proto !== null && name !== undefined) {
    return { ...tree, class: name } as TreeNode
  }
  return tree
}

function container(
  type: 'list' | 'tuple' | 'set' | 'frozenset',
  values: Iterable<unknown>,
  length: number,
  kinds: ReadonlyMap<object, string> | undefined,
  budget: TreeBudget,
  walk: Walk,
  depth: number,
  self: object,
): TreeNode {
  walk.path.add(self)
  const items: TreeNode[] = []
  for (const item of values) {
    if (budget.nodes <= 0 || budget.chars <= 0) break
    items.push(node(item, kinds, budget, walk, depth + 1))
  }
  walk.path.delete(self)
  return { type, items, length }
}

function dict(
  pairs: Iterator<[unknown, unknown]>,
  length: number,
  kinds: ReadonlyMap<object, string> | undefined,
  budget: TreeBudget,
  walk: Walk,
  depth: number,
  self: object,
): TreeNode {
  walk.path.add(self)
  const entries: Array<[TreeNode, TreeNode]> = []
  for (let next = pairs.next(); !next.done; next = pairs.next()) {
    if (budget.nodes <= 0 || budget.chars <= 0) break
    const [k, v] = next.value
    entries.push([node(k, kinds, budget, walk, depth + 1), node(v, kinds, budget, walk, depth + 1)])
  }
  walk.path.delete(self)
  return { type: 'dict', entries, length }
}

/**
 * A whole float as Python's `repr` writes it: `1.0`, `-0.0`; from 1e16 on, in exponent form with
 * the shortest digits that read back the same (`1e+16`, `1.2345678901234567e+19`).
 */
function wholeFloat(x: number): string {
  if (Object.is(x, -0)) return '-0.0'
  return Math.abs(x) < 1e16 ? `${x}.0` : x.toExponential()
}

/** Decimal digits of an int written whole at most, as Python's `str(int)` by default. */
const MAX_INT_DIGITS = 4300
/** Hex digits of a longer int shown. */
const INT_HEX_SHOWN = 32

/**
 * An int's decimal digits, or past `MAX_INT_DIGITS` (converting to decimal takes a time that
 * grows with the square of the length: 42 s for a pickle's int of 16 MB, the process frozen) how
 * many digits it has and its first hex digits. Hex takes linear time, and its length gives the
 * bit length, which gives the count of decimal digits: `bits × log10(2)`, rounded down, plus
 * one (or that count is one too many).
 */
function bigIntText(value: bigint): string {
  const negative = value < 0n
  const hex = (negative ? -value : value).toString(16)
  const bits = (hex.length - 1) * 4 + Number.parseInt(hex[0] as string, 16).toString(2).length
  const digits = Math.floor(bits * Math.log10(2)) + 1
  // The estimate is the count or one more: at the bound, the digits tell.
  if (digits <= MAX_INT_DIGITS + 1) {
    const text = value.toString()
    if (text.length - (negative ? 1 : 0) <= MAX_INT_DIGITS) return text
  }
  const shown = `${negative ? '-' : ''}0x${hex.slice(0, INT_HEX_SHOWN)}…`
  return `an int of about ${grouped(digits)} digits (${shown})`
}

/** An integer with a comma between each group of three digits: `40,403,562`. */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, ',')
}

/** The name of an object's class, when it is not a plain object. */
function className(object: object): string | undefined {
  const proto = Object.getPrototypeOf(object)
  if (proto === null || proto === Object.prototype) return undefined
  const maker = (proto as { constructor?: unknown }).constructor
  if (typeof maker !== 'function') return undefined
  const name = (maker as { name?: unknown }).name
  return typeof name === 'string' && name !== '' ? name : undefined
}

function safeString(object: object): string {
  try {
    return String(object)
  } catch {
    return '?'
  }
}

/**
 * Bytes as Python writes a `bytes` literal's inside: printable ASCII as is, `\\`, `\n`, `\r`,
 * `\t`, every other byte as `\xNN`; at most `max` characters, then `…`.
 */
export function escapeBytes(bytes: Uint8Array, max: number): string {
  let out = ''
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number
    let piece: string
    if (b === 0x5c) piece = '\\\\'
    else if (b === 0x0a) piece = '\\n'
    else if (b === 0x0d) piece = '\\r'
    else if (b === 0x09) piece = '\\t'
    else if (b >= 0x20 && b < 0x7f) piece = String.fromCharCode(b)
    else piece = `\\x${b.toString(16).padStart(2, '0')}`
    if (out.length + piece.length > max) return `${out}…`
    out += piece
  }
  return out
}

/** Nodes of an editable value at most, and its JSON text's length. */
const MAX_EDITABLE_NODES = 100_000
const MAX_EDITABLE_CHARS = 1024 * 1024
const MAX_EDITABLE_DEPTH = 100

/**
 * The value as JSON text for the editor, or `null` when JSON cannot carry it as it is: a Python
 * type (tuple, set, bytes, datetime, Decimal…), a dict with keys that are not strings, a number
 * JSON would change (NaN, a bigint, a whole float such as 1.0, which JSON writes as the int 1),
 * a cycle, or a value too large or too deep to edit.
 */
export function editableJson(value: unknown, kinds: ReadonlyMap<object, string> | undefined) {
  const walk = { nodes: 0, chars: 0 }
  if (!plainJson(value, kinds, walk, 0)) return null
  // The walk counted every string as often as JSON would write it (a pickle may share one string
  // thousands of times): past the bound, nothing is stringified at all.
  const json = JSON.stringify(value, null, 2)
  return json.length > MAX_EDITABLE_CHARS ? null : json
}

/**
 * Whether JSON carries `v` as it is, within the bounds: nodes, depth, and characters of the
 * strings and keys JSON would write (counted at each occurrence, shared or not).
 */
function plainJson(
  v: unknown,
  kinds: ReadonlyMap<object, string> | undefined,
  walk: { nodes: number; chars: number },
  depth: number,
): boolean {
  if (++walk.nodes > MAX_EDITABLE_NODES || depth > MAX_EDITABLE_DEPTH) return false
  if (typeof v === 'string') return addChars(walk, v.length)
  if (v === null || typeof v === 'boolean') return true
  if (typeof v === 'number') return Number.isFinite(v)
  if (typeof v !== 'object') return false
  // A kind JS values cannot tell apart (a tuple, a frozenset, a whole float…): JSON would lose it.
  if (kinds?.has(v) === true) return false
  if (Array.isArray(v)) {
    for (const item of v) if (!plainJson(item, kinds, walk, depth + 1)) return false
    return true
  }
  const proto = Object.getPrototypeOf(v)
  if (proto !== Object.prototype && proto !== null) return false
  for (const key in v as object) {
    if (!Object.hasOwn(v as object, key)) continue
    if (!addChars(walk, key.length)) return false
    if (!plainJson((v as Record<string, unknown>)[key], kinds, walk, depth + 1)) return false
  }
  return true
}

/** Adds `n` characters to the walk; `false` once they pass `MAX_EDITABLE_CHARS`. */
function addChars(walk: { chars: number }, n: number): boolean {
  walk.chars += n
  return walk.chars <= MAX_EDITABLE_CHARS
}
