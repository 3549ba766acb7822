// The hash commands of a `Cache`: field values go through the cache's codec, field names stay text.
import {
  checkInteger,
  checkMapping,
  checkNumber,
  checkOptions,
  splitOptions,
  VERSION_ONLY,
} from '../_args.ts'
import { type CacheContext, contextOf, type Implementation } from '../_context.ts'
import { setOwn } from '../_own.ts'
import { isOne, toArray, toNumber, toPairs, toScore, toText } from '../_replies.ts'
import { describe } from '../_timeout.ts'
import type { OrIgnored, VersionOption } from '../cache-options.ts'
import { InvalidArgumentError } from '../errors.ts'
import type { RedisArgument } from '../types.ts'
import { type MemberScanOptions, scanKey } from './_scan.ts'

/** The hash commands of a `Cache`. */
export interface HashCommands<IgnoreErrors extends boolean = boolean> {
  /** Sets `field` of the hash at `key`; resolves 1 when the field is new, 0 when it was updated. */
  hset(key: string, field: string, value: unknown, options?: VersionOption): Promise<number>
  /**
   * Sets several fields at once, django-cachex's `hset(key, mapping=…)`: `hset(key, { a: 1, b: 2
   * })` (or a `Map`); resolves how many fields are new.
   */
  hset(
    key: string,
    mapping: Record<string, unknown> | Map<string, unknown>,
    options?: VersionOption,
  ): Promise<number>
  /**
   * Deletes fields of the hash; resolves how many existed. A last argument that is an object is
   * the options: `hdel(key, 'a', 'b', { version: 2 })`.
   */
  hdel(key: string, ...fields: string[] | [...string[], VersionOption]): Promise<number>
  /** Whether the hash has `field`. */
  hexists(key: string, field: string, options?: VersionOption): Promise<boolean>
  /** The value of `field`, or `null`. */
  hget<T = unknown>(key: string, field: string, options?: VersionOption): Promise<T | null>
  /** Every field and value of the hash. */
  hgetall<T = unknown>(key: string, options?: VersionOption): Promise<Record<string, T>>
  /** Adds an integer to `field`; resolves the new value. */
  hincrby(
    key: string,
    field: string,
    amount?: number,
    options?: VersionOption,
  ): Promise<OrIgnored<IgnoreErrors, number>>
  /** Adds a float to `field`; resolves the new value. */
  hincrbyfloat(
    key: string,
    field: string,
    amount?: number,
    options?: VersionOption,
  ): Promise<OrIgnored<IgnoreErrors, number>>
  /** How many fields the hash has. */
  hlen(key: string, options?: VersionOption): Promise<number>
  /**
   * The values of `fields`, `null` where a field is missing. A last argument that is an object is
   * the options: `hmget(key, 'a', 'b', { version: 2 })`.
   */
  hmget<T = unknown>(
    key: string,
    ...fields: string[] | [...string[], VersionOption]
  ): Promise<Array<T | null>>
  /** Sets several fields at once; resolves `true`. */
  hmset(
    key: string,
    mapping: Record<string, unknown> | Map<string, unknown>,
    options?: VersionOption,
  ): Promise<boolean>
  /** Sets `field` only when it does not exist; resolves whether it was set. */
  hsetnx(key: string, field: string, value: unknown, options?: VersionOption): Promise<boolean>
  /** Every value of the hash. */
  hvals<T = unknown>(key: string, options?: VersionOption): Promise<T[]>
  /** Every field name of the hash. */
  hkeys(key: string, options?: VersionOption): Promise<string[]>
  /**
   * Every `[field, value]`, a batch of `HSCAN` at a time, without holding the whole hash; `match`
   * is a glob on field names. A field present throughout the walk is seen at least once.
   */
  hscan<T = unknown>(key: string, options?: MemberScanOptions): AsyncIterable<[string, T]>
}

/** The hash commands, attached to `Cache`. */
export const hashCommands = {
  async hset(
    key: string,
    fieldOrMapping: string | Record<string, unknown> | Map<string, unknown>,
    valueOrOptions?: unknown,
    options?: VersionOption,
  ) {
    const context = contextOf(this)
    if (typeof fieldOrMapping === 'string') {
      return context.run(key, options, {
        method: 'hset',
        access: 'write',
        build: (rkey) => ['HSET', rkey, fieldOrMapping, context.codec.encode(valueOrOptions)],
        convert: toNumber,
        fallback: 0,
      })
    }
    if (fieldOrMapping === null || typeof fieldOrMapping !== 'object') {
      throw new InvalidArgumentError(
        `hset() takes a field name and a value, or a mapping of fields to values; got ${describe(fieldOrMapping)}`,
      )
    }
    if (options !== undefined) {
      throw new InvalidArgumentError('hset() with a mapping takes (key, mapping, options)')
    }
    const mappingOptions = valueOrOptions as VersionOption | undefined
    checkMapping(fieldOrMapping, 'hset', 'fields to values')
    const pairs = fieldPairs(fieldOrMapping)
    if (pairs.length === 0) {
      checkOptions(mappingOptions, 'hset', VERSION_ONLY)
      return 0
    }
    return context.run(key, mappingOptions, {
      method: 'hset',
      access: 'write',
      build: (rkey) => hsetArguments(context, rkey, pairs),
      convert: toNumber,
      fallback: 0,
    })
  },

  async hdel(key: string, ...fields: string[] | [...string[], VersionOption]) {
    const [names, options] = splitOptions(fields)
    if (names.length === 0) {
      checkOptions(options, 'hdel', VERSION_ONLY)
      return 0
    }
    return contextOf(this).run(key, options, {
      method: 'hdel',
      access: 'write',
      build: (rkey) => ['HDEL', rkey, ...names],
      convert: toNumber,
      fallback: 0,
    })
  },

  hexists(key: string, field: string, options?: VersionOption) {
    return contextOf(this).run(key, options, {
      method: 'hexists',
      access: 'read',
      build: (rkey) => ['HEXISTS', rkey, field],
      convert: isOne,
      fallback: false,
    })
  },

  hget(key: string, field: string, options?: VersionOption) {
    const context = contextOf(this)
    return context.run(key, options, {
      method: 'hget',
      access: 'read',
      build: (rkey) => ['HGET', rkey, field],
      // The hgets of one tick on one hash: one HMGET (`coalesceReads`).
      send: context.coalesced?.HGET,
      convert: (reply) => context.decodeOrNull(reply, key, field),
      fallback: null,
    })
  },

  hgetall(key: string, options?: VersionOption) {
    const context = contextOf(this)
    return context.run(key, options, {
      method: 'hgetall',
      access: 'read',
      build: (rkey) => ['HGETALL', rkey],
      convert: (reply) => {
        const result: Record<string, unknown> = {}
        // Field names come from Redis: `__proto__` must stay a field, not become the prototype.
        for (const [field, value] of toPairs(reply)) {
          const name = toText(field)
          setOwn(result, name, context.decode(value, key, name))
        }
        return result
      },
      fallback: {},
    })
  },

  hincrby(key: string, field: string, amount = 1, options?: VersionOption) {
    return contextOf(this).runOrNull(key, options, {
      method: 'hincrby',
      access: 'write',
      build: (rkey) => ['HINCRBY', rkey, field, String(checkInteger(amount))],
      convert: toNumber,
    })
  },

  hincrbyfloat(key: string, field: string, amount = 1, options?: VersionOption) {
    return contextOf(this).runOrNull(key, options, {
      method: 'hincrbyfloat',
      access: 'write',
      build: (rkey) => ['HINCRBYFLOAT', rkey, field, String(checkNumber(amount))],
      convert: toScore,
    })
  },

  hlen(key: string, options?: VersionOption) {
    return contextOf(this).run(key, options, {
      method: 'hlen',
      access: 'read',
      build: (rkey) => ['HLEN', rkey],
      convert: toNumber,
      fallback: 0,
    })
  },

  async hmget(key: string, ...fields: string[] | [...string[], VersionOption]) {
    const [names, options] = splitOptions(fields)
    if (names.length === 0) {
      checkOptions(options, 'hmget', VERSION_ONLY)
      return []
    }
    const context = contextOf(this)
    return context.run(key, options, {
      method: 'hmget',
      access: 'read',
      build: (rkey) => ['HMGET', rkey, ...names],
      convert: (reply) => toArray(reply).map((r, i) => context.decodeOrNull(r, key, names[i])),
      fallback: names.map(() => null),
    })
  },

  async hmset(
    key: string,
    mapping: Record<string, unknown> | Map<string, unknown>,
    options?: VersionOption,
  ) {
    checkMapping(mapping, 'hmset', 'fields to values')
    const pairs = fieldPairs(mapping)
    if (pairs.length === 0) {
      checkOptions(options, 'hmset', VERSION_ONLY)
      return true
    }
    const context = contextOf(this)
    return context.run(key, options, {
      method: 'hmset',
      access: 'write',
      build: (rkey) => hsetArguments(context, rkey, pairs),
      convert: () => true,
      fallback: false,
    })
  },

  hsetnx(key: string, field: string, value: unknown, options?: VersionOption) {
    const context = contextOf(this)
    return context.run(key, options, {
      method: 'hsetnx',
      access: 'write',
      build: (rkey) => ['HSETNX', rkey, field, context.codec.encode(value)],
      convert: isOne,
      fallback: false,
    })
  },

  hvals(key: string, options?: VersionOption) {
    const context = contextOf(this)
    return context.run(key, options, {
      method: 'hvals',
      access: 'read',
      build: (rkey) => ['HVALS', rkey],
      convert: (reply) => context.decodeAll(reply, key),
      fallback: [],
    })
  },

  hkeys(key: string, options?: VersionOption) {
    return contextOf(this).run(key, options, {
      method: 'hkeys',
      access: 'read',
      build: (rkey) => ['HKEYS', rkey],
      convert: (reply) => toArray(reply).map(toText),
      fallback: [],
    })
  },

  hscan(key: string, options: MemberScanOptions = {}) {
    const context = contextOf(this)
    return scanKey(context, 'HSCAN', key, options, function* (flat) {
      for (const [field, value] of toPairs(flat)) {
        const name = toText(field)
        yield [name, context.decode(value, key, name)] as [string, unknown]
      }
    })
  },
} satisfies Implementation<HashCommands>

/** The field–value pairs of a mapping (a `Map` or a plain object's own entries). */
function fieldPairs(
  mapping: Record<string, unknown> | Map<string, unknown>,
): Array<[unknown, unknown]> {
  return mapping instanceof Map ? [...mapping] : Object.entries(mapping)
}

/** `HSET key field value …`, each value encoded. */
function hsetArguments(
  context: CacheContext,
  rkey: string,
  pairs: Array<[unknown, unknown]>,
): RedisArgument[] {
  const args: RedisArgument[] = ['HSET', rkey]
  for (const [field, value] of pairs) args.push(String(field), context.codec.encode(value))
  return args
}
