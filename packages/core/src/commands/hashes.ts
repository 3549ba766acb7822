// The hash commands of a `Cache`: field values go through the cache's codec, field names stay text.
// A field name that UTF-8 cannot hold (a lone surrogate) is refused before anything is sent; one
// that a reply holds is read by `./_field-text.ts`.
import { checkNumber, checkOptions, integerAmount, splitOptions, VERSION_ONLY } from '../_args.ts'
import { tooManyArguments } from '../_arity.ts'
import { contextOf, type Implementation } from '../_context.ts'
import { encodeAt } from '../_key-errors.ts'
import { checkMapping } from '../_many-args.ts'
import { setOwn } from '../_own.ts'
import { answered } from '../_pipeline-families.ts'
import { integerReply, isOne, toArray, toInteger, toPairs, toScore } from '../_replies.ts'
import { describe } from '../_timeout.ts'
import type { OrIgnored, VersionOption } from '../cache-options.ts'
import { InvalidArgumentError } from '../errors.ts'
import { checkedAsText, fieldText } from './_field-text.ts'
import { fieldName, fieldNames, fieldPairs, hsetArguments } from './_hash-args.ts'
import { type MemberScanOptions, scanKey } from './_scan.ts'

// Stream reads (`./_stream-args.ts`) take `fieldText` from here.
export { fieldText } from './_field-text.ts'

/**
 * The hash commands of a `Cache`. Every field name given is checked before anything is sent: one
 * with a lone surrogate (half of a UTF-16 pair) rejects with `InvalidArgumentError` (Redis would
 * get U+FFFD in its place, another field's name), and so does a mapping's name that is no string.
 */
export interface HashCommands<IgnoreErrors extends boolean = boolean> {
  /** Sets `field` of the hash at `key`; resolves 1 when the field is new, 0 when it was updated. */
  hset(key: string, field: string, value: unknown, options?: VersionOption): Promise<number>
  /**
   * Sets several fields at once, django-cachex's `hset(key, mapping=…)`: `hset(key, { a: 1, b: 2
   * })` (or a `Map`, whose keys must be strings); resolves how many fields are new.
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
  /**
   * Adds an integer to `field`; resolves the new value, every digit kept: a `number` while it is a
   * safe integer, a `bigint` beyond ±(2^53 - 1), as `incr`. `HINCRBY`'s own reply, read as its
   * digits (node-redis would round an integer reply near 2^53), in a pipeline and a transaction
   * too: concurrent increments each resolve their own result. `amount`: a safe integer, or a
   * `bigint` within Redis's signed 64-bit range (an amount beyond 2^53 is exact only as a bigint).
   */
  hincrby(
    key: string,
    field: string,
    amount?: number | bigint,
    options?: VersionOption,
  ): Promise<OrIgnored<IgnoreErrors, number | bigint>>
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
  /** Sets several fields at once (a `Map`'s keys must be strings); resolves `true`. */
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
        build: (rkey) => [
          'HSET',
          rkey,
          fieldName(fieldOrMapping, 'hset', key),
          encodeAt(context.codec, valueOrOptions, key, fieldOrMapping),
        ],
        convert: integerReply,
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
    const pairs = fieldPairs(fieldOrMapping, 'hset')
    if (pairs.length === 0) {
      checkOptions(mappingOptions, 'hset', VERSION_ONLY)
      return answered(this, 0)
    }
    return context.run(key, mappingOptions, {
      method: 'hset',
      access: 'write',
      build: (rkey) => hsetArguments(context, 'hset', key, rkey, pairs),
      convert: integerReply,
      fallback: 0,
    })
  },

  async hdel(key: string, ...fields: string[] | [...string[], VersionOption]) {
    const [names, options] = splitOptions(fields)
    if (names.length === 0) {
      checkOptions(options, 'hdel', VERSION_ONLY)
      return answered(this, 0)
    }
    return contextOf(this).run(key, options, {
      method: 'hdel',
      access: 'write',
      build: (rkey) => ['HDEL', rkey, ...fieldNames(names, 'hdel', key)],
      convert: integerReply,
      fallback: 0,
    })
  },

  hexists(key: string, field: string, options?: VersionOption) {
    return contextOf(this).run(key, options, {
      method: 'hexists',
      access: 'read',
      build: (rkey) => ['HEXISTS', rkey, fieldName(field, 'hexists', key)],
      convert: isOne,
      fallback: false,
    })
  },

  hget(key: string, field: string, options?: VersionOption) {
    // biome-ignore lint/complexity/noArguments: its count, free (a wrapper is not: _arity.ts)
    const given = arguments.length
    if (given > 3) return Promise.reject(tooManyArguments(this, 'hget', 3, given))
    const context = contextOf(this)
    return context.run(key, options, {
      method: 'hget',
      access: 'read',
      // Checked here, inside `run`: a refused name rejects (never throws), alone when coalesced.
      build: (rkey) => ['HGET', rkey, fieldName(field, 'hget', key)],
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
      send: checkedAsText(context, 2),
      bytes: true,
      convert: (reply) => {
        const result: Record<string, unknown> = {}
        const budget = context.budget()
        // Field names come from Redis: `__proto__` must stay a field, not become the prototype.
        for (const [field, value] of toPairs(reply)) {
          const name = fieldText(field, 'hgetall()', key)
          setOwn(result, name, context.decode(value, key, name, budget))
        }
        return result
      },
      fallback: {},
    })
  },

  hincrby(key: string, field: string, amount: number | bigint = 1, options?: VersionOption) {
    return contextOf(this).runOrNull(key, options, {
      method: 'hincrby',
      access: 'write',
      build: (rkey) => [
        'HINCRBY',
        rkey,
        fieldName(field, 'hincrby', key),
        integerAmount(amount, 'hincrby'),
      ],
      // Its reply as digits: exact beyond 2^53, where node-redis would round it.
      digits: true,
      convert: toInteger,
    })
  },

  hincrbyfloat(key: string, field: string, amount = 1, options?: VersionOption) {
    return contextOf(this).runOrNull(key, options, {
      method: 'hincrbyfloat',
      access: 'write',
      build: (rkey) => [
        'HINCRBYFLOAT',
        rkey,
        fieldName(field, 'hincrbyfloat', key),
        String(checkNumber(amount)),
      ],
      convert: toScore,
    })
  },

  hlen(key: string, options?: VersionOption) {
    return contextOf(this).run(key, options, {
      method: 'hlen',
      access: 'read',
      build: (rkey) => ['HLEN', rkey],
      convert: integerReply,
      fallback: 0,
    })
  },

  async hmget(key: string, ...fields: string[] | [...string[], VersionOption]) {
    const [names, options] = splitOptions(fields)
    if (names.length === 0) {
      checkOptions(options, 'hmget', VERSION_ONLY)
      return answered(this, [])
    }
    const context = contextOf(this)
    return context.run(key, options, {
      method: 'hmget',
      access: 'read',
      build: (rkey) => ['HMGET', rkey, ...fieldNames(names, 'hmget', key)],
      convert: (reply) => {
        const budget = context.budget()
        return toArray(reply).map((r, i) => context.decodeOrNull(r, key, names[i], budget))
      },
      fallback: names.map(() => null),
    })
  },

  async hmset(
    key: string,
    mapping: Record<string, unknown> | Map<string, unknown>,
    options?: VersionOption,
  ) {
    checkMapping(mapping, 'hmset', 'fields to values')
    const pairs = fieldPairs(mapping, 'hmset')
    if (pairs.length === 0) {
      checkOptions(options, 'hmset', VERSION_ONLY)
      return answered(this, true)
    }
    const context = contextOf(this)
    return context.run(key, options, {
      method: 'hmset',
      access: 'write',
      build: (rkey) => hsetArguments(context, 'hmset', key, rkey, pairs),
      convert: () => true,
      fallback: false,
    })
  },

  hsetnx(key: string, field: string, value: unknown, options?: VersionOption) {
    const context = contextOf(this)
    return context.run(key, options, {
      method: 'hsetnx',
      access: 'write',
      build: (rkey) => [
        'HSETNX',
        rkey,
        fieldName(field, 'hsetnx', key),
        encodeAt(context.codec, value, key, field),
      ],
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
    const context = contextOf(this)
    return context.run(key, options, {
      method: 'hkeys',
      access: 'read',
      build: (rkey) => ['HKEYS', rkey],
      send: checkedAsText(context, 1),
      bytes: true,
      convert: (reply) => toArray(reply).map((field) => fieldText(field, 'hkeys()', key)),
      fallback: [],
    })
  },

  hscan(key: string, options: MemberScanOptions = {}) {
    const context = contextOf(this)
    return scanKey(context, 'HSCAN', key, options, function* (flat) {
      // One budget per page, as sscan and zscan decode theirs.
      const budget = context.budget()
      for (const [field, value] of toPairs(flat)) {
        const name = fieldText(field, 'hscan()', key)
        yield [name, context.decode(value, key, name, budget)] as [string, unknown]
      }
    })
  },
} satisfies Implementation<HashCommands>
