/**
 * Sets `name` on `target` as an own, enumerable, writable property, whatever the name. A plain
 * `target[name] = value` with `name === '__proto__'` calls the `Object.prototype.__proto__` setter
 * instead: the value becomes the object's prototype (a name that came from Redis could make
 * `result.isAdmin` true) and the field vanishes from `Object.keys`. Every other name, such as
 * `constructor` or `toString`, is an own property already; `target` keeps `Object.prototype`, so
 * results still compare equal to plain objects.
 */
export function setOwn(target: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__') {
    Object.defineProperty(target, name, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    })
  } else {
    target[name] = value
  }
}
