// How a command family (commands/*.ts) becomes methods of `Cache`: the type its implementation
// has (`Implementation`), and `attachCommands`, which puts it on the class's prototype.

/**
 * The methods of `Family` as a command family's implementation must provide them: every one, by
 * name (each is typed by the family's interface, which the cache merges in).
 */
export type Implementation<Family> = {
  [K in keyof Family as Family[K] extends (...args: never[]) => unknown ? K : never]: (
    // biome-ignore lint/suspicious/noExplicitAny: the family's interface types the arguments
    ...args: any[]
  ) => unknown
}

/**
 * Puts the methods of a command family on a class's prototype, as class methods are (writable,
 * configurable, not enumerable). The family's interface, merged into the class's, types them.
 */
export function attachCommands(target: { prototype: object }, commands: object): void {
  for (const name of Reflect.ownKeys(commands)) {
    const descriptor = Object.getOwnPropertyDescriptor(commands, name) as PropertyDescriptor
    Object.defineProperty(target.prototype, name, {
      __proto__: null,
      value: descriptor.value,
      writable: true,
      configurable: true,
      enumerable: false,
    } as PropertyDescriptor)
  }
}
