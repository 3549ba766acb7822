// Hashes: a `Map` of field → value per key (insertion order, as a small hash's listpack keeps it).
import { arg, type Call, type CommandTable } from './_command.ts'
import { add, formatLongDouble, isInfinite, parseLongDouble, ZERO } from './_long-double.ts'
import { fail, fitsInt64, NOT_FLOAT, NOT_INTEGER, OK, type Reply, toBigInt } from './_reply.ts'
import { parseCursor, scanOptions } from './keys.ts'
import { ELEMENT_OVERHEAD, type Entry } from './store.ts'

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER)
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

type Hash = Map<string, string>

function read(call: Call): Hash | undefined {
  return call.store.typed(arg(call, 0), 'hash', call.now)?.value as Hash | undefined
}

function create(call: Call): Entry {
  return call.store.create(arg(call, 0), 'hash', call.now, () => new Map())
}

/** Sets `field` in the hash of `entry`; whether the field is new. */
function setField(call: Call, entry: Entry, field: string, value: string): boolean {
  const hash = entry.value as Hash
  const old = hash.get(field)
  hash.set(field, value)
  if (old === undefined) call.store.added(hash, field)
  call.store.grow(
    entry,
    old === undefined ? field.length + value.length + ELEMENT_OVERHEAD : value.length - old.length,
  )
  return old === undefined
}

function hset(call: Call, name = 'hset'): Reply {
  if (call.args.length % 2 === 0) throw fail(`ERR wrong number of arguments for '${name}' command`)
  const entry = create(call)
  let added = 0
  for (let i = 1; i < call.args.length; i += 2) {
    if (setField(call, entry, arg(call, i), arg(call, i + 1))) added++
  }
  return added
}

export const HASHES: CommandTable = {
  HSET: { arity: -4, write: true, run: hset },
  HMSET: {
    arity: -4,
    write: true,
    run: (call) => {
      hset(call, 'hmset')
      return OK
    },
  },
  HSETNX: {
    arity: 4,
    write: true,
    run: (call) => {
      if (read(call)?.has(arg(call, 1)) === true) return 0
      setField(call, create(call), arg(call, 1), arg(call, 2))
      return 1
    },
  },
  HGET: { arity: 3, run: (call) => read(call)?.get(arg(call, 1)) ?? null },
  HMGET: {
    arity: -3,
    run: (call) => {
      const hash = read(call)
      return call.args.slice(1).map((field) => hash?.get(field) ?? null)
    },
  },
  HGETALL: { arity: 2, run: (call) => [...(read(call) ?? new Map<string, string>())].flat() },
  HKEYS: { arity: 2, run: (call) => [...(read(call)?.keys() ?? [])] },
  HVALS: { arity: 2, run: (call) => [...(read(call)?.values() ?? [])] },
  HLEN: { arity: 2, run: (call) => read(call)?.size ?? 0 },
  HEXISTS: { arity: 3, run: (call) => (read(call)?.has(arg(call, 1)) === true ? 1 : 0) },
  HSTRLEN: { arity: 3, run: (call) => read(call)?.get(arg(call, 1))?.length ?? 0 },
  HDEL: {
    arity: -3,
    write: true,
    run: (call) => {
      const entry = call.store.typed(arg(call, 0), 'hash', call.now)
      if (entry === undefined) return 0
      const hash = entry.value as Hash
      let removed = 0
      for (const field of call.args.slice(1)) {
        const old = hash.get(field)
        if (old === undefined) continue
        hash.delete(field)
        call.store.grow(entry, -(field.length + old.length + ELEMENT_OVERHEAD))
        removed++
      }
      call.store.dropIfEmpty(arg(call, 0), entry, hash.size)
      return removed
    },
  },
  HINCRBY: {
    arity: 4,
    write: true,
    run: (call) => {
      const delta = toBigInt(arg(call, 2))
      if (delta === undefined) throw fail(NOT_INTEGER)
      const old = read(call)?.get(arg(call, 1))
      const current = old === undefined ? 0n : toBigInt(old)
      if (current === undefined) throw fail('ERR hash value is not an integer')
      const result = current + delta
      if (!fitsInt64(result)) throw fail('ERR increment or decrement would overflow')
      setField(call, create(call), arg(call, 1), result.toString())
      // Exact: node-redis would read this reply as digits for a `digits` route.
      return result >= MIN_SAFE && result <= MAX_SAFE ? Number(result) : result
    },
  },
  HINCRBYFLOAT: {
    arity: 4,
    write: true,
    run: (call) => {
      // In long doubles, as Redis (`./_long-double.ts`); an infinite increment is refused first.
      const delta = parseLongDouble(arg(call, 2))
      if (delta === undefined) throw fail(NOT_FLOAT)
      if (isInfinite(delta)) throw fail('ERR value is NaN or Infinity')
      const old = read(call)?.get(arg(call, 1))
      const current = old === undefined ? ZERO : parseLongDouble(old)
      if (current === undefined) throw fail('ERR hash value is not a float')
      const result = add(current, delta)
      if (result === undefined || isInfinite(result))
        throw fail('ERR increment would produce NaN or Infinity')
      const text = formatLongDouble(result)
      setField(call, create(call), arg(call, 1), text)
      return text
    },
  },
  HSCAN: {
    arity: -3,
    run: (call) => {
      const cursor = parseCursor(arg(call, 1))
      const { match, count } = scanOptions(call.args, 2, false)
      const hash = read(call)
      if (hash === undefined) return ['0', []]
      const [next, fields] = call.store.scanMembers(hash, cursor, count, () => [...hash.keys()])
      const out: string[] = []
      for (const field of fields) {
        const value = hash.get(field)
        if (value !== undefined && (match === undefined || match(field))) out.push(field, value)
      }
      return [next, out]
    },
  },
}
