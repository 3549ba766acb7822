// Strings: GET, SET (NX/XX/GET/EX/PX/EXAT/PXAT/KEEPTTL), MGET, MSET, GETRANGE, INCRBY and friends.
import { arg, type Call, type CommandTable } from './_command.ts'
import { add, formatLongDouble, isInfinite, parseLongDouble, ZERO } from './_long-double.ts'
import {
  fail,
  fitsInt64,
  INT64_MIN,
  NOT_FLOAT,
  NOT_INTEGER,
  OK,
  type Reply,
  SYNTAX,
  toBigInt,
} from './_reply.ts'
import type { Store } from './store.ts'

/** The string value of `key`, or `undefined`; `WRONGTYPE` for another type. */
export function getString(store: Store, key: string, now: number): string | undefined {
  return store.typed(key, 'string', now)?.value as string | undefined
}

/** Stores a string (replacing any value of any type), expiring at `expiresAt` (0: never). */
export function putString(store: Store, key: string, value: string, expiresAt = 0): void {
  store.put(key, 'string', value, value.length, expiresAt)
}

function set(call: Call): Reply {
  const { store, now } = call
  const key = arg(call, 0)
  const value = arg(call, 1)
  let nx = false
  let xx = false
  let get = false
  let keepTtl = false
  let expiresAt = 0
  // As Redis's `parseExtendedStringArgumentsOrReply`: an expiry option may be repeated (the last
  // one counts, and only its time is read, after the options), but not mixed with another.
  let expiry: string | undefined
  let time = ''
  for (let i = 2; i < call.args.length; i++) {
    const word = arg(call, i).toUpperCase()
    const next = call.args[i + 1]
    if (word === 'NX' && !xx) nx = true
    else if (word === 'XX' && !nx) xx = true
    else if (word === 'GET') get = true
    else if (word === 'KEEPTTL' && expiry === undefined) keepTtl = true
    else if (
      (word === 'EX' || word === 'PX' || word === 'EXAT' || word === 'PXAT') &&
      (expiry === undefined || expiry === word) &&
      !keepTtl &&
      next !== undefined
    ) {
      expiry = word
      time = next
      i++
    } else throw fail(SYNTAX)
  }
  if (expiry !== undefined) {
    const n = toBigInt(time)
    if (n === undefined) throw fail(NOT_INTEGER)
    if (n <= 0n) throw fail("ERR invalid expire time in 'set' command")
    const ms = expiry === 'EX' || expiry === 'EXAT' ? n * 1000n : n
    const at = expiry === 'EX' || expiry === 'PX' ? ms + BigInt(now) : ms
    if (!fitsInt64(at) || !fitsInt64(ms)) throw fail("ERR invalid expire time in 'set' command")
    expiresAt = Number(at)
  }
  const entry = store.get(key, now)
  if (get && entry !== undefined && entry.kind !== 'string') {
    throw fail('WRONGTYPE Operation against a key holding the wrong kind of value')
  }
  const old = entry?.kind === 'string' ? (entry.value as string) : null
  if ((nx && entry !== undefined) || (xx && entry === undefined)) return get ? old : null
  if (keepTtl && entry !== undefined) expiresAt = entry.expiresAt
  if (expiresAt !== 0 && expiresAt <= now && !(keepTtl && entry !== undefined)) store.delete(key)
  else putString(store, key, value, expiresAt)
  return get ? old : OK
}

/** `INCRBY`'s arithmetic on the string at `key` (the TTL kept): the new value. */
export function incrBy(store: Store, key: string, delta: bigint, now: number): bigint {
  const entry = store.typed(key, 'string', now)
  let current = 0n
  if (entry !== undefined) {
    const parsed = toBigInt(entry.value as string)
    if (parsed === undefined) throw fail(NOT_INTEGER)
    current = parsed
  }
  const result = current + delta
  if (!fitsInt64(result)) throw fail('ERR increment or decrement would overflow')
  const digits = result.toString()
  if (entry === undefined) putString(store, key, digits)
  else {
    store.grow(entry, digits.length - (entry.value as string).length)
    entry.value = digits
  }
  return result
}

function incrCommand(sign: 1n | -1n, fixed?: bigint) {
  return (call: Call): Reply => {
    let delta = fixed
    if (delta === undefined) {
      delta = toBigInt(arg(call, 1))
      if (delta === undefined) throw fail(NOT_INTEGER)
      // As Redis 7.0's DECRBY: the lowest integer cannot be negated, whatever the key holds.
      if (sign === -1n && delta === INT64_MIN) throw fail('ERR decrement would overflow')
    }
    return Number(incrBy(call.store, arg(call, 0), sign * delta, call.now))
  }
}

/** GETRANGE key start end: Redis 7.0's `getrangeCommand`, its index rules included. */
function getRange(call: Call): Reply {
  const from = toBigInt(arg(call, 1))
  const to = toBigInt(arg(call, 2))
  if (from === undefined || to === undefined) throw fail(NOT_INTEGER)
  const value = getString(call.store, arg(call, 0), call.now) ?? ''
  const length = BigInt(value.length)
  if (from < 0n && to < 0n && from > to) return ''
  let start = from < 0n ? length + from : from
  let end = to < 0n ? length + to : to
  if (start < 0n) start = 0n
  if (end < 0n) end = 0n
  if (end >= length) end = length - 1n
  if (start > end || length === 0n) return ''
  return value.slice(Number(start), Number(end) + 1)
}

export const STRINGS: CommandTable = {
  GET: { arity: 2, run: (call) => getString(call.store, arg(call, 0), call.now) ?? null },
  SET: { arity: -3, write: true, run: set },
  SETNX: {
    arity: 3,
    write: true,
    run: (call) => (set({ ...call, args: [...call.args, 'NX'] }) === null ? 0 : 1),
  },
  GETDEL: {
    arity: 2,
    write: true,
    run: (call) => {
      const value = getString(call.store, arg(call, 0), call.now)
      if (value === undefined) return null
      call.store.delete(arg(call, 0))
      return value
    },
  },
  MGET: {
    arity: -2,
    run: (call) =>
      call.args.map((key) => {
        const entry = call.store.get(key, call.now)
        return entry?.kind === 'string' ? (entry.value as string) : null
      }),
  },
  MSET: {
    arity: -3,
    write: true,
    run: (call) => {
      if (call.args.length % 2 !== 0) throw fail("ERR wrong number of arguments for 'mset' command")
      for (let i = 0; i < call.args.length; i += 2)
        putString(call.store, arg(call, i), arg(call, i + 1))
      return OK
    },
  },
  STRLEN: {
    arity: 2,
    run: (call) => getString(call.store, arg(call, 0), call.now)?.length ?? 0,
  },
  GETRANGE: { arity: 4, run: getRange },
  APPEND: {
    arity: 3,
    write: true,
    run: (call) => {
      const entry = call.store.typed(arg(call, 0), 'string', call.now)
      if (entry === undefined) {
        putString(call.store, arg(call, 0), arg(call, 1))
        return arg(call, 1).length
      }
      entry.value = (entry.value as string) + arg(call, 1)
      call.store.grow(entry, arg(call, 1).length)
      return (entry.value as string).length
    },
  },
  INCR: { arity: 2, write: true, run: incrCommand(1n, 1n) },
  DECR: { arity: 2, write: true, run: incrCommand(-1n, 1n) },
  INCRBY: { arity: 3, write: true, run: incrCommand(1n) },
  DECRBY: { arity: 3, write: true, run: incrCommand(-1n) },
  INCRBYFLOAT: {
    arity: 3,
    write: true,
    run: (call) => {
      const entry = call.store.typed(arg(call, 0), 'string', call.now)
      // In long doubles, as Redis (`./_long-double.ts`).
      const current = entry === undefined ? ZERO : parseLongDouble(entry.value as string)
      const delta = parseLongDouble(arg(call, 1))
      if (current === undefined || delta === undefined) throw fail(NOT_FLOAT)
      const result = add(current, delta)
      if (result === undefined || isInfinite(result))
        throw fail('ERR increment would produce NaN or Infinity')
      const text = formatLongDouble(result)
      if (entry === undefined) putString(call.store, arg(call, 0), text)
      else {
        call.store.grow(entry, text.length - (entry.value as string).length)
        entry.value = text
      }
      return text
    },
  },
}
