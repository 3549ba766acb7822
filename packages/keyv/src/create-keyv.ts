// `createKeyv()`: a Keyv whose values the cache serializes, the store in `'cachex'` mode inside it.
import { type CacheLike, InvalidArgumentError } from '@cachex/core'
import { own } from '@cachex/core/internal'
import { Keyv, type KeyvOptions } from 'keyv'
import { checkNamespace } from './_keyv-values.ts'
import { KeyvCachex, type KeyvCachexOptions } from './store.ts'

/** Options of `createKeyv()`: Keyv's own options and the store's. */
export interface CreateKeyvOptions
  extends Omit<KeyvOptions, 'store' | 'serialize' | 'deserialize' | 'compression' | 'namespace'>,
    Omit<KeyvCachexOptions, 'serialization'> {
  /**
   * The prefix of every key, `namespace:key`; `undefined` or `''` for none (the keys as given,
   * e.g. to share them with Django): given as `undefined`, unlike absent, it turns the prefix
   * off, hence `| undefined` here where Keyv's own options have `namespace?: string`. A namespace
   * that contains `:` is refused with `InvalidArgumentError`.
   * @default 'keyv'
   */
  namespace?: string | undefined
}

/**
 * A Keyv whose values the cache serializes: the store in `'cachex'` mode inside a Keyv that does
 * not serialize, so Redis holds what `cache.set()` — and Django — would write. The result goes
 * where any Keyv goes: `createCache({ stores: [createKeyv(cache)] })` (cache-manager) or
 * `CacheModule.register({ stores: [createKeyv(cache)] })` (NestJS).
 *
 * Keys are `namespace:key` (Keyv's default namespace is `'keyv'`); pass `namespace: undefined`
 * (or `useKeyPrefix: false`, which has no namespace then) to use the keys as given, e.g. to share
 * them with Django. A namespace that contains `:`, or one given with `useKeyPrefix: false`, is
 * refused with `InvalidArgumentError`: Keyv's `namespace:key` could not tell the first from a
 * shorter namespace's keys, and the second would be dropped.
 */
// biome-ignore lint/suspicious/noExplicitAny: Keyv's own default value type
export function createKeyv<Value = any>(
  cache: CacheLike,
  options: CreateKeyvOptions = {},
): Keyv<Value> {
  // The rest copies own properties only; the two options of the store's are read so too.
  const { expires: _expires, closeOnDisconnect: _close, ...keyvOptions } = options
  const expires = own(options, 'expires')
  const closeOnDisconnect = own(options, 'closeOnDisconnect')
  // Without a namespace (`namespace: undefined` or `''` given, or `useKeyPrefix: false`) the keys
  // are bare. Keyv must then be told `useKeyPrefix: false` too: with its prefix on, its iterator
  // strips each key's first `:` segment ('user:1' → '1') even when it added none. And with
  // `useKeyPrefix: false` it would still hand the store its 'keyv' default namespace, which would
  // leave the bare keys out of clear() and iterator().
  const unprefixed = own(keyvOptions, 'useKeyPrefix') === false
  const namespace = own(keyvOptions, 'namespace')
  // A namespace given with `useKeyPrefix: false` (as @keyv/redis's README sets them) would be
  // dropped, its keys bare and its clear() every key of the cache: refused.
  if (unprefixed && namespace) {
    throw new InvalidArgumentError(
      `createKeyv(): namespace '${String(namespace)}' with useKeyPrefix: false: the keys would be ` +
        'stored as given, outside any namespace, and clear() would remove every key of the ' +
        "cache. Leave useKeyPrefix on to keep the namespace (keys 'namespace:key'), or drop " +
        'the namespace to store the keys as given',
    )
  }
  const bare = unprefixed || (Object.hasOwn(keyvOptions, 'namespace') && !namespace)
  // The store refuses a namespace with ':' too, when Keyv hands it over; this names the option.
  if (!bare) checkNamespace(namespace, 'createKeyv() option namespace')
  const store = new KeyvCachex(cache, { serialization: 'cachex', expires, closeOnDisconnect })
  const keyv = new Keyv<Value>({
    ...keyvOptions,
    ...(bare ? { namespace: undefined, useKeyPrefix: false } : {}),
    store,
    serialize: undefined,
    deserialize: undefined,
  })
  // Keyv keeps its throwOnErrors to itself: the store reads it from the Keyv, so that setting
  // `keyv.throwOnErrors` later applies to reads too.
  Object.defineProperty(store, 'throwOnErrors', {
    __proto__: null,
    configurable: true,
    enumerable: true,
    get: () => keyv.throwOnErrors,
    set: (value: boolean) => {
      keyv.throwOnErrors = value
    },
  } as PropertyDescriptor)
  return keyv
}
