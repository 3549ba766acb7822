// Sets: a `MemberSet` (a `Set` that can also pick members at random in O(1)) per key.
import { arg, type Call, type CommandTable, is } from './_command.ts'
import { MemberSet } from './_member-set.ts'
import { fail, integer, positiveCount, type Reply, SYNTAX, toBigInt } from './_reply.ts'
import { parseCursor, scanOptions } from './keys.ts'
import { ELEMENT_OVERHEAD, type Entry, KEY_OVERHEAD, type Store } from './store.ts'

type Members = MemberSet

function members(store: Store, key: string, now: number): Members | undefined {
  return store.typed(key, 'set', now)?.value as Members | undefined
}

function read(call: Call, i = 0): Members | undefined {
  return members(call.store, arg(call, i), call.now)
}

function add(store: Store, entry: Entry, member: string): boolean {
  const set = entry.value as Members
  if (set.has(member)) return false
  set.add(member)
  store.added(set, member)
  store.grow(entry, member.length + ELEMENT_OVERHEAD)
  return true
}

function remove(store: Store, entry: Entry, member: string): boolean {
  const set = entry.value as Members
  if (!set.delete(member)) return false
  store.grow(entry, -(member.length + ELEMENT_OVERHEAD))
  return true
}

/** Stores `result` at `key` (deleting the key when empty). */
function store_(store: Store, key: string, result: Iterable<string>, now: number): number {
  store.delete(key)
  let size = 0
  const entry = store.create(key, 'set', now, () => new MemberSet())
  for (const member of result) if (add(store, entry, member)) size++
  store.dropIfEmpty(key, entry, size)
  return size
}

function combine(kind: 'DIFF' | 'INTER' | 'UNION', call: Call, from: number): Set<string> {
  const sets = call.args.slice(from).map((key) => members(call.store, key, call.now))
  const [first, ...rest] = sets
  if (kind === 'UNION') {
    const out = new Set<string>()
    for (const set of sets) for (const m of set ?? []) out.add(m)
    return out
  }
  if (kind === 'INTER') {
    if (sets.some((s) => s === undefined)) return new Set()
    const sorted = [...(sets as Members[])].sort((a, b) => a.size - b.size)
    const [smallest, ...others] = sorted
    return new Set([...(smallest ?? [])].filter((m) => others.every((s) => s.has(m))))
  }
  return new Set([...(first ?? [])].filter((m) => rest.every((s) => s === undefined || !s.has(m))))
}

/** A random sample of `set`: `count` distinct members, or with repeats when `repeat`. */
function sample(set: Members, count: number, repeat: boolean): string[] {
  return repeat ? set.sampleWithRepeats(count) : set.sampleDistinct(count)
}

function pick(pop: boolean) {
  return (call: Call): Reply => {
    const key = arg(call, 0)
    if (call.args.length > 2) throw fail(SYNTAX)
    const hasCount = call.args.length === 2
    // As Redis: the count is read before the key (SPOP's with `getPositiveLongFromObject`).
    const count = !hasCount ? 1 : pop ? positiveCount(arg(call, 1)) : integer(arg(call, 1))
    const entry = call.store.typed(key, 'set', call.now)
    if (entry === undefined) return hasCount ? [] : null
    const set = entry.value as Members
    if (!pop && count < 0) {
      // Each member repeated at will: the reply's size is the count's, bounded as a write is.
      const perMember = Math.max(
        ELEMENT_OVERHEAD,
        (entry.bytes - key.length - KEY_OVERHEAD) / set.size,
      )
      call.store.checkReply(-count * perMember)
    }
    const chosen = sample(set, Math.abs(count), !pop && count < 0)
    if (pop) {
      for (const m of chosen) remove(call.store, entry, m)
      call.store.dropIfEmpty(key, entry, set.size)
    }
    return hasCount ? chosen : (chosen[0] ?? null)
  }
}

function scan(call: Call): Reply {
  const cursor = parseCursor(arg(call, 1))
  const { match, count } = scanOptions(call.args, 2, false)
  const set = read(call)
  if (set === undefined) return ['0', []]
  const [next, items] = call.store.scanMembers(set, cursor, count, () => [...set])
  return [next, match === undefined ? items : items.filter(match)]
}

export const SETS: CommandTable = {
  SADD: {
    arity: -3,
    write: true,
    run: (call) => {
      const entry = call.store.create(arg(call, 0), 'set', call.now, () => new MemberSet())
      return call.args.slice(1).filter((m) => add(call.store, entry, m)).length
    },
  },
  SREM: {
    arity: -3,
    write: true,
    run: (call) => {
      const entry = call.store.typed(arg(call, 0), 'set', call.now)
      if (entry === undefined) return 0
      const removed = call.args.slice(1).filter((m) => remove(call.store, entry, m)).length
      call.store.dropIfEmpty(arg(call, 0), entry, (entry.value as Members).size)
      return removed
    },
  },
  SMEMBERS: { arity: 2, run: (call) => [...(read(call) ?? [])] },
  SISMEMBER: { arity: 3, run: (call) => (read(call)?.has(arg(call, 1)) === true ? 1 : 0) },
  SMISMEMBER: {
    arity: -3,
    run: (call) => {
      const set = read(call)
      return call.args.slice(1).map((m) => (set?.has(m) === true ? 1 : 0))
    },
  },
  SCARD: { arity: 2, run: (call) => read(call)?.size ?? 0 },
  SPOP: { arity: -2, write: true, run: pick(true) },
  SRANDMEMBER: { arity: -2, run: pick(false) },
  SMOVE: {
    arity: 4,
    write: true,
    run: (call) => {
      const [source, destination, member] = [arg(call, 0), arg(call, 1), arg(call, 2)]
      // Redis's order: a missing source is 0 before any type is checked.
      if (call.store.get(source, call.now) === undefined) return 0
      const from = call.store.typed(source, 'set', call.now) as Entry
      call.store.typed(destination, 'set', call.now)
      if (!(from.value as Members).has(member)) return 0
      if (source === destination) return 1
      remove(call.store, from, member)
      call.store.dropIfEmpty(source, from, (from.value as Members).size)
      add(
        call.store,
        call.store.create(destination, 'set', call.now, () => new MemberSet()),
        member,
      )
      return 1
    },
  },
  SDIFF: { arity: -2, run: (call) => [...combine('DIFF', call, 0)] },
  SINTER: { arity: -2, run: (call) => [...combine('INTER', call, 0)] },
  SUNION: { arity: -2, run: (call) => [...combine('UNION', call, 0)] },
  SDIFFSTORE: {
    arity: -3,
    write: true,
    run: (call) => store_(call.store, arg(call, 0), combine('DIFF', call, 1), call.now),
  },
  SINTERSTORE: {
    arity: -3,
    write: true,
    run: (call) => store_(call.store, arg(call, 0), combine('INTER', call, 1), call.now),
  },
  SUNIONSTORE: {
    arity: -3,
    write: true,
    run: (call) => store_(call.store, arg(call, 0), combine('UNION', call, 1), call.now),
  },
  SINTERCARD: {
    arity: -3,
    run: (call) => {
      // As Redis 7.0's `sinterCardCommand`: its checks and messages, in its order.
      const keys = toBigInt(arg(call, 0))
      if (keys === undefined || keys < 1n) throw fail('ERR numkeys should be greater than 0')
      if (keys > BigInt(call.args.length - 1)) {
        throw fail("ERR Number of keys can't be greater than number of args")
      }
      const n = Number(keys)
      let limit = 0n
      for (let j = 1 + n; j < call.args.length; j++) {
        if (!is(call.args[j], 'LIMIT') || j === call.args.length - 1) throw fail(SYNTAX)
        j++
        const value = toBigInt(arg(call, j))
        if (value === undefined || value < 0n) throw fail("ERR LIMIT can't be negative")
        limit = value
      }
      const size = combine('INTER', { ...call, args: call.args.slice(1, 1 + n) }, 0).size
      return limit > 0n ? Math.min(Number(limit), size) : size
    },
  },
  SSCAN: { arity: -3, run: scan },
}
