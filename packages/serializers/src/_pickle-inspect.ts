// The pickle reader for inspection tools (the admin UI): `loadPickle`'s value, plus the Python
// kind of each value JS cannot tell apart — which arrays were tuples, which Sets frozensets, which
// Buffers bytearrays, and which numbers whole floats. JS has one number type, so 1.0 reads as 1,
// as an int does: here it is boxed (`new Number(1)`, kind 'float'), so a tool can tell them
// apart. Boxes stay in the value (list and tuple items, dict values, the value itself); a dict
// key, a set item, and what a constructor or BUILD is given get the number itself, so the value
// is the one `loadPickle` reads, but for the boxes.
import { itemBound } from '@cachex/core/internal'
import type { ClassTable } from './_pickle-classes.ts'
import { isContainer } from './_pickle-read-containers.ts'
import { Reader } from './_pickle-reader.ts'

class InspectingReader extends Reader {
  /** The whole floats read, each boxed. */
  private readonly floats = new Set<object>()
  /** The containers whose items were unboxed (`unboxAll`): what calls and BUILDs were given. */
  private unboxed: Set<object> | null = null
  /** Maps that walked dicts became, during one SETITEMS: walked once it is done. */
  private readonly turned: Map<unknown, unknown>[] = []

  constructor(data: Buffer, classes: ClassTable | null, maxItems: number) {
    super(data, classes)
    this.maxItems = maxItems
    this.itemsLeft = maxItems
  }

  /** After `run()`: the tuples, frozensets, bytearrays and boxed whole floats read, by kind. */
  override kinds(): Map<object, string> {
    const kinds = super.kinds()
    for (const float of this.floats) kinds.set(float, 'float')
    return kinds
  }

  /** `x`, boxed when whole (a float that JS would show as an int). */
  protected override float(x: number): unknown {
    if (!Number.isInteger(x)) return x
    const box = new Number(x)
    this.floats.add(box)
    return box
  }

  /** Set members are numbers, as `loadPickle` reads them (Python's 1 == 1.0). */
  protected override setMembers(items: unknown[], from: number, to: number): void {
    this.unboxRange(items, from, to, 1)
  }

  /** `value`, unboxed if it is a boxed float. */
  private unbox(value: unknown): unknown {
    return value instanceof Number && this.floats.has(value) ? value.valueOf() : value
  }

  /** Unboxes the items `from`, `from + step`… before `to` of `items`, in place. */
  private unboxRange(items: unknown[], from: number, to: number, step: 1 | 2): void {
    for (let i = from; i < to; i += step) items[i] = this.unbox(items[i])
  }

  /**
   * Unboxes every boxed float in `root` and the containers it holds, in place: what a
   * constructor, a handler or BUILD is given holds numbers, as `loadPickle` gives them. Each
   * container is walked once, whoever shares it (the work is charged); a write into one walked
   * already is unboxed where it lands (`written`), and a walked dict that becomes a Map has the
   * Map walked (`replaced`). Walked before any whole float was read too: one may be written into
   * what a call was given later.
   */
  private unboxAll(root: unknown): unknown {
    this.walk([root])
    return this.unbox(root)
  }

  /** A walked dict became `map` in the SETITEMS under way: the Map is walked after it. */
  protected override replaced(dict: object, map: Map<unknown, unknown>): void {
    super.replaced(dict, map)
    if (this.unboxed?.has(dict) === true) this.turned.push(map)
  }

  /** Walks `todo` and the containers it holds that were not walked yet, unboxing their items. */
  private walk(todo: unknown[]): void {
    this.unboxed ??= new Set()
    const seen = this.unboxed
    while (todo.length > 0) {
      const node = this.resolve(todo.pop())
      if (!isContainer(node) || seen.has(node)) continue
      seen.add(node)
      if (Array.isArray(node)) {
        this.charge(node.length)
        this.unboxRange(node, 0, node.length, 1)
        for (const item of node) todo.push(item)
      } else if (node instanceof Map) {
        this.charge(node.size)
        for (const [k, v] of node) {
          const nv = this.unbox(v)
          if (nv !== v) node.set(k, nv)
          todo.push(k, nv)
        }
      } else if (node instanceof Set) {
        // Items are unboxed as they are added: only containers to walk.
        this.charge(node.size)
        for (const item of node) todo.push(item)
      } else {
        const dict = node as Record<string, unknown>
        const keys = Object.keys(dict)
        this.charge(keys.length)
        for (const key of keys) {
          const nv = this.unbox(dict[key])
          if (nv !== dict[key]) dict[key] = nv
          todo.push(nv)
        }
      }
    }
  }

  /** A write into a container walked already: the value written is unboxed, and walked. */
  protected override written(container: object, key: unknown): void {
    super.written(container, key)
    if (this.unboxed?.has(container) !== true) return
    if (container instanceof Set) {
      this.walk([key])
    } else if (container instanceof Map) {
      const value = this.unbox(container.get(key))
      container.set(key, value)
      this.walk([key, value])
    } else {
      const slots = container as Record<PropertyKey, unknown>
      const value = this.unbox(slots[key as PropertyKey])
      slots[key as PropertyKey] = value
      this.walk([value])
    }
  }

  /** An object a handler's setState changed: walked again at the next call that is given it. */
  protected override changed(obj: object): void {
    super.changed(obj)
    this.unboxed?.delete(obj)
  }

  protected override setItems(
    target: unknown,
    items: unknown[],
    from: number,
    to: number,
    slot: number,
  ): void {
    // A key is the number, as loadPickle makes it (a Map key, found by Python's 1 == 1.0).
    this.unboxRange(items, from, to, 2)
    // A dict's keys are no items, as in JSON and msgpack: counted as they were pushed (a key
    // repeated in every row of a list of dicts is a memo reference each time), given back here.
    this.itemsLeft += (to - from) / 2
    super.setItems(target, items, from, to, slot)
    if (this.turned.length > 0) this.walk(this.turned.splice(0))
  }

  protected override construct(callable: unknown, args: unknown, viaNew: boolean): unknown {
    return super.construct(this.unbox(callable), this.unboxAll(args), viaNew)
  }

  protected override build(target: unknown, state: unknown): void {
    super.build(this.unbox(target), this.unboxAll(state))
  }
}

/**
 * `loadPickle`, plus the Python kind of each value JS cannot tell apart: which arrays were
 * tuples, which Sets frozensets, which Buffers bytearrays (for inspection tools). A whole float
 * (`1.0`, which JS reads as `1`, as an int) is a `Number` object of kind `'float'` — a list or
 * tuple item, a dict value, or the value itself; a dict key or set item stays a number.
 * Makes at most `maxItems` values (`MAX_INSPECT_ITEMS` by default; each value an opcode makes
 * counts, a dict's keys too): past them, `tooManyItemsError`, before making the next.
 */
export function inspectPickle(
  data: Uint8Array,
  classes: ClassTable | null = null,
  maxItems?: number,
): { value: unknown; kinds: Map<object, string> } {
  const buffer = Buffer.isBuffer(data)
    ? data
    : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const reader = new InspectingReader(buffer, classes, itemBound(maxItems))
  const value = reader.run()
  return { value, kinds: reader.kinds() }
}
