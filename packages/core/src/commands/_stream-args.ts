// The stream commands' argument checks and reply parsing (`./streams.ts`).
import { flagOption } from '../_args.ts'
import { bounded } from '../_bounded.ts'
import type { CacheContext } from '../_context.ts'
import { own, reading, setOwn } from '../_own.ts'
import { integerReply, toArray, toNumber, toPairs, toText } from '../_replies.ts'
import { describe } from '../_timeout.ts'
import type { DecodeBudget } from '../codec.ts'
import { CompressionError, InvalidArgumentError, SerializationError } from '../errors.ts'
import type { RedisArgument } from '../types.ts'
import { loneSurrogate, wellFormed } from './_hash-args.ts'
import { fieldText } from './hashes.ts'
import type {
  StreamEntry,
  StreamInfo,
  StreamOffsets,
  StreamTrimOptions,
  XPendingSummary,
} from './stream-types.ts'

/**
 * The entries of a `Map` or of an object that is no array (its own), given as `what`, read once;
 * `undefined` for anything else. A read that throws (a getter, a Proxy's trap) is refused with
 * `InvalidArgumentError` (`reading`).
 */
function givenEntries(value: unknown, what: string): Array<[unknown, unknown]> | undefined {
  return reading(what, () =>
    value instanceof Map
      ? [...value]
      : typeof value === 'object' && value !== null && !Array.isArray(value)
        ? Object.entries(value)
        : undefined,
  )
}

/** The streams and IDs of `xread` / `xreadgroup`, checked: at least one, names and IDs text. */
export function streamOffsets(streams: StreamOffsets, method: string): Array<[string, string]> {
  const pairs = givenEntries(streams, `the streams given to ${method}()`) as
    | Array<[string, string]>
    | undefined
  if (pairs === undefined) {
    throw new InvalidArgumentError(
      `${method}() takes the streams as an object or a Map of key to ID ({ orders: '0' }), got ${describe(streams)}`,
    )
  }
  if (pairs.length === 0) throw new InvalidArgumentError(`${method}() needs at least one stream`)
  for (const [name, id] of pairs) {
    if (typeof name !== 'string') {
      throw new InvalidArgumentError(`a cache key must be a string, got ${describe(name)}`)
    }
    checkId(id, method, `the ID of stream '${bounded(name)}'`)
  }
  return pairs
}

/** An entry listed without fields: a pending ID whose entry was deleted from the stream. */
export interface DeletedEntry {
  id: string
  fields: null
}

/**
 * Stream entries, a deleted one (`[id, nil]`) with `fields: null`. An entry that cannot be read
 * fails the whole reply with an error that names it and carries its ID (`entryId`): a consumer
 * needs it to step past that entry. The values decompress under `budget`, that of the call (one
 * of its own when not given): a read of several streams (`xread`) hands the same to each.
 */
export function entriesOf(
  context: CacheContext,
  reply: unknown,
  key: string,
  budget: DecodeBudget | undefined = context.budget(),
): Array<StreamEntry | DeletedEntry> {
  return toArray(reply).map((raw) => {
    const [rawId, fields] = toArray(raw)
    const id = toText(rawId)
    if (fields === null || fields === undefined) return { id, fields: null }
    try {
      return { id, fields: fieldsOf(context, fields, key, budget) }
    } catch (error) {
      throw inEntry(error, key, id)
    }
  })
}

/**
 * A `SerializationError` or `CompressionError` met reading entry `id` of stream `key`, again with
 * the entry named and its ID as `entryId`; any other error as it is.
 */
function inEntry(error: unknown, key: string, id: string): unknown {
  const Class =
    error instanceof SerializationError
      ? SerializationError
      : error instanceof CompressionError
        ? CompressionError
        : undefined
  if (Class === undefined) return error
  const named = new Class(
    `${(error as Error).message} (entry ${id} of stream '${bounded(key)}'; the error's entryId holds that ID, to xack or xdel the entry or read on after it)`,
    { cause: (error as Error).cause },
  )
  Object.defineProperty(named, 'entryId', {
    __proto__: null,
    value: id,
    enumerable: true,
  } as PropertyDescriptor)
  return named
}

/** Stream entries of a command that lists only entries that exist (XRANGE, XCLAIM). */
export function liveEntries(
  context: CacheContext,
  reply: unknown,
  key: string,
  budget?: DecodeBudget,
): StreamEntry[] {
  return entriesOf(context, reply, key, budget ?? context.budget()).filter(
    (entry): entry is StreamEntry => entry.fields !== null,
  )
}

/**
 * An entry's `[field, value, …]` as an object, values decoded under the call's `budget` (errors
 * name the key and field).
 */
export function fieldsOf(
  context: CacheContext,
  reply: unknown,
  key: string,
  budget: DecodeBudget | undefined,
): Record<string, unknown> {
  const result: Record<string, unknown> = {}
  // Field names come from Redis: `__proto__` must stay a field, not become the prototype. A name
  // that is not UTF-8 is refused: as text it could be another field's name (see `fieldText`).
  for (const [field, value] of toPairs(reply)) {
    const name = fieldText(field, 'a stream read', key)
    setOwn(result, name, context.decode(value, key, name, budget))
  }
  return result
}

/** `XPENDING key group`: `[count, smallest, largest, [[consumer, count], …]]`. */
export function pendingSummary(reply: unknown): XPendingSummary {
  const [count, smallest, largest, consumers] = toArray(reply)
  return {
    count: integerReply(count),
    smallest: smallest === null || smallest === undefined ? null : toText(smallest),
    largest: largest === null || largest === undefined ? null : toText(largest),
    consumers: toPairs(consumers).map(([name, pending]) => ({
      name: toText(name),
      // A bulk string (XPENDING's count per consumer): its digits.
      pending: toNumber(pending),
    })),
  }
}

/** The `XINFO STREAM` fields cachex reports, by Redis name; others are left out. */
export const INFO_FIELDS: ReadonlyMap<
  string,
  [name: keyof StreamInfo, kind: 'number' | 'id' | 'entry']
> = new Map([
  ['length', ['length', 'number']],
  ['radix-tree-keys', ['radixTreeKeys', 'number']],
  ['radix-tree-nodes', ['radixTreeNodes', 'number']],
  ['last-generated-id', ['lastGeneratedId', 'id']],
  ['max-deleted-entry-id', ['maxDeletedEntryId', 'id']],
  ['entries-added', ['entriesAdded', 'number']],
  ['recorded-first-entry-id', ['recordedFirstEntryId', 'id']],
  ['groups', ['groups', 'number']],
  ['first-entry', ['firstEntry', 'entry']],
  ['last-entry', ['lastEntry', 'entry']],
])

export function streamInfo(context: CacheContext, reply: unknown, key: string): StreamInfo {
  const info: Record<string, unknown> = { firstEntry: null, lastEntry: null }
  // The first and the last entry: one budget for both.
  const budget = context.budget()
  for (const [field, value] of toPairs(reply)) {
    const known = INFO_FIELDS.get(toText(field))
    if (known === undefined) continue
    const [name, kind] = known
    if (kind === 'number') info[name] = integerReply(value)
    else if (kind === 'id') info[name] = toText(value)
    else
      info[name] =
        value === null || value === undefined
          ? null
          : (liveEntries(context, [value], key, budget)[0] ?? null)
  }
  return info as unknown as StreamInfo
}

/**
 * The field pairs of `xadd`: an object or a Map, at least one field, names as text. Each name is
 * checked before any is sent or any value encoded: one that is not well-formed UTF-16 (a lone
 * surrogate) is refused, as the hash methods refuse it (`fieldName`): sent, it would become
 * U+FFFD, and `'x\ud800'` and `'x\udc00'` would be one field, one of the values lost.
 */
export function fieldPairs(
  fields: Record<string, unknown> | Map<string, unknown>,
): Array<[string, unknown]> {
  const pairs = givenEntries(fields, 'the fields given to xadd()')
  if (pairs === undefined) {
    throw new InvalidArgumentError(
      `xadd() takes the fields as an object or a Map of field names to values, got ${describe(fields)}`,
    )
  }
  if (pairs.length === 0) throw new InvalidArgumentError('xadd() needs at least one field')
  return pairs.map(([field, value]) => {
    if (typeof field !== 'string') {
      throw new InvalidArgumentError(
        `xadd(): a field name must be a string, got ${describe(field)}`,
      )
    }
    if (!wellFormed(field)) throw loneSurrogate('xadd', undefined)
    return [field, value]
  })
}

/** `MAXLEN [~] n` / `MINID [~] id` and `LIMIT n`, checked; `required` for `xtrim`. */
export function trimArguments(
  options: StreamTrimOptions,
  method: string,
  required: boolean,
): RedisArgument[] {
  const maxlen = own(options, 'maxlen')
  const minid = own(options, 'minid')
  const approximate = own(options, 'approximate')
  const limit = own(options, 'limit')
  if (maxlen !== undefined && minid !== undefined) {
    throw new InvalidArgumentError(`${method}() takes maxlen or minid, not both`)
  }
  if (maxlen === undefined && minid === undefined) {
    if (required) throw new InvalidArgumentError(`${method}() needs maxlen or minid`)
    if (approximate !== undefined || limit !== undefined) {
      throw new InvalidArgumentError(`${method}(): approximate and limit go with maxlen or minid`)
    }
    return []
  }
  const around = flagOption(approximate, method, 'approximate')
  const args: RedisArgument[] = [maxlen !== undefined ? 'MAXLEN' : 'MINID']
  if (around) args.push('~')
  args.push(
    maxlen !== undefined ? nonNegative(maxlen, method, 'maxlen') : checkId(minid, method, 'minid'),
  )
  if (limit !== undefined) {
    if (approximate !== true) {
      throw new InvalidArgumentError(`${method}(): limit needs approximate: true (Redis's '~')`)
    }
    args.push('LIMIT', nonNegative(limit, method, 'limit'))
  }
  return args
}

/** `block`: a positive integer of milliseconds, or `undefined` for no wait. */
export function checkBlock(block: unknown, method: string): number | undefined {
  if (block === undefined) return undefined
  if (block === 0) {
    throw new InvalidArgumentError(
      `${method}(): block: 0 (wait forever) is refused, since a call that may never end cannot be bounded; give a finite number of milliseconds and call again when it runs out`,
    )
  }
  if (!Number.isSafeInteger(block) || (block as number) < 0) {
    throw new InvalidArgumentError(
      `${method}(): block must be a positive integer of milliseconds, got ${describe(block)}`,
    )
  }
  return block as number
}

/** An optional `count`: a positive integer, as text. */
export function optionalCount(count: unknown, method: string): string | undefined {
  return count === undefined ? undefined : positive(count, method, 'count')
}

export function positive(value: unknown, method: string, what: string): string {
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw new InvalidArgumentError(
      `${method}(): ${what} must be a positive integer, got ${describe(value)}`,
    )
  }
  return String(value)
}

export function nonNegative(value: unknown, method: string, what: string): string {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new InvalidArgumentError(
      `${method}(): ${what} must be a non-negative integer, got ${describe(value)}`,
    )
  }
  return String(value)
}

/** The IDs that stand for a place in a stream: the first, the last, the next, the undelivered. */
const SPECIAL_IDS: ReadonlySet<string> = new Set(['-', '+', '$', '>'])

/** `<ms>` or `<ms>-<seq>` (`<ms>-*` in `xadd`), decimal: the parts Redis reads as IDs. */
const ENTRY_ID = /^(\d{1,20})(?:-(\d{1,20}))?$/
const NEW_ID = /^(\d{1,20})(?:-(\d{1,20}|\*))?$/

/** The largest part of an ID (an unsigned 64-bit integer), in digits. */
const U64_MAX = '18446744073709551615'

/** Whether `digits` (at most 20) fit in an unsigned 64-bit integer. */
function fitsU64(digits: string | undefined): boolean {
  if (digits === undefined || digits === '*') return true
  const value = digits.replace(/^0+(?=\d)/, '')
  return value.length < 20 || (value.length === 20 && value <= U64_MAX)
}

/** Whether `id` is `<ms>` or `<ms>-<seq>` (`<ms>-*` too with `pattern` NEW_ID), within 64 bits. */
function isEntryId(id: unknown, pattern = ENTRY_ID): id is string {
  const match = typeof id === 'string' ? pattern.exec(id) : null
  return match !== null && fitsU64(match[1]) && fitsU64(match[2])
}

/**
 * A stream ID as a read, a range or a trim takes it: an entry ID, `'(1-0'` (an exclusive bound),
 * `'-'`, `'+'`, `'$'` or `'>'`. Redis refuses the one a command does not take itself; anything
 * else is refused here, so that no option word (`'COUNT'`, `'IDLE'`, `'~'`) is sent as an ID.
 */
export function checkId(id: unknown, method: string, what: string): string {
  if (typeof id === 'string') {
    if (SPECIAL_IDS.has(id) || isEntryId(id.startsWith('(') ? id.slice(1) : id)) return id
  }
  throw new InvalidArgumentError(
    `${method}(): ${what} must be a stream ID ('1700000000000-0', '-', '+', '$', '>' or an exclusive '(1700000000000-0'), got ${describe(id)}`,
  )
}

/**
 * The ID of a new entry (`xadd`'s `id`): `'*'`, `<ms>`, `<ms>-<seq>` or `<ms>-*`. XADD reads
 * its options before the ID, so an option word there (`'MAXLEN'`) would take the first field as
 * its argument and its value as the ID: the entry would be stored without that field.
 */
export function checkNewId(id: unknown, method: string, what: string): string {
  if (id === '*' || isEntryId(id, NEW_ID)) return id
  throw new InvalidArgumentError(
    `${method}(): ${what} must be '*' or an entry ID ('1700000000000-0', or '1700000000000-*' for the next sequence), got ${describe(id)}`,
  )
}

/**
 * The ID of one entry (`xack`, `xclaim`, `xdel`): `<ms>-<seq>` or `<ms>`. These commands take
 * their options after the IDs, so anything else could be read as an option (`'JUSTID'`).
 */
export function checkEntryId(id: unknown, method: string, what: string): string {
  if (isEntryId(id)) return id
  throw new InvalidArgumentError(
    `${method}(): ${what} must be an entry ID ('1700000000000-0'), got ${describe(id)}`,
  )
}

/**
 * A group or consumer name (`what`): a non-empty string, well-formed UTF-16. A lone surrogate
 * would reach Redis as U+FFFD, another group's or consumer's name (`'g\ud800'` and `'g\udc00'`
 * one group), so it is refused before anything is sent, as a hash field name is.
 */
export function checkName(name: unknown, method: string, what: 'group' | 'consumer'): string {
  if (typeof name !== 'string' || name === '') {
    throw new InvalidArgumentError(
      `${method}(): ${what} must be a non-empty string, got ${describe(name)}`,
    )
  }
  if (!wellFormed(name)) throw loneSurrogate(method, undefined, what)
  return name
}
