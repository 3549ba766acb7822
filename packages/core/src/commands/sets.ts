// The set commands of a `Cache` (django-cachex's `sadd` … `sscan`): members go through the
// cache's codec, so `1`, `'1'` and `{ id: 1 }` are three distinct members, as in Django.
import {
  checkInteger,
  checkOptions,
  checkVersionOption,
  moveVersions,
  splitOptions,
  VERSION_ONLY,
} from '../_args.ts'
import { type CacheContext, contextOf, type Implementation } from '../_context.ts'
import { encodeAt, encodeMatchAt } from '../_key-errors.ts'
import { own } from '../_own.ts'
import { integerReply, isOne, toArray } from '../_replies.ts'
import type { MoveOptions, StoreOptions, VersionOption } from '../cache-options.ts'
import { InvalidArgumentError } from '../errors.ts'
import { popSpec } from './_removed.ts'
import { type MemberScanOptions, scanKey } from './_scan.ts'

/** Set names then, optionally, the options: `sinter('a', 'b', { version: 2 })`. */
type KeysThenOptions = string[] | [...string[], VersionOption]
/** The sources, then optionally the options: `sdiffstore('d', 'a', 'b', { versionKeys: 1 })`. */
type KeysThenStoreOptions = string[] | [...string[], StoreOptions]

/** The keys of `StoreOptions`. */
const STORE_KEYS = ['version', 'versionDest', 'versionKeys'] as const

/** The set commands of a `Cache`. */
export interface SetCommands {
  /**
   * Adds members; resolves how many were not in the set yet. Members are any values, so this
   * method takes no options: it works on the cache's `version` (as `lpush`).
   */
  sadd(key: string, ...members: unknown[]): Promise<number>
  /** Removes members; resolves how many were in the set. Like `sadd`, it takes no options. */
  srem(key: string, ...members: unknown[]): Promise<number>
  /** Every member, in no particular order (`[]` for a missing key). */
  smembers<T = unknown>(key: string, options?: VersionOption): Promise<T[]>
  /** Whether `member` is in the set. */
  sismember(key: string, member: unknown, options?: VersionOption): Promise<boolean>
  /** For each member given, whether it is in the set. Like `sadd`, it takes no options. */
  smismember(key: string, ...members: unknown[]): Promise<boolean[]>
  /** How many members the set has (0 for a missing key). */
  scard(key: string, options?: VersionOption): Promise<number>
  /** Removes and returns a random member, or `null`; with `count`, up to `count` of them. */
  spop<T = unknown>(key: string, count?: undefined, options?: VersionOption): Promise<T | null>
  spop<T = unknown>(key: string, count: number, options?: VersionOption): Promise<T[]>
  /**
   * A random member, or `null`; with `count`, up to `count` distinct members (a negative
   * `count`: exactly `-count`, possibly repeated). Nothing is removed.
   */
  srandmember<T = unknown>(
    key: string,
    count?: undefined,
    options?: VersionOption,
  ): Promise<T | null>
  srandmember<T = unknown>(key: string, count: number, options?: VersionOption): Promise<T[]>
  /**
   * Moves `member` from `source` to `destination`, atomically; resolves whether it was in
   * `source`. `version` applies to both keys, `versionSrc` / `versionDst` to one.
   */
  smove(
    source: string,
    destination: string,
    member: unknown,
    options?: MoveOptions,
  ): Promise<boolean>
  /** The members of the first set that are in none of the others: `sdiff('a', 'b', { version })`. */
  sdiff<T = unknown>(...keys: KeysThenOptions): Promise<T[]>
  /** The members in every one of the sets. */
  sinter<T = unknown>(...keys: KeysThenOptions): Promise<T[]>
  /** The members in any of the sets. */
  sunion<T = unknown>(...keys: KeysThenOptions): Promise<T[]>
  /**
   * Stores `sdiff` of `keys` in `destination` (replacing it); resolves its size. `version`
   * applies to every key, `versionDest` to `destination` and `versionKeys` to the sources.
   */
  sdiffstore(destination: string, ...keys: KeysThenStoreOptions): Promise<number>
  /** Stores `sinter` of `keys` in `destination` (replacing it); resolves its size. As `sdiffstore`. */
  sinterstore(destination: string, ...keys: KeysThenStoreOptions): Promise<number>
  /** Stores `sunion` of `keys` in `destination` (replacing it); resolves its size. As `sdiffstore`. */
  sunionstore(destination: string, ...keys: KeysThenStoreOptions): Promise<number>
  /**
   * Every member, a batch of `SSCAN` at a time, without holding the whole set: `for await (const
   * member of cache.sscan('tags'))`. A member added or removed during the scan may or may not
   * be seen; one present throughout is seen at least once (Redis's `SSCAN` guarantee).
   */
  sscan<T = unknown>(key: string, options?: MemberScanOptions): AsyncIterable<T>
}

/** The set commands, attached to `Cache`. */
export const setCommands = {
  sadd(key: string, ...members: unknown[]) {
    return addOrRemove(this, 'SADD', key, members)
  },

  srem(key: string, ...members: unknown[]) {
    return addOrRemove(this, 'SREM', key, members)
  },

  smembers(key: string, options?: VersionOption) {
    const context = contextOf(this)
    return context.run(key, options, {
      method: 'smembers',
      access: 'read',
      build: (rkey) => ['SMEMBERS', rkey],
      convert: (reply) => context.decodeAll(reply, key),
      fallback: [],
    })
  },

  sismember(key: string, member: unknown, options?: VersionOption) {
    const context = contextOf(this)
    return context.run(key, options, {
      method: 'sismember',
      access: 'read',
      build: (rkey) => ['SISMEMBER', rkey, encodeMatchAt(context.codec, member, key)],
      // The sismembers of one tick on one set: one SMISMEMBER (`coalesceReads`).
      send: context.coalesced?.SISMEMBER,
      convert: isOne,
      fallback: false,
    })
  },

  async smismember(key: string, ...members: unknown[]) {
    if (members.length === 0) {
      throw new InvalidArgumentError('smismember() needs at least one member')
    }
    const context = contextOf(this)
    return context.run(key, undefined, {
      method: 'smismember',
      access: 'read',
      build: (rkey) => [
        'SMISMEMBER',
        rkey,
        ...members.map((m) => encodeMatchAt(context.codec, m, key)),
      ],
      convert: (reply) => toArray(reply).map(isOne),
      fallback: members.map(() => false),
    })
  },

  scard(key: string, options?: VersionOption) {
    return contextOf(this).run(key, options, {
      method: 'scard',
      access: 'read',
      build: (rkey) => ['SCARD', rkey],
      convert: integerReply,
      fallback: 0,
    })
  },

  spop(key: string, count?: number, options?: VersionOption) {
    return pick(this, 'SPOP', 'write', key, count, options)
  },

  srandmember(key: string, count?: number, options?: VersionOption) {
    return pick(this, 'SRANDMEMBER', 'read', key, count, options)
  },

  async smove(source: string, destination: string, member: unknown, options?: MoveOptions) {
    const context = contextOf(this)
    const [from, to] = moveVersions(options, 'smove')
    let target: string | undefined
    return context.run(source, from, {
      method: 'smove',
      access: 'write',
      get alsoWrites() {
        return target === undefined ? undefined : [target]
      },
      build: (rkey) => {
        target = context.key(destination, to)
        return [
          'SMOVE',
          rkey,
          target,
          // Moved only if stored already: compared, so not held to maxValueSize.
          encodeMatchAt(context.codec, member, source),
        ]
      },
      convert: isOne,
      fallback: false,
    })
  },

  sdiff(...keys: KeysThenOptions) {
    return combine(this, 'SDIFF', keys)
  },

  sinter(...keys: KeysThenOptions) {
    return combine(this, 'SINTER', keys)
  },

  sunion(...keys: KeysThenOptions) {
    return combine(this, 'SUNION', keys)
  },

  sdiffstore(destination: string, ...keys: KeysThenStoreOptions) {
    return combineInto(this, 'SDIFFSTORE', destination, keys)
  },

  sinterstore(destination: string, ...keys: KeysThenStoreOptions) {
    return combineInto(this, 'SINTERSTORE', destination, keys)
  },

  sunionstore(destination: string, ...keys: KeysThenStoreOptions) {
    return combineInto(this, 'SUNIONSTORE', destination, keys)
  },

  sscan(key: string, options: MemberScanOptions = {}) {
    const context = contextOf(this)
    return scanKey(context, 'SSCAN', key, options, (members) => context.decodeAll(members, key))
  },
} satisfies Implementation<SetCommands>

async function addOrRemove(
  cache: object,
  command: 'SADD' | 'SREM',
  key: string,
  members: unknown[],
): Promise<number> {
  const method = command.toLowerCase()
  if (members.length === 0) throw new InvalidArgumentError(`${method}() needs at least one member`)
  const context = contextOf(cache)
  return context.run(key, undefined, {
    method,
    access: 'write',
    build: (rkey) => {
      const codec = context.codec
      // A member to remove is only compared, so SREM's are not held to maxValueSize: a member
      // over it that another writer stored can be removed.
      const encode =
        command === 'SADD'
          ? (m: unknown) => encodeAt(codec, m, key)
          : (m: unknown) => encodeMatchAt(codec, m, key)
      return [command, rkey, ...members.map(encode)]
    },
    convert: integerReply,
    fallback: 0,
  })
}

/** `spop` / `srandmember`: one member or `null`, or with `count` an array. */
function pick(
  cache: object,
  command: 'SPOP' | 'SRANDMEMBER',
  access: 'read' | 'write',
  key: string,
  count: number | undefined,
  options: VersionOption | undefined,
): Promise<unknown> {
  const context = contextOf(cache)
  const method = command.toLowerCase()
  if (command === 'SPOP') {
    return context.run<unknown>(key, options, popSpec(context, command, key, count, []))
  }
  return context.run<unknown>(key, options, {
    method,
    access,
    build: (rkey) =>
      count === undefined ? [command, rkey] : [command, rkey, String(checkInteger(count))],
    convert: (reply) =>
      count === undefined ? context.decodeOrNull(reply, key) : context.decodeAll(reply ?? [], key),
    fallback: count === undefined ? null : [],
  })
}

/** The Redis keys of a multi-set command's sets; the first names the call for errors. */
function setKeys(
  context: CacheContext,
  method: string,
  keys: KeysThenOptions,
): [first: string, rest: string[], options: VersionOption | undefined] {
  const [names, options] = splitOptions(keys)
  checkOptions(options, method, VERSION_ONLY)
  const [first, ...rest] = names
  if (first === undefined) throw new InvalidArgumentError(`${method}() needs at least one key`)
  return [first, rest.map((name) => context.key(name, options)), options]
}

async function combine(
  cache: object,
  command: 'SDIFF' | 'SINTER' | 'SUNION',
  keys: KeysThenOptions,
) {
  const context = contextOf(cache)
  const method = command.toLowerCase()
  const [first, rest, options] = setKeys(context, method, keys)
  return context.run<unknown[]>(first, options, {
    method,
    access: 'read',
    build: (rkey) => [command, rkey, ...rest],
    convert: (reply) => context.decodeAll(reply, first),
    fallback: [],
  })
}

async function combineInto(
  cache: object,
  command: 'SDIFFSTORE' | 'SINTERSTORE' | 'SUNIONSTORE',
  destination: string,
  keys: KeysThenStoreOptions,
) {
  const context = contextOf(cache)
  const method = command.toLowerCase()
  const [names, options] = splitOptions<StoreOptions>(keys)
  checkOptions(options, method, STORE_KEYS)
  const version = checkVersionOption(own(options, 'version'))
  const into = checkVersionOption(own(options, 'versionDest')) ?? version
  const from = checkVersionOption(own(options, 'versionKeys')) ?? version
  const sources = from === undefined ? undefined : { version: from }
  if (names.length === 0) throw new InvalidArgumentError(`${method}() needs at least one key`)
  return context.run(destination, into === undefined ? undefined : { version: into }, {
    method,
    access: 'write',
    build: (rkey) => [command, rkey, ...names.map((name) => context.key(name, sources))],
    convert: integerReply,
    fallback: 0,
  })
}
