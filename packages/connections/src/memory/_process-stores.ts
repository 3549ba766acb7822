/**
 * Where the shared stores (`memory://name`) are kept: a symbol on `globalThis`, registered
 * (`Symbol.for`) alike in every copy of this package a process loads — its ESM and CommonJS
 * builds side by side, a bundler's and Node's — so that a name is one store per process, whichever
 * copy opens it. The number is that of the store's layout: raised when it changes, so that copies
 * that disagree do not share stores.
 */
const STORES: unique symbol = Symbol.for('@cachex/connections:memoryStores:1')

/**
 * The process's shared stores by name (`S`, the store, as `store.ts` names it), made (not
 * enumerable) by the first copy to ask.
 */
export function processStores<S>(): Map<string, S> {
  const existing = (globalThis as { [STORES]?: unknown })[STORES]
  if (existing instanceof Map) return existing as Map<string, S>
  const stores = new Map<string, S>()
  // A descriptor without a prototype: a polluted `Object.prototype.get` would make it an accessor.
  Object.defineProperty(globalThis, STORES, {
    __proto__: null,
    value: stores,
  } as PropertyDescriptor)
  return stores
}
