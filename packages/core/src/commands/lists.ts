// The list commands of a `Cache`: elements go through the cache's codec.
import { checkInteger, checkOptions, LPOS_KEYS, moveVersions } from '../_args.ts'
import { contextOf, type Implementation } from '../_context.ts'
import { encodeAt, encodeMatchAt } from '../_key-errors.ts'
import { own } from '../_own.ts'
import { integerReply, numberOrNull, toArray } from '../_replies.ts'
import { describe } from '../_timeout.ts'
import type { MoveOptions, OrIgnored, VersionOption } from '../cache-options.ts'
import { InvalidArgumentError } from '../errors.ts'
import type { RedisArgument } from '../types.ts'
import { blockingPop, blockSeconds } from './_blocking-pop.ts'
import { decodeMoved, popSpec } from './_removed.ts'

/** Options of `lpos()`. */
export interface LPosOptions extends VersionOption {
  /** Which match to return: 1 the first, -1 the last, 2 the second… */
  rank?: number
  /** Return up to this many positions (0 = all) as an array. */
  count?: number
  /** Compare at most this many elements. */
  maxlen?: number
}

/** Which end of a list `lmove` takes from or pushes to, in any case (`'LEFT'`, `'left'`). */
export type ListSide = 'LEFT' | 'RIGHT' | 'left' | 'right'
/** Where `linsert` puts the value, in any case (`'BEFORE'`, `'after'`). */
export type ListPosition = 'BEFORE' | 'AFTER' | 'before' | 'after'

/** The list commands of a `Cache`. */
export interface ListCommands<IgnoreErrors extends boolean = boolean> {
  /** The length of the list. */
  llen(key: string, options?: VersionOption): Promise<number>
  /**
   * Prepends values (the last given ends up first); resolves the new length. Values are any
   * values, so this method takes no options: it works on the cache's `version`.
   */
  lpush(key: string, ...values: unknown[]): Promise<OrIgnored<IgnoreErrors, number>>
  /** Appends values; resolves the new length. Like `lpush`, it takes no options. */
  rpush(key: string, ...values: unknown[]): Promise<OrIgnored<IgnoreErrors, number>>
  /**
   * Removes and returns the first value, or `null`; with a `count`, the first `count` values —
   * `[]` when the key is missing (as django-cachex's Redis backend, not Redis's nil).
   */
  lpop<T = unknown>(key: string, count?: undefined, options?: VersionOption): Promise<T | null>
  lpop<T = unknown>(key: string, count: number, options?: VersionOption): Promise<T[]>
  /**
   * Removes and returns the last value, or `null`; with a `count`, the last `count` values —
   * `[]` when the key is missing.
   */
  rpop<T = unknown>(key: string, count?: undefined, options?: VersionOption): Promise<T | null>
  rpop<T = unknown>(key: string, count: number, options?: VersionOption): Promise<T[]>
  /** The value at `index` (negative counts from the end), or `null`. */
  lindex<T = unknown>(key: string, index: number, options?: VersionOption): Promise<T | null>
  /** Values from `start` to `end` (inclusive; negative counts from the end). */
  lrange<T = unknown>(
    key: string,
    start: number,
    end: number,
    options?: VersionOption,
  ): Promise<T[]>
  /** Replaces the value at `index`; rejects with `ResponseError` when out of range. */
  lset(key: string, index: number, value: unknown, options?: VersionOption): Promise<boolean>
  /** Keeps only the values from `start` to `end`. */
  ltrim(key: string, start: number, end: number, options?: VersionOption): Promise<boolean>
  /** The index of `element`, or `null`; with `count`, an array of indexes. */
  lpos(
    key: string,
    element: unknown,
    options?: LPosOptions & { count?: undefined },
  ): Promise<number | null>
  lpos(key: string, element: unknown, options: LPosOptions & { count: number }): Promise<number[]>
  /**
   * Pops a value from one end of `source` and pushes it onto one end of `destination`, atomically;
   * resolves the value, or `null` when `source` is empty. Sides are `'LEFT'` or `'RIGHT'`, in any
   * case; `version` applies to both keys, `versionSrc` / `versionDst` to one.
   */
  lmove<T = unknown>(
    source: string,
    destination: string,
    sourceSide?: ListSide,
    destinationSide?: ListSide,
    options?: MoveOptions,
  ): Promise<T | null>
  /**
   * Inserts `value` just before or after the first element equal to `pivot`; resolves the new
   * length, `-1` when `pivot` is not in the list, `0` when the list is missing.
   */
  linsert(
    key: string,
    where: ListPosition,
    pivot: unknown,
    value: unknown,
    options?: VersionOption,
  ): Promise<OrIgnored<IgnoreErrors, number>>
  /**
   * Removes elements equal to `value`: the first `count` from the head (`count` > 0), the last
   * `-count` from the tail (`count` < 0), or all of them (`0`); resolves how many.
   */
  lrem(key: string, count: number, value: unknown, options?: VersionOption): Promise<number>
  /**
   * Removes and returns the first value of the first non-empty list of `keys` (checked in
   * order), as `[key, value]` with the user's key; waits up to `timeout` seconds (a positive
   * number: waiting forever, Redis's `0`, is refused, as a call must be bounded — call again when
   * it resolves `null`) for one to have a value, then resolves `null`. The call's bound is
   * `socketTimeout` plus `timeout`, and it waits on a connection of its own, holding up no other
   * call. On a cluster, several keys must share a slot (a hash tag).
   */
  blpop<T = unknown>(
    keys: string | readonly string[],
    timeout: number,
    options?: VersionOption,
  ): Promise<[string, T] | null>
  /** `blpop` from the tail: the last value of the first non-empty list. */
  brpop<T = unknown>(
    keys: string | readonly string[],
    timeout: number,
    options?: VersionOption,
  ): Promise<[string, T] | null>
  /**
   * `lmove` that waits up to `timeout` seconds (positive, as for `blpop`) for `source` to have
   * a value; resolves the value moved, or `null` when none came.
   */
  blmove<T = unknown>(
    source: string,
    destination: string,
    timeout: number,
    sourceSide?: ListSide,
    destinationSide?: ListSide,
    options?: MoveOptions,
  ): Promise<T | null>
}

/** The list commands, attached to `Cache`. */
export const listCommands = {
  llen(key: string, options?: VersionOption) {
    return contextOf(this).run(key, options, {
      method: 'llen',
      access: 'read',
      build: (rkey) => ['LLEN', rkey],
      convert: integerReply,
      fallback: 0,
    })
  },

  lpush(key: string, ...values: unknown[]) {
    return push(this, 'LPUSH', key, values)
  },

  rpush(key: string, ...values: unknown[]) {
    return push(this, 'RPUSH', key, values)
  },

  lpop(key: string, count?: number, options?: VersionOption) {
    return pop(this, 'LPOP', key, count, options)
  },

  rpop(key: string, count?: number, options?: VersionOption) {
    return pop(this, 'RPOP', key, count, options)
  },

  lindex(key: string, index: number, options?: VersionOption) {
    const context = contextOf(this)
    return context.run(key, options, {
      method: 'lindex',
      access: 'read',
      build: (rkey) => ['LINDEX', rkey, String(checkInteger(index))],
      convert: (reply) => context.decodeOrNull(reply, key),
      fallback: null,
    })
  },

  lrange(key: string, start: number, end: number, options?: VersionOption) {
    const context = contextOf(this)
    return context.run(key, options, {
      method: 'lrange',
      access: 'read',
      build: (rkey) => ['LRANGE', rkey, String(checkInteger(start)), String(checkInteger(end))],
      convert: (reply) => context.decodeAll(reply, key),
      fallback: [],
    })
  },

  lset(key: string, index: number, value: unknown, options?: VersionOption) {
    const context = contextOf(this)
    return context.run(key, options, {
      method: 'lset',
      access: 'write',
      build: (rkey) => [
        'LSET',
        rkey,
        String(checkInteger(index)),
        encodeAt(context.codec, value, key),
      ],
      convert: () => true,
      fallback: false,
    })
  },

  ltrim(key: string, start: number, end: number, options?: VersionOption) {
    return contextOf(this).run(key, options, {
      method: 'ltrim',
      access: 'write',
      build: (rkey) => ['LTRIM', rkey, String(checkInteger(start)), String(checkInteger(end))],
      convert: () => true,
      fallback: false,
    })
  },

  async lpos(key: string, element: unknown, options: LPosOptions = {}) {
    checkOptions(options, 'lpos', LPOS_KEYS)
    const context = contextOf(this)
    return context.run<number | null | number[]>(key, options, {
      access: 'read',
      label: 'lpos',
      build: (rkey) => {
        const args: RedisArgument[] = ['LPOS', rkey, encodeMatchAt(context.codec, element, key)]
        if (own(options, 'rank') !== undefined)
          args.push('RANK', String(checkInteger(own(options, 'rank'))))
        if (own(options, 'count') !== undefined)
          args.push('COUNT', String(checkInteger(own(options, 'count'))))
        if (own(options, 'maxlen') !== undefined)
          args.push('MAXLEN', String(checkInteger(own(options, 'maxlen'))))
        return args
      },
      convert: (reply) =>
        own(options, 'count') !== undefined
          ? toArray(reply).map(integerReply)
          : numberOrNull(reply),
      fallback: own(options, 'count') !== undefined ? [] : null,
    })
  },

  lmove(
    source: string,
    destination: string,
    sourceSide: ListSide = 'LEFT',
    destinationSide: ListSide = 'RIGHT',
    options?: MoveOptions,
  ) {
    return move(this, source, destination, sourceSide, destinationSide, options, undefined)
  },

  linsert(
    key: string,
    where: ListPosition,
    pivot: unknown,
    value: unknown,
    options?: VersionOption,
  ) {
    const context = contextOf(this)
    return context.runOrNull(key, options, {
      method: 'linsert',
      access: 'write',
      build: (rkey) => [
        'LINSERT',
        rkey,
        oneOf(where, ['BEFORE', 'AFTER'], 'a list position'),
        encodeMatchAt(context.codec, pivot, key),
        encodeAt(context.codec, value, key),
      ],
      convert: integerReply,
    })
  },

  lrem(key: string, count: number, value: unknown, options?: VersionOption) {
    const context = contextOf(this)
    return context.run(key, options, {
      method: 'lrem',
      access: 'write',
      build: (rkey) => [
        'LREM',
        rkey,
        String(checkInteger(count)),
        encodeMatchAt(context.codec, value, key),
      ],
      convert: integerReply,
      fallback: 0,
    })
  },

  blpop(keys: string | readonly string[], timeout: number, options?: VersionOption) {
    return blockingPop(this, 'BLPOP', keys, timeout, options)
  },

  brpop(keys: string | readonly string[], timeout: number, options?: VersionOption) {
    return blockingPop(this, 'BRPOP', keys, timeout, options)
  },

  async blmove(
    source: string,
    destination: string,
    timeout: number,
    sourceSide: ListSide = 'LEFT',
    destinationSide: ListSide = 'RIGHT',
    options?: MoveOptions,
  ) {
    const seconds = blockSeconds(timeout, 'blmove')
    return move(this, source, destination, sourceSide, destinationSide, options, seconds)
  },
} satisfies Implementation<ListCommands>

/** `lmove`, or with `seconds` `blmove` (waiting on a connection of its own). */
async function move(
  cache: object,
  source: string,
  destination: string,
  sourceSide: ListSide,
  destinationSide: ListSide,
  options: MoveOptions | undefined,
  seconds: number | undefined,
): Promise<unknown> {
  const context = contextOf(cache)
  const method = seconds === undefined ? 'lmove' : 'blmove'
  const [from, to] = moveVersions(options, method)
  let target: string | undefined
  return context.run(source, from, {
    method,
    access: 'write',
    get alsoWrites() {
      return target === undefined ? undefined : [target]
    },
    build: (rkey) => {
      target = context.key(destination, to)
      const args: RedisArgument[] = [
        method.toUpperCase(),
        rkey,
        target,
        side(sourceSide),
        side(destinationSide),
      ]
      if (seconds !== undefined) args.push(String(seconds))
      return args
    },
    convert: (reply) => decodeMoved(context, reply, source, destination, method),
    fallback: null,
    blockMs: seconds === undefined ? undefined : Math.ceil(seconds * 1000),
  })
}

async function push(
  cache: object,
  command: 'LPUSH' | 'RPUSH',
  key: string,
  values: unknown[],
): Promise<number | null> {
  if (values.length === 0) {
    throw new InvalidArgumentError(`${command.toLowerCase()}() needs at least one value`)
  }
  const context = contextOf(cache)
  return context.runOrNull(key, undefined, {
    method: command.toLowerCase(),
    access: 'write',
    build: (rkey) => [command, rkey, ...values.map((v) => encodeAt(context.codec, v, key))],
    convert: integerReply,
  })
}

function pop(
  cache: object,
  command: 'LPOP' | 'RPOP',
  key: string,
  count: number | undefined,
  options: VersionOption | undefined,
): Promise<unknown> {
  const context = contextOf(cache)
  // With a count, a missing key gives `[]` (Redis: nil), as django-cachex's Redis backend does.
  return context.run<unknown>(key, options, popSpec(context, command, key, count, []))
}

function side(value: ListSide): 'LEFT' | 'RIGHT' {
  return oneOf(value, ['LEFT', 'RIGHT'], 'a list side')
}

/** `value` upper-cased when it is one of `words` in any case; else an `InvalidArgumentError`. */
function oneOf<W extends string>(value: unknown, words: readonly W[], what: string): W {
  const upper = typeof value === 'string' ? value.toUpperCase() : value
  if (!words.includes(upper as W)) {
    throw new InvalidArgumentError(
      `${what} is ${words.map((w) => `'${w}'`).join(' or ')} (any case), got ${typeof value === 'string' ? `'${value}'` : describe(value)}`,
    )
  }
  return upper as W
}
