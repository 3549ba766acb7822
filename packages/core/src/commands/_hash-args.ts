// The field names the hash commands (`./hashes.ts`) send, checked before anything is sent (the
// same check refuses stream field, group and consumer names: `./_stream-args.ts`), and `HSET`'s
// arguments from a mapping.
import { describeArgument } from '../_args.ts'
import { bounded } from '../_bounded.ts'
import type { CacheContext } from '../_context.ts'
import { encodeAt } from '../_key-errors.ts'
import { reading } from '../_own.ts'
import { InvalidArgumentError } from '../errors.ts'
import type { RedisArgument } from '../types.ts'

/**
 * `String.prototype.isWellFormed` (ES2024, in Node 20): typed here, so that the source also
 * compiles where the lib is ES2022 (as `../_keys.ts` does).
 */
interface WellFormed {
  isWellFormed(): boolean
}

/**
 * `field`, a field name given to `method` on `key`, once checked: a string that is not
 * well-formed UTF-16 (a lone surrogate, half of a pair) rejects with `InvalidArgumentError`.
 * UTF-8 has no form for a lone surrogate: sent, it becomes U+FFFD, so `'a\ud800'` would write,
 * read and delete the field `'a\ufffd'`, another field's name (redis-py raises
 * `UnicodeEncodeError` on such a name). Cheap enough for `hget`'s hot path: one builtin scan.
 * A name that is neither a string nor a `Buffer` (a number, a plain `Uint8Array`) is refused too,
 * naming the call, before anything is sent.
 */
export function fieldName<T>(field: T, method: string, key: string): T {
  if (typeof field === 'string') {
    if (!wellFormed(field)) throw loneSurrogate(method, key)
  } else if (!Buffer.isBuffer(field)) {
    throw new InvalidArgumentError(
      `${method}() on key '${bounded(key)}': a field name must be a string or a Buffer, got ${describeArgument(field)}`,
    )
  }
  return field
}

/** Whether `text` is well-formed UTF-16 (no lone surrogate): what UTF-8 can hold as it is. */
export function wellFormed(text: string): boolean {
  return (text as unknown as WellFormed).isWellFormed()
}

/** `fieldName` for each of `fields`, all checked before the command is built. */
export function fieldNames(fields: readonly string[], method: string, key: string): string[] {
  for (const field of fields) fieldName(field, method, key)
  return fields as string[]
}

/**
 * The field–value pairs of a mapping (a `Map` or a plain object's own entries) given to `method`;
 * a read of it that throws (a getter, a Proxy's trap) is refused with `InvalidArgumentError`.
 */
export function fieldPairs(
  mapping: Record<string, unknown> | Map<string, unknown>,
  method: string,
): Array<[unknown, unknown]> {
  return reading(`the mapping given to ${method}()`, () =>
    mapping instanceof Map ? [...mapping] : Object.entries(mapping),
  )
}

/**
 * `HSET key field value …` for `hset` / `hmset` (`method`) with a mapping: every field name
 * checked first, so that a bad one sends nothing, then each value encoded (an error names `key`
 * and the field). A name that is not a string — a `Map`'s key may be anything — is refused: as
 * `String(name)`, two object keys would be one field `'[object Object]'`, one value lost. A
 * number too, as `hset(key, 5, value)` and `xadd` refuse it.
 */
export function hsetArguments(
  context: CacheContext,
  method: string,
  key: string,
  rkey: string,
  pairs: Array<[unknown, unknown]>,
): RedisArgument[] {
  for (const [field] of pairs) {
    if (typeof field !== 'string') {
      throw new InvalidArgumentError(
        `${method}(): a field name must be a string, got ${describeArgument(field)}`,
      )
    }
    fieldName(field, method, key)
  }
  const args: RedisArgument[] = ['HSET', rkey]
  for (const [field, value] of pairs) {
    const name = field as string
    args.push(name, encodeAt(context.codec, value, key, name))
  }
  return args
}

/**
 * The error for a name with a lone surrogate, naming the call and the user's key (when the call
 * has one): a `kind` name (`'field'`, a stream's `'group'` or `'consumer'`).
 */
export function loneSurrogate(
  method: string,
  key: string | undefined,
  kind = 'field',
): InvalidArgumentError {
  const on = key === undefined ? '' : ` on key '${bounded(key)}'`
  return new InvalidArgumentError(
    `${method}()${on}: a ${kind} name holds a lone surrogate (half of a UTF-16 pair), which UTF-8 cannot hold: Redis would get U+FFFD in its place, another ${kind}'s name (redis-py refuses such a name too)`,
  )
}
