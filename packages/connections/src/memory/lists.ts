// Lists: a deque (ring buffer, `_deque.ts`) per key, so that pushes and pops at either end are
// O(1), as in Redis; the value's pushes, takes and moves are `./_list.ts`. The blocking forms
// (BLPOP, BRPOP, BLMOVE) are run by the connection through `LIST_BLOCKING`
// (`./_list-blocking.ts`): it tries once and, when nothing is there, waits for a write to one of
// the keys; in MULTI they run once, as their non-blocking forms.
import { arg, type Call, type CommandTable, is } from './_command.ts'
import { type List, listEntry, move, push, side, take } from './_list.ts'
import { nonBlocking } from './_list-blocking.ts'
import {
  fail,
  INT64_MIN,
  integer,
  OK,
  positiveCount,
  type Reply,
  SYNTAX,
  toBigInt,
} from './_reply.ts'
import { ELEMENT_OVERHEAD } from './store.ts'

export { LIST_BLOCKING } from './_list-blocking.ts'

function read(call: Call): List | undefined {
  return listEntry(call.store, arg(call, 0), call.now)?.value as List | undefined
}

function pop(left: boolean) {
  return (call: Call): Reply => {
    // As Redis 7.0's `popGenericCommand`: more than a count is an arity error.
    if (call.args.length > 2) {
      throw fail(`ERR wrong number of arguments for '${left ? 'lpop' : 'rpop'}' command`)
    }
    const hasCount = call.args.length === 2
    const count = hasCount ? positiveCount(arg(call, 1)) : 1
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
  let wrapped = false
  let count: number | undefined
  let maxlen = 0
  for (let i = 2; i < call.args.length; i += 2) {
    const value = call.args[i + 1]
    if (value === undefined) throw fail(SYNTAX)
    const word = arg(call, i)
    if (is(word, 'RANK')) {
      rank = integer(value)
      wrapped = toBigInt(value) === INT64_MIN
      if (rank === 0) {
        throw fail(
          "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
        )
      }
    } else if (is(word, 'COUNT')) {
      count = positiveCount(value, "ERR COUNT can't be negative")
    } else if (is(word, 'MAXLEN')) {
      maxlen = positiveCount(value, "ERR MAXLEN can't be negative")
    } else throw fail(SYNTAX)
  }
  const list = read(call)
  if (list === undefined) return count === undefined ? null : []
  const element = arg(call, 1)
  // RANK -2^63: Redis 7.0 negates it in a C long, where it stays -2^63, so every match is at or
  // past that rank (the first from the tail), and COUNT's `matches - rank + 1` wraps below it.
  const want = count === undefined ? 1 : count === 0 || wrapped ? Infinity : count
  const found: number[] = []
  let skip = wrapped ? 0 : Math.abs(rank) - 1
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
