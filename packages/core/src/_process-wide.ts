// State that is one per process, whichever copy of the packages holds it (ESM's and CommonJS's
// builds loaded side by side, a bundler's and Node's): kept on `globalThis` under a registered
// symbol, the same in every copy.

/**
 * The value kept on `globalThis` under `Symbol.for(key)`, made with `make` (not enumerable) by
 * the first copy to ask. `key` names the owner and the value's layout (`'@cachex/redis:registry:1'`):
 * raise its number when the layout changes, so that copies that disagree do not share it. A worker
 * thread has a `globalThis` of its own, so a value of its own.
 */
export function processWide<T extends object>(key: string, make: () => T): T {
  const symbol = Symbol.for(key)
  const existing = (globalThis as Record<symbol, unknown>)[symbol]
  if (typeof existing === 'object' && existing !== null) return existing as T
  const value = make()
  // A descriptor without a prototype: a polluted `Object.prototype.get` would make it an accessor.
  Object.defineProperty(globalThis, symbol, { __proto__: null, value } as PropertyDescriptor)
  return value
}
