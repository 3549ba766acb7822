// The arguments of calls on many keys or entries: the keys of `getMany`/`deleteMany` (an array or
// another iterable, read up to a bound), and the mappings of `setMany`/`hset`, each refused with
// `InvalidArgumentError` (never a `ConnectionError`, which `ignoreExceptions` would hide).
import { types } from 'node:util'
import { describeArgument } from './_args.ts'
import { reading } from './_own.ts'
import { thrownText } from './_thrown.ts'
import { InvalidArgumentError } from './errors.ts'

/** Keys an iterable other than an array gives a many-key call at most (`keyList`). */
export const MAX_ITERABLE_KEYS = 1_000_000

/**
 * The keys of a method on many keys (`getMany`, `deleteMany`): an array, or another iterable of
 * keys, read up to `MAX_ITERABLE_KEYS` (an endless generator would fill the heap; an array may be
 * longer). A string is refused (its characters would be read as keys), and so is anything not
 * iterable, with `InvalidArgumentError` (never a `ConnectionError`, which `ignoreExceptions`
 * would turn into an empty answer).
 */
export function keyList(keys: unknown, method: string): unknown[] {
  try {
    // A revoked Proxy throws from `Array.isArray` itself, a getter from `Symbol.iterator`'s read.
    // A Proxy of an array is read once, here: a trap may throw on a later read.
    if (Array.isArray(keys)) return types.isProxy(keys) ? copied(keys, method) : keys
    if (typeof keys === 'object' && keys !== null && isIterable(keys)) {
      const list: unknown[] = []
      for (const key of keys as Iterable<unknown>) {
        if (list.length === MAX_ITERABLE_KEYS) {
          throw new InvalidArgumentError(
            `${method}(): the iterable gave more than ${MAX_ITERABLE_KEYS} keys (an endless one?); give more keys as an array`,
          )
        }
        list.push(key)
      }
      return list
    }
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error
    // The caller's own iterator failed: not an outage for ignoreExceptions to hide.
    throw new InvalidArgumentError(`${method}(): reading the keys failed: ${thrownText(error)}`, {
      cause: error,
    })
  }
  throw new InvalidArgumentError(
    `${method}() takes an array (or another iterable) of keys, got ${describeArgument(keys)}`,
  )
}

/**
 * The error of `setMany()` whose entries could not be read (a getter or a Proxy trap of the
 * caller's threw; `checkMapping`'s own refusal as it is): `InvalidArgumentError`, which
 * `ignoreExceptions` does not hide.
 */
export function entriesUnreadable(error: unknown): InvalidArgumentError {
  if (error instanceof InvalidArgumentError) return error
  return new InvalidArgumentError(`setMany(): reading the entries failed: ${thrownText(error)}`, {
    cause: error,
  })
}

/**
 * Throws `InvalidArgumentError` unless `mapping` is a `Map` or an object that is not iterable
 * (a plain object, whose own properties are the entries): an array, a `Set` or a string would
 * otherwise have its indexes written as keys or fields (`setMany([['a', 1]])` storing key `0`),
 * and `undefined` or a number would write nothing without a word.
 */
export function checkMapping(mapping: unknown, method: string, what: string): void {
  const shape = reading(
    `the mapping given to ${method}()`,
    () =>
      mapping instanceof Map ||
      (typeof mapping === 'object' && mapping !== null && !isIterable(mapping)),
  )
  if (shape) return
  throw new InvalidArgumentError(
    `${method}() takes an object or a Map of ${what}, got ${describeArgument(mapping)}`,
  )
}

/**
 * The keys of a Proxy of an array, read once (a trap may answer otherwise, or throw, on a later
 * read), up to `MAX_ITERABLE_KEYS`: its `length` trap may answer any number.
 */
function copied(keys: readonly unknown[], method: string): unknown[] {
  const length = keys.length
  if (length > MAX_ITERABLE_KEYS) {
    throw new InvalidArgumentError(
      `${method}(): a Proxy of an array of more than ${MAX_ITERABLE_KEYS} keys; give more keys as an array`,
    )
  }
  const list: unknown[] = new Array(length)
  for (let i = 0; i < length; i++) list[i] = keys[i]
  return list
}

function isIterable(value: object): value is Iterable<unknown> {
  return typeof (value as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function'
}
