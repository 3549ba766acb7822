// Lists: a deque (ring buffer, `_deque.ts`) per key, so that pushes and pops at either end are
// O(1), as in Redis. The blocking forms (BLPOP, BRPOP, BLMOVE) are run by the connection through
// `LIST_BLOCKING`: it tries once and, when nothing is there, waits for a write to one of the
// keys; in MULTI they run once, as their non-blocking forms.
import {
  arg,
  type BlockingCommand,
  type Call,
  type CommandSpec,
  type CommandTable,
  is,
} from './_command.ts'
import { Deque } from './_deque.ts'
import { ceilTimes1000, parseLongDouble } from './_long-double.ts'
import { fail, integer, OK, type Reply, SYNTAX } from './_reply.ts'
import { ELEMENT_OVERHEAD, type Entry, type Store } from './store.ts'

type List = Deque<string>

function listEntry(store: Store, key: string, now: number): Entry | undefined {
  return store.typed(key, 'list', now)
}

function read(call: Call): List | undefined {
  return listEntry(call.store, arg(call, 0), call.now)?.value as List | undefined
}

function push(
  store: Store,
  key: string,
  values: readonly string[],
  left: boolean,
  now: number,
): number {
  const entry = store.create(key, 'list', now, () => new Deque<string>())
  const list = entry.value as List
  for (const value of values) {
    if (left) list.unshift(value)
    else list.push(value)
    store.grow(entry, value.length + ELEMENT_OVERHEAD)
  }
  store.wake(key)
  return list.length
}

/** Takes up to `count` items from one end of the list at `key`. */
function take(
  store: Store,
  key: string,
  left: boolean,
  count: number,
  now: number,
): string[] | undefined {
  const entry = listEntry(store, key, now)
  if (entry === undefined) return undefined
  const list = entry.value as List
  const out: string[] = []
  for (let n = Math.min(count, list.length); n > 0; n--) {
    const value = (left ? list.shift() : list.pop()) as string
    store.grow(entry, -(value.length + ELEMENT_OVERHEAD))
    out.push(value)
  }
  store.dropIfEmpty(key, entry, list.length)
  return out
}

function side(word: string): boolean {
  if (is(word, 'LEFT')) return true
  if (is(word, 'RIGHT')) return false
  throw fail(SYNTAX)
}

/** LMOVE's step: the moved value, or `null` when the source is empty. */
function move(
  store: Store,
  source: string,
  destination: string,
  from: boolean,
  to: boolean,
  now: number,
): string | null {
  // As Redis: a missing source answers nil before the destination's type is looked at.
  const entry = listEntry(store, source, now)
  if (entry === undefined) return null
  listEntry(store, destination, now)
  const [value] = take(store, source, from, 1, now) ?? []
  if (value === undefined) return null
  push(store, destination, [value], to, now)
  return value
}

function pop(left: boolean) {
  return (call: Call): Reply => {
    if (call.args.length > 2) throw fail(SYNTAX)
    const hasCount = call.args.length === 2
    const count = hasCount ? integer(arg(call, 1)) : 1
    if (count < 0) throw fail('ERR value is out of range, must be positive')
    const out = take(call.store, arg(call, 0), left, count, call.now)
    if (out === undefined) return null
    return hasCount ? out : (out[0] ?? null)
  }
}

function index(i: number, length: number): number {
  return i < 0 ? length + i : i
}

function lpos(call: Call): Reply {
  let rank = 1
  let count: number | undefined
  let maxlen = 0
  for (let i = 2; i < call.args.length; i += 2) {
    const value = call.args[i + 1]
    if (value === undefined) throw fail(SYNTAX)
    const word = arg(call, i)
    if (is(word, 'RANK')) {
      rank = integer(value)
      if (rank === 0) {
        throw fail(
          "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
        )
      }
    } else if (is(word, 'COUNT')) {
      count = integer(value)
      if (count < 0) throw fail("ERR COUNT can't be negative")
    } else if (is(word, 'MAXLEN')) {
      maxlen = integer(value)
      if (maxlen < 0) throw fail("ERR MAXLEN can't be negative")
    } else throw fail(SYNTAX)
  }
  const list = read(call)
  if (list === undefined) return count === undefined ? null : []
  const element = arg(call, 1)
  const want = count === undefined ? 1 : count === 0 ? Infinity : count
  const found: number[] = []
  let skip = Math.abs(rank) - 1
  const n = list.length
  for (let step = 0; step < n && (maxlen === 0 || step < maxlen) && found.length < want; step++) {
    const i = rank > 0 ? step : n - 1 - step
    if (list.at(i) !== element) continue
    if (skip > 0) skip--
    else found.push(i)
  }
  return count === undefined ? (found[0] ?? null) : found
}

export const LISTS: CommandTable = {
  LPUSH: {
    arity: -3,
    write: true,
    run: (call) => push(call.store, arg(call, 0), call.args.slice(1), true, call.now),
  },
  RPUSH: {
    arity: -3,
    write: true,
    run: (call) => push(call.store, arg(call, 0), call.args.slice(1), false, call.now),
  },
  LPUSHX: {
    arity: -3,
    write: true,
    run: (call) =>
      read(call) === undefined
        ? 0
        : push(call.store, arg(call, 0), call.args.slice(1), true, call.now),
  },
  RPUSHX: {
    arity: -3,
    write: true,
    run: (call) =>
      read(call) === undefined
        ? 0
        : push(call.store, arg(call, 0), call.args.slice(1), false, call.now),
  },
  LPOP: { arity: -2, write: true, run: pop(true) },
  RPOP: { arity: -2, write: true, run: pop(false) },
  LLEN: { arity: 2, run: (call) => read(call)?.length ?? 0 },
  LINDEX: {
    arity: 3,
    run: (call) => {
      const i = integer(arg(call, 1))
      const list = read(call)
      return list === undefined ? null : (list.at(index(i, list.length)) ?? null)
    },
  },
  LRANGE: {
    arity: 4,
    run: (call) => {
      const start = integer(arg(call, 1))
      const stop = integer(arg(call, 2))
      const list = read(call)
      if (list === undefined) return []
      const from = Math.max(0, index(start, list.length))
      const to = Math.min(list.length - 1, index(stop, list.length))
      return from > to ? [] : list.slice(from, to + 1)
    },
  },
  LSET: {
    arity: 4,
    write: true,
    run: (call) => {
      const i = integer(arg(call, 1))
      const entry = listEntry(call.store, arg(call, 0), call.now)
      if (entry === undefined) throw fail('ERR no such key')
      const list = entry.value as List
      const at = index(i, list.length)
      if (at < 0 || at >= list.length) throw fail('ERR index out of range')
      call.store.grow(entry, arg(call, 2).length - (list.at(at) as string).length)
      list.set(at, arg(call, 2))
      return OK
    },
  },
  LTRIM: {
    arity: 4,
    write: true,
    run: (call) => {
      const start = integer(arg(call, 1))
      const stop = integer(arg(call, 2))
      const entry = listEntry(call.store, arg(call, 0), call.now)
      if (entry === undefined) return OK
      const list = entry.value as List
      const from = Math.max(0, index(start, list.length))
      const to = Math.min(list.length - 1, index(stop, list.length))
      // Drops the elements outside [from, to] from both ends: O(elements removed), as Redis.
      const [head, tail] = from > to ? [list.length, 0] : [from, list.length - 1 - to]
      let freed = 0
      for (let n = 0; n < head; n++) freed += (list.shift() as string).length + ELEMENT_OVERHEAD
      for (let n = 0; n < tail; n++) freed += (list.pop() as string).length + ELEMENT_OVERHEAD
      call.store.grow(entry, -freed)
      call.store.dropIfEmpty(arg(call, 0), entry, list.length)
      return OK
    },
  },
  LPOS: { arity: -3, run: lpos },
  LMOVE: {
    arity: 5,
    write: true,
    run: (call) => {
      const from = side(arg(call, 2))
      const to = side(arg(call, 3))
      return move(call.store, arg(call, 0), arg(call, 1), from, to, call.now)
    },
  },
  RPOPLPUSH: {
    arity: 3,
    write: true,
    run: (call) => move(call.store, arg(call, 0), arg(call, 1), false, true, call.now),
  },
  LINSERT: {
    arity: 5,
    write: true,
    run: (call) => {
      const where = arg(call, 1)
      if (!is(where, 'BEFORE') && !is(where, 'AFTER')) throw fail(SYNTAX)
      const entry = listEntry(call.store, arg(call, 0), call.now)
      if (entry === undefined) return 0
      const list = entry.value as List
      const at = list.indexOf(arg(call, 2))
      if (at < 0) return -1
      list.insert(is(where, 'BEFORE') ? at : at + 1, arg(call, 3))
      call.store.grow(entry, arg(call, 3).length + ELEMENT_OVERHEAD)
      call.store.wake(arg(call, 0))
      return list.length
    },
  },
  LREM: {
    arity: 4,
    write: true,
    run: (call) => {
      const count = integer(arg(call, 1))
      const entry = listEntry(call.store, arg(call, 0), call.now)
      if (entry === undefined) return 0
      const list = entry.value as List
      const value = arg(call, 2)
      const limit = count === 0 ? Infinity : Math.abs(count)
      // One pass that closes the gaps: O(length), as Redis. From the tail (count < 0), the
      // matches to remove are those from the `limit`-th last one on.
      let removed = 0
      if (count >= 0) {
        list.retain((v) => {
          if (v !== value || removed >= limit) return true
          removed++
          return false
        })
      } else {
        let cut = list.length
        for (let i = list.length - 1; i >= 0 && removed < limit; i--) {
          if (list.at(i) === value) {
            removed++
            cut = i
          }
        }
        if (removed > 0) list.retain((v) => v !== value, cut)
      }
      call.store.grow(entry, -removed * (value.length + ELEMENT_OVERHEAD))
      call.store.dropIfEmpty(arg(call, 0), entry, list.length)
      return removed
    },
  },
  BLPOP: nonBlocking('BLPOP', -3),
  BRPOP: nonBlocking('BRPOP', -3),
  BLMOVE: nonBlocking('BLMOVE', 6),
}

const LLONG_MAX = 2n ** 63n - 1n

/**
 * A blocking command's timeout (its last argument for BLPOP/BRPOP, BLMOVE's 5th), in
 * milliseconds, `0` for no bound, as Redis 7.0's `getTimeoutFromObjectOrReply` reads it: seconds
 * as a long double (`string2ld`), `ceill(seconds * 1000)` cast to a signed 64-bit integer. Past
 * 2^63 − 1 (an infinity included) the cast gives the lowest integer, hence `timeout is
 * negative`; a timeout whose deadline (now + ms) overflows wraps around in Redis, where it then
 * never fires: here too, it waits with no bound.
 */
function blockingTimeout(name: string, args: readonly string[], now: number): number {
  const text = name === 'BLMOVE' ? args[4] : args[args.length - 1]
  const seconds = text === undefined ? undefined : parseLongDouble(text)
  if (seconds === undefined) throw fail('ERR timeout is not a float or out of range')
  const ms = ceilTimes1000(seconds)
  if (ms === undefined || ms > LLONG_MAX || ms < 0n) throw fail('ERR timeout is negative')
  if (ms > LLONG_MAX - BigInt(now)) return 0
  return Number(ms)
}

/** The keys a blocking command waits on. */
function blockingKeys(name: string, args: readonly string[]): string[] {
  return name === 'BLMOVE' ? [args[0] ?? ''] : args.slice(0, -1)
}

/**
 * One try of a blocking command, as its non-blocking form: the reply when there was data,
 * `undefined` to wait.
 */
function tryBlocking(name: string, call: Call): Reply | undefined {
  if (name === 'BLMOVE') {
    const from = side(arg(call, 2))
    const to = side(arg(call, 3))
    const value = move(call.store, arg(call, 0), arg(call, 1), from, to, call.now)
    return value ?? undefined
  }
  for (const key of blockingKeys(name, call.args)) {
    const [value] = take(call.store, key, name === 'BLPOP', 1, call.now) ?? []
    if (value !== undefined) return [key, value]
  }
  return undefined
}

/** BLPOP, BRPOP, BLMOVE as their non-blocking forms (in MULTI): the value or nil, at once. */
function nonBlocking(name: string, arity: number): CommandSpec {
  return {
    arity,
    write: true,
    run: (call) => {
      blockingTimeout(name, call.args, call.now)
      return tryBlocking(name, call) ?? null
    },
  }
}

/**
 * A blocked call served from `key`, a key it waits on that was written, as Redis's
 * `serveClientBlockedOnList`: only a list there serves it (a key renamed from a string leaves
 * it waiting); a BLMOVE whose destination holds another type gets `WRONGTYPE`, the element left
 * where it was.
 */
function serveBlocked(name: string, call: Call, key: string): Reply | undefined {
  if (call.store.get(key, call.now)?.kind !== 'list') return undefined
  if (name === 'BLMOVE') {
    const value = move(
      call.store,
      key,
      arg(call, 1),
      side(arg(call, 2)),
      side(arg(call, 3)),
      call.now,
    )
    return value ?? undefined
  }
  const [value] = take(call.store, key, name === 'BLPOP', 1, call.now) ?? []
  return value === undefined ? undefined : [key, value]
}

function blocking(name: string): BlockingCommand {
  return {
    wait(call, script) {
      if (script) throw fail('ERR This Redis command is not allowed from script')
      const ms = blockingTimeout(name, call.args, call.now)
      return {
        keys: blockingKeys(name, call.args),
        ms,
        takes: 'list',
        attempt: (next, key) =>
          key === undefined ? tryBlocking(name, next) : serveBlocked(name, next, key),
      }
    },
  }
}

/** The blocking list commands: they wait for a push to one of their keys. */
export const LIST_BLOCKING: Record<string, BlockingCommand> = {
  BLPOP: blocking('BLPOP'),
  BRPOP: blocking('BRPOP'),
  BLMOVE: blocking('BLMOVE'),
}
