// The namespaces a Keyv store was given (Keyv sets the store's, for each Keyv sharing it and each
// change of `keyv.namespace`): the current one, the keys they cover, and whether `clear()` and
// `iterator()`, to which Keyv names none, can tell which one they are for.
import { InvalidArgumentError } from '@cachex/core'
import { checkNamespace } from './_keyv-values.ts'

/** The namespaces one `KeyvCachex` was given (see `KeyvCachex.namespace`). */
export class Namespaces {
  #current: string | undefined
  /**
   * Every namespace it was given, `''` for none: a key of one begins with `namespace:` (see
   * `scoped`), and more than one makes `clear()` and `iterator()` ambiguous (see `single`). A
   * `Set`, asked once a key: a store shared by 50,000 Keyvs of their own namespaces took 56 s
   * for one `set` each when each key was compared with every namespace.
   */
  readonly #given = new Set<string>()
  /** Whether it was given none (a Keyv without a namespace hands over keys as they are). */
  #none = false

  /** The one set last: Keyv's namespace, as the store reports it. */
  get current(): string | undefined {
    return this.#current
  }

  /**
   * Sets the current namespace, checked (`checkNamespace`: none, or a string without `:`); a
   * refused one leaves it as it was.
   */
  set(namespace: string | undefined): void {
    checkNamespace(namespace, "KeyvCachex.namespace (Keyv's namespace option)")
    this.#current = namespace
    this.#given.add(namespace ?? '')
    if (!namespace) this.#none = true
  }

  /**
   * Throws `InvalidArgumentError` for a key outside every namespace the store was given, before
   * anything is sent. A Keyv whose `useKeyPrefix` is on hands over `namespace:key` only (several
   * Keyvs may share the store, each setting its namespace in turn); a key in none comes from a
   * Keyv whose `useKeyPrefix` is off while it has a namespace (as @keyv/redis's README sets it).
   * This store uses keys as given, so that key would be stored bare, shared by every namespace,
   * and left out of `clear()` and `iterator()`, which cover `namespace:*`. Once a Keyv without a
   * namespace was given the store, keys as they are are its keys: nothing is refused. A
   * namespace holds no `:`, so a key's is what comes before its first.
   */
  scoped(key: unknown): void {
    if (this.#none || this.#given.size === 0 || typeof key !== 'string') return
    const colon = key.indexOf(':')
    if (colon > 0 && this.#given.has(key.slice(0, colon))) return
    throw outsideNamespace(this.#current ?? '')
  }

  /**
   * Throws `InvalidArgumentError` once the store was given more than one namespace (none counts
   * as one): by Keyvs of several namespaces sharing it, each setting `store.namespace` in turn, or
   * by a change of `keyv.namespace`, which the store cannot tell from a second Keyv. Keyv names no
   * namespace when it calls `clear()` (and names the store's, the last one set, to `iterator()`),
   * so either would act on whichever namespace was set last: another Keyv's keys deleted, or the
   * whole cache when that one has none. @keyv/redis has the same limit (keyv issues #1495, #1160).
   */
  single(method: string): void {
    const count = this.#given.size
    if (count < 2) return
    const names: string[] = []
    for (const name of this.#given) {
      if (names.length === 4) break
      names.push(name ? `'${name}'` : 'none')
    }
    const shown = count > 4 ? `${names.join(', ')}, …` : names.join(', ')
    throw new InvalidArgumentError(
      `KeyvCachex.${method}: this store was given ${count} namespaces (${shown}), by ` +
        'Keyvs sharing it or a change of keyv.namespace, and Keyv does not say which one it ' +
        `calls ${method} for: it would act on the one set last, another Keyv's keys (or every ` +
        'key of the cache). Give each namespace a store of its own (one createKeyvStore() per ' +
        'Keyv, as createKeyv() does) to use clear() and iterator()',
    )
  }
}

/**
 * The error for a key that a Keyv whose `useKeyPrefix` is off handed to a store with a namespace
 * (see `Namespaces.scoped`): nothing is sent for it.
 */
function outsideNamespace(namespace: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `the Keyv store got a key outside its namespace '${namespace}' (a Keyv with a namespace ` +
      'and useKeyPrefix: false): this store does not add the namespace itself, so the key would ' +
      'be shared with every namespace and out of reach of clear() and iterator(). Leave ' +
      "useKeyPrefix on to keep the namespace (keys 'namespace:key'), or give namespace: " +
      'undefined with useKeyPrefix: false to store the keys as given. Nothing was sent',
  )
}
