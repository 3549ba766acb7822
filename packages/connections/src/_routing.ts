import { CrossSlotError, type RedisArgument } from '@cachex/core'
import { keySlot } from './_slots.ts'

// Slot routing, for any topology that shards by hash slot: which commands are split by slot,
// which must keep their keys in one slot, which name no key; and the splitting itself.

/**
 * A command that names its keys together and must run on one node: its keys must share a hash
 * slot. `keys` says where they are, `what` what cachex uses it for, `hint` how to fix it.
 */
export interface Atomic {
  keys: (args: readonly RedisArgument[]) => readonly RedisArgument[]
  what: string
  hint: string
}

/** MGET: one MGET per slot, replies put back in the order of the keys. */
export const MGET = 1
/** MSET: one MSET per slot (key, value pairs). */
export const MSET = 2
/** DEL, UNLINK, EXISTS, TOUCH: one per slot, the counts summed. */
export const SUM = 3
/** How a multi-key command is split by slot. */
export type Kind = typeof MGET | typeof MSET | typeof SUM

export const TAG_HINT =
  "give the keys a common hash tag — the part of a key between '{' and '}' is all that is hashed, so 'cart:{user42}' and 'orders:{user42}' share a slot"

export const SPLIT: ReadonlyMap<string, Kind> = new Map<string, Kind>([
  ['MGET', MGET],
  ['MSET', MSET],
  ['DEL', SUM],
  ['UNLINK', SUM],
  ['EXISTS', SUM],
  ['TOUCH', SUM],
])

const twoKeys = (args: readonly RedisArgument[]) => args.slice(1, 3)
const allKeys = (args: readonly RedisArgument[]) => args.slice(1)
const scriptKeys = (args: readonly RedisArgument[]) => {
  const count = Number(String(args[2]))
  return Number.isSafeInteger(count) && count > 0 ? args.slice(3, 3 + count) : []
}
const pairKeys = (args: readonly RedisArgument[]) => args.filter((_, i) => i % 2 === 1)
/** BLPOP / BRPOP: every argument between the command and the timeout. */
const popKeys = (args: readonly RedisArgument[]) => args.slice(1, -1)
/**
 * XREAD / XREADGROUP: the keys are the first half of what follows `STREAMS` (then the IDs);
 * XREADGROUP's `GROUP group consumer` comes first, and those names may be anything.
 */
const streamKeys = (args: readonly RedisArgument[]) => {
  const from = String(args[0]).toUpperCase() === 'XREADGROUP' ? 4 : 1
  const at = args.findIndex((arg, i) => i >= from && String(arg).toUpperCase() === 'STREAMS')
  if (at === -1) return []
  const rest = args.slice(at + 1)
  return rest.slice(0, Math.floor(rest.length / 2))
}

const MOVE_HINT = `${TAG_HINT}, such as 'jobs:{mail}:pending' and 'jobs:{mail}:done'`

export const ATOMIC: ReadonlyMap<string, Atomic> = new Map([
  ['RENAME', { keys: twoKeys, what: 'a rename', hint: MOVE_HINT }],
  ['RENAMENX', { keys: twoKeys, what: 'a rename', hint: MOVE_HINT }],
  ['LMOVE', { keys: twoKeys, what: 'lmove', hint: MOVE_HINT }],
  ['BLMOVE', { keys: twoKeys, what: 'a list move', hint: MOVE_HINT }],
  ['RPOPLPUSH', { keys: twoKeys, what: 'a list move', hint: MOVE_HINT }],
  ['BRPOPLPUSH', { keys: twoKeys, what: 'a list move', hint: MOVE_HINT }],
  ['BLPOP', { keys: popKeys, what: 'a blocking pop of several lists', hint: TAG_HINT }],
  ['BRPOP', { keys: popKeys, what: 'a blocking pop of several lists', hint: TAG_HINT }],
  ['SMOVE', { keys: twoKeys, what: 'a set move', hint: MOVE_HINT }],
  ['COPY', { keys: twoKeys, what: 'a copy', hint: MOVE_HINT }],
  ['MSETNX', { keys: pairKeys, what: 'an all-or-nothing MSETNX', hint: TAG_HINT }],
  ['EVAL', { keys: scriptKeys, what: 'a Lua script', hint: TAG_HINT }],
  ['EVALSHA', { keys: scriptKeys, what: 'a Lua script', hint: TAG_HINT }],
  ['EVAL_RO', { keys: scriptKeys, what: 'a Lua script', hint: TAG_HINT }],
  ['EVALSHA_RO', { keys: scriptKeys, what: 'a Lua script', hint: TAG_HINT }],
  ['FCALL', { keys: scriptKeys, what: 'a Redis function', hint: TAG_HINT }],
  ['FCALL_RO', { keys: scriptKeys, what: 'a Redis function', hint: TAG_HINT }],
  ['SINTERSTORE', { keys: allKeys, what: 'a set operation', hint: TAG_HINT }],
  ['SUNIONSTORE', { keys: allKeys, what: 'a set operation', hint: TAG_HINT }],
  ['SDIFFSTORE', { keys: allKeys, what: 'a set operation', hint: TAG_HINT }],
  ['SINTER', { keys: allKeys, what: 'a set operation', hint: TAG_HINT }],
  ['SUNION', { keys: allKeys, what: 'a set operation', hint: TAG_HINT }],
  ['SDIFF', { keys: allKeys, what: 'a set operation', hint: TAG_HINT }],
  ['PFMERGE', { keys: allKeys, what: 'a HyperLogLog merge', hint: TAG_HINT }],
  ['PFCOUNT', { keys: allKeys, what: 'a HyperLogLog count', hint: TAG_HINT }],
  ['XREAD', { keys: streamKeys, what: 'a read of several streams', hint: TAG_HINT }],
  ['XREADGROUP', { keys: streamKeys, what: 'a read of several streams', hint: TAG_HINT }],
])

/**
 * Commands that name no key: without a `route.key` they go to node-redis, whose command table
 * routes them (FLUSHDB and DBSIZE to every primary, PING to any node…).
 */
export const KEYLESS = new Set([
  'PING',
  'ECHO',
  'INFO',
  'TIME',
  'DBSIZE',
  'FLUSHDB',
  'FLUSHALL',
  'KEYS',
  'SCAN',
  'RANDOMKEY',
  'SCRIPT',
  'FUNCTION',
  'CONFIG',
  'CLUSTER',
  'CLIENT',
  'COMMAND',
  'MEMORY',
  'LATENCY',
  'SLOWLOG',
  'WAIT',
  'LASTSAVE',
  'PUBLISH',
])

const LOWER = /[a-z]/

const WHOLE_WHAT = 'asked to run as one command'

/**
 * How a command that would be split by slot (of `kind`) is checked when sent with
 * `route.atomic`: kept whole, its keys in one slot.
 */
export function wholeOf(kind: Kind): Atomic {
  return kind === MSET ? WHOLE_PAIRS : WHOLE_KEYS
}

const WHOLE_PAIRS: Atomic = { keys: pairKeys, what: WHOLE_WHAT, hint: TAG_HINT }
const WHOLE_KEYS: Atomic = { keys: (args) => args.slice(1), what: WHOLE_WHAT, hint: TAG_HINT }

/** How a command is routed: its upper-case name, and how it is split or checked, if at all. */
export interface Routing {
  name: string
  split: Kind | undefined
  atomic: Atomic | undefined
}

/** The name of `args`' command and how it is routed (names in any case). */
export function routingOf(args: readonly RedisArgument[]): Routing {
  const head = args[0]
  let name = typeof head === 'string' ? head : String(head)
  let split = SPLIT.get(name)
  let atomic = split === undefined ? ATOMIC.get(name) : undefined
  if (split === undefined && atomic === undefined && LOWER.test(name)) {
    name = name.toUpperCase()
    split = SPLIT.get(name)
    atomic = split === undefined ? ATOMIC.get(name) : undefined
  }
  return { name, split, atomic }
}

/** The `CrossSlotError` for a command whose keys span slots, or `undefined` when they share one. */
export function crossSlot(
  command: string,
  keys: readonly RedisArgument[],
  atomic: Atomic,
): CrossSlotError | undefined {
  if (keys.length < 2) return undefined
  const first = keys[0] as RedisArgument
  const slot = keySlot(first)
  for (let i = 1; i < keys.length; i++) {
    const other = keys[i] as RedisArgument
    const otherSlot = keySlot(other)
    if (otherSlot !== slot) {
      return new CrossSlotError(
        `${command} across hash slots (${atomic.what}): keys '${String(first)}' (slot ${slot}) and '${String(other)}' (slot ${otherSlot}) are in different hash slots, and Redis Cluster runs it atomically only within one slot; ${atomic.hint}`,
      )
    }
  }
  return undefined
}

/** Commands whose first argument is a subcommand, the key after it (`XGROUP CREATE key …`). */
const KEY_AFTER_SUBCOMMAND = new Set(['XGROUP', 'XINFO', 'OBJECT'])

/**
 * The key a command without a `route.key` is routed by: its first argument (the second after a
 * subcommand), unless it names none.
 */
export function impliedKey(
  name: string,
  args: readonly RedisArgument[],
): RedisArgument | undefined {
  if (KEYLESS.has(name)) return undefined
  return KEY_AFTER_SUBCOMMAND.has(name) ? args[2] : args[1]
}

/**
 * The server's own `CROSSSLOT` reply as a `CrossSlotError` that says how to fix it; other errors
 * as they are.
 */
export function withCrossSlotHint(typed: Error, cause: unknown): Error {
  if (!typed.message.startsWith('CROSSSLOT')) return typed
  return new CrossSlotError(
    `${typed.message}: Redis Cluster runs a multi-key command only when all its keys are in one hash slot; ${TAG_HINT}`,
    { cause },
  )
}

/** Sends one part of a split command: `key` routes it, `kind` says how it was split. */
export type SendPart = (
  key: RedisArgument | undefined,
  args: RedisArgument[],
  kind?: Kind,
) => Promise<unknown>

/**
 * Splits a multi-key command by slot, sends the parts in parallel through `send`, and combines
 * their replies: `MGET` values in the order of the keys, `MSET` one reply, counts summed.
 */
export function splitBySlot(kind: Kind, args: RedisArgument[], send: SendPart): Promise<unknown> {
  const step = kind === MSET ? 2 : 1
  const count = (args.length - 1) / step
  // Malformed (no keys, a key without a value): let the server say what is wrong.
  if (!Number.isInteger(count) || count < 1) return send(args[1], args)
  const head = args[0] as RedisArgument
  const bySlot = new Map<number, number[]>()
  for (let i = 0; i < count; i++) {
    const slot = keySlot(args[1 + i * step] as RedisArgument)
    const group = bySlot.get(slot)
    if (group === undefined) bySlot.set(slot, [i])
    else group.push(i)
  }
  // One slot: the command as it is, atomic as on one server (an `MSET` stays whole: refused, it
  // wrote nothing; a part of one split by slot goes key by key rather than fail after the other
  // parts were stored — see `followRedirects`).
  if (bySlot.size === 1) return send(args[1], args, kind === MSET ? undefined : kind)
  const groups = [...bySlot.values()]
  const parts = groups.map((group) => {
    const part: RedisArgument[] = [head]
    for (const i of group) {
      part.push(args[1 + i * step] as RedisArgument)
      if (step === 2) part.push(args[2 + i * step] as RedisArgument)
    }
    return send(part[1], part, kind)
  })
  return Promise.all(parts).then((replies) => {
    if (kind === MSET) return replies[0]
    if (kind === SUM) {
      let sum = 0
      for (const reply of replies) sum += Number(reply)
      return sum
    }
    const values = new Array<unknown>(count)
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g] as number[]
      const reply = replies[g] as unknown[]
      for (let j = 0; j < group.length; j++) values[group[j] as number] = reply[j]
    }
    return values
  })
}

/**
 * `MGET k1 k2…` as `MGET k1`, `MGET k2`…; `DEL k1 k2…` as `DEL k1`…, the counts summed;
 * `MSET k1 v1 k2 v2…` as `SET k1 v1`, `SET k2 v2`… (one `OK`, once every key is stored).
 */
export async function keyByKey(
  kind: Kind,
  args: RedisArgument[],
  send: SendPart,
): Promise<unknown> {
  if (kind === MSET) {
    const sets: Promise<unknown>[] = []
    for (let i = 1; i + 1 < args.length; i += 2) {
      const key = args[i] as RedisArgument
      sets.push(send(key, ['SET', key, args[i + 1] as RedisArgument]))
    }
    await Promise.all(sets)
    return 'OK'
  }
  const head = args[0] as RedisArgument
  const replies = await Promise.all(args.slice(1).map((key) => send(key, [head, key])))
  if (kind === MGET) return replies.map((reply) => (reply as unknown[])[0] ?? null)
  let sum = 0
  for (const reply of replies) sum += Number(reply)
  return sum
}
