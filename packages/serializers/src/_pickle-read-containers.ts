// Python's containers as the pickle reader builds them (dict keys by Python equality, sets of
// hashables) and the nesting depth of a finished value, measured without recursion.

import { fail, MAX_READ_DEPTH } from './_pickle-read-rules.ts'

export function isPlainDict(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Whether `value` is a container the reader builds: a list or tuple, a dict, a set. */
export function isContainer(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false
  return Array.isArray(value) || value instanceof Map || value instanceof Set || isPlainDict(value)
}

/** The values a container holds (a Map's keys and values both). */
export function childrenOf(node: object): readonly unknown[] {
  if (Array.isArray(node)) return node
  if (node instanceof Set) return [...node]
  if (node instanceof Map) {
    const out: unknown[] = []
    for (const [key, value] of node) out.push(key, value)
    return out
  }
  return Object.values(node)
}

/**
 * The key already in `keys` that Python would find equal to `key`: `True == 1` and `False == 0`
 * (ints and floats are both JS numbers already, so `1 == 1.0` holds by itself).
 */
export function pyEqualKey(keys: { has(value: unknown): boolean }, key: unknown): unknown {
  if (typeof key === 'boolean') {
    const n = key ? 1 : 0
    return keys.has(n) ? n : key
  }
  if (key === 0 || key === 1) {
    const b = key === 1
    return keys.has(b) ? b : key
  }
  return key
}

/**
 * `set.add(item)` with Python's equality: an item equal to one already there is dropped. A second
 * NaN is refused (`secondNaN`).
 */
export function addPy(set: Set<unknown>, item: unknown): void {
  if (typeof item === 'number' && Number.isNaN(item) && set.has(item)) secondNaN()
  set.add(pyEqualKey(set, item))
}

/**
 * `dict[key] = value` with Python's equality: an equal key keeps its first form (returned). A
 * second NaN key is refused (`secondNaN`).
 */
export function setPy(map: Map<unknown, unknown>, key: unknown, value: unknown): unknown {
  if (typeof key === 'number' && Number.isNaN(key) && map.has(key)) secondNaN()
  const held = pyEqualKey(map, key)
  map.set(held, value)
  return held
}

/**
 * Python tells two NaN floats apart (a set or dict compares them by identity, and each NaN it
 * unpickles is an object of its own), where a JS `Set` or `Map` holds one NaN: read, the second
 * would be dropped silently (and a dict's value with it). A JS NaN has no identity: one NaN
 * reached twice through the memo (one object, one item for Python) is refused too — hand-made
 * bytes only, since CPython's pickler memoizes no float.
 */
function secondNaN(): never {
  return fail(
    'a set or dict holds more than one NaN, which Python tells apart and a JavaScript Set or Map cannot: one would be lost',
  )
}

// ---------------------------------------------------------------------------------------------
// Nesting depth of a finished value.

export function tooDeep(): never {
  return fail(`value nested more than ${MAX_READ_DEPTH} levels deep`)
}

/**
 * Throws when a value without shared containers (a tree: each container once, no cycle) nests
 * more than MAX_READ_DEPTH deep. Iterative, each container visited once: should more than the
 * `containers` made turn up, the value is not a tree after all and the general check takes over.
 */
export function treeDepthCheck(root: object, containers: number): void {
  // Pairs of (object, its depth); leaves are pushed too and skipped when popped, which is
  // cheaper than telling them apart before.
  const stack: unknown[] = [root, 1]
  let visits = 0
  while (stack.length > 0) {
    const depth = stack.pop() as number
    const node = stack.pop() as object
    let dict = false
    if (!Array.isArray(node)) {
      const proto = Object.getPrototypeOf(node)
      dict = proto === Object.prototype || proto === null
      if (!dict && proto !== Map.prototype && proto !== Set.prototype) continue // a leaf
    }
    if (depth > MAX_READ_DEPTH) tooDeep()
    if (++visits > containers) {
      longestChainCheck(root)
      return
    }
    const next = depth + 1
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const item = node[i]
        if (typeof item === 'object' && item !== null) stack.push(item, next)
      }
    } else if (dict) {
      const object = node as Record<string, unknown>
      // Own keys only: `for…in` would also visit an enumerable property of Object.prototype.
      const keys = Object.keys(object)
      for (let i = 0; i < keys.length; i++) {
        const item = object[keys[i] as string]
        if (typeof item === 'object' && item !== null) stack.push(item, next)
      }
    } else {
      for (const item of childrenOf(node)) {
        if (typeof item === 'object' && item !== null) stack.push(item, next)
      }
    }
  }
}

/**
 * Throws when the longest chain of containers in `root`, each inside the one before, is longer
 * than MAX_READ_DEPTH: a shared container counts on every chain it is on (as a recursive walk
 * of the value meets it), and the reference that closes a cycle ends a chain. Iterative, each
 * container once, with its height remembered.
 */
export function longestChainCheck(root: object): void {
  const heights = new Map<object, number>() // 0 while the container is on the current chain
  const path: object[] = []
  const items: (readonly unknown[])[] = []
  const next: number[] = []
  const best: number[] = []
  const enter = (node: object) => {
    if (path.length >= MAX_READ_DEPTH) tooDeep()
    heights.set(node, 0)
    path.push(node)
    items.push(childrenOf(node))
    next.push(0)
    best.push(0)
  }
  enter(root)
  while (path.length > 0) {
    const top = path.length - 1
    const list = items[top] as readonly unknown[]
    const i = next[top] as number
    if (i < list.length) {
      next[top] = i + 1
      const child = list[i]
      if (!isContainer(child)) continue
      const height = heights.get(child)
      if (height === undefined) enter(child)
      else if (height > (best[top] as number)) best[top] = height
      continue
    }
    const height = (best[top] as number) + 1
    if (height > MAX_READ_DEPTH) tooDeep()
    heights.set(path[top] as object, height)
    path.pop()
    items.pop()
    next.pop()
    best.pop()
    if (top > 0 && height > (best[top - 1] as number)) best[top - 1] = height
  }
}
