// Consumer groups: XGROUP (CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER, HELP), XACK,
// XPENDING, XCLAIM and XAUTOCLAIM, with Redis 7.0's checks in its order and its messages.
import { arg, type Call, type CommandTable, is } from './_command.ts'
import { fail, integer, OK, type Reply, Status, SYNTAX, text, toBigInt } from './_reply.ts'
import { bound, formatId, id, MAX_ID, parseId, U64 } from './_stream-id.ts'
import {
  type Consumer,
  entries,
  type Group,
  type Item,
  type Nack,
  Stream,
  settle,
  streamAt,
} from './_stream-value.ts'
import type { Entry } from './store.ts'

/** XAUTOCLAIM's largest COUNT: Redis's `LONG_MAX / 16`. */
const MAX_COUNT = 9223372036854775807n / 16n

/** The subcommands of XGROUP with their arity (the container's name included). */
const XGROUP_ARITY: Record<string, number> = {
  CREATE: -5,
  SETID: -5,
  DESTROY: 4,
  CREATECONSUMER: 5,
  DELCONSUMER: 5,
  HELP: 2,
}

const XGROUP_HELP = [
  'CREATE <key> <groupname> <id|$> [option]',
  '    Create a new consumer group. Options are:',
  '    * MKSTREAM',
  '      Create the empty stream if it does not exist.',
  '    * ENTRIESREAD entries_read',
  "      Set the group's entries_read counter (internal use).",
  'CREATECONSUMER <key> <groupname> <consumer>',
  '    Create a new consumer in the specified group.',
  'DELCONSUMER <key> <groupname> <consumer>',
  '    Remove the specified consumer.',
  'DESTROY <key> <groupname>',
  '    Remove the specified group.',
  'SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]',
  '    Set the current group ID and entries_read counter.',
]

/** Redis's `addReplyHelp`: the header, the lines, and HELP itself, as status replies. */
export function help(container: string, lines: readonly string[]): Reply {
  return [
    `${container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`,
    ...lines,
    'HELP',
    '    Prints this help.',
  ].map((line) => new Status(line))
}

/** The subcommand of a container command (XGROUP, XINFO), its arity checked as Redis does. */
export function subcommand(call: Call, container: string, arities: Record<string, number>): string {
  const sub = arg(call, 0).toUpperCase()
  const want = Object.hasOwn(arities, sub) ? arities[sub] : undefined
  if (want === undefined) {
    throw fail(
      `ERR unknown subcommand '${text(arg(call, 0)).slice(0, 128)}'. Try ${container} HELP.`,
    )
  }
  const count = call.args.length + 1
  if (want >= 0 ? count !== want : count < -want) {
    throw fail(
      `ERR wrong number of arguments for '${container.toLowerCase()}|${sub.toLowerCase()}' command`,
    )
  }
  return sub
}

/** Redis's `addReplySubcommandSyntaxError`. */
export function subcommandSyntax(call: Call, container: string): Error {
  return fail(
    `ERR unknown subcommand or wrong number of arguments for '${text(arg(call, 0)).slice(0, 128)}'. Try ${container} HELP.`,
  )
}

function stream(entry: Entry): Stream {
  return entry.value as Stream
}

function xgroup(call: Call): Reply {
  const sub = subcommand(call, 'XGROUP', XGROUP_ARITY)
  if (sub === 'HELP') return help('XGROUP', XGROUP_HELP)
  const key = arg(call, 1)
  const name = arg(call, 2)
  let mkstream = false
  let entriesRead = -1
  for (let i = 4; i < call.args.length; ) {
    const option = arg(call, i)
    if (sub === 'CREATE' && is(option, 'MKSTREAM')) {
      mkstream = true
      i++
    } else if (
      (sub === 'CREATE' || sub === 'SETID') &&
      is(option, 'ENTRIESREAD') &&
      i + 1 < call.args.length
    ) {
      entriesRead = integer(arg(call, i + 1))
      if (entriesRead < -1) throw fail('ERR value for ENTRIESREAD must be positive or -1')
      i += 2
    } else throw subcommandSyntax(call, 'XGROUP')
  }
  let entry = streamAt(call, key)
  let group = entry === undefined ? undefined : stream(entry).groups.get(name)
  if (!mkstream) {
    if (entry === undefined) {
      throw fail(
        'ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.',
      )
    }
    if (group === undefined && sub !== 'CREATE' && sub !== 'DESTROY') {
      throw fail(`NOGROUP No such consumer group '${text(name)}' for key name '${text(key)}'`)
    }
  }
  if (sub === 'CREATE') {
    if (call.args.length > 7) throw subcommandSyntax(call, 'XGROUP')
    const last =
      arg(call, 3) === '$'
        ? entry === undefined
          ? 0n
          : stream(entry).lastId
        : id(arg(call, 3), { strict: true })
    if (entry === undefined) {
      entry = call.store.create(key, 'stream', call.now, () => new Stream())
      call.store.wake(key)
    }
    if (stream(entry).createGroup(name, last, entriesRead) === undefined) {
      throw fail('BUSYGROUP Consumer Group name already exists')
    }
    settle(call.store, entry)
    return OK
  }
  const s = stream(entry as Entry)
  if (sub === 'SETID') {
    if (call.args.length !== 4 && call.args.length !== 6) throw subcommandSyntax(call, 'XGROUP')
    const g = group as Group
    g.lastId = arg(call, 3) === '$' ? s.lastId : id(arg(call, 3))
    g.entriesRead = entriesRead
    return OK
  }
  if (sub === 'DESTROY') {
    if (group === undefined) return 0
    s.destroyGroup(group)
    settle(call.store, entry as Entry)
    // Readers blocked on the group learn that it is gone (NOGROUP).
    call.store.wake(key)
    return 1
  }
  group = group as Group
  if (sub === 'CREATECONSUMER') {
    const created = !group.consumers.has(arg(call, 3))
    if (created) s.consumer(group, arg(call, 3), call.now)
    settle(call.store, entry as Entry)
    return created ? 1 : 0
  }
  const consumer = group.consumers.get(arg(call, 3))
  if (consumer === undefined) return 0
  const pending = s.deleteConsumer(group, consumer)
  settle(call.store, entry as Entry)
  return pending
}

/** The stream and group of XACK / XPENDING / XCLAIM / XAUTOCLAIM (`undefined` when either is missing). */
function groupOf(call: Call): { entry: Entry; group: Group } | undefined {
  const entry = streamAt(call, arg(call, 0))
  const group = entry === undefined ? undefined : stream(entry).groups.get(arg(call, 1))
  return entry === undefined || group === undefined ? undefined : { entry, group }
}

function noGroup(call: Call): Error {
  return fail(
    `NOGROUP No such key '${text(arg(call, 0))}' or consumer group '${text(arg(call, 1))}'`,
  )
}

function xack(call: Call): Reply {
  const found = groupOf(call)
  if (found === undefined) return 0
  const ids = call.args.slice(2).map((value) => id(value, { strict: true }))
  const s = stream(found.entry)
  let acknowledged = 0
  for (const value of ids) {
    const nack = found.group.pel.get(value)
    if (nack === undefined) continue
    s.acknowledge(found.group, nack)
    acknowledged++
  }
  settle(call.store, found.entry)
  return acknowledged
}

function xpending(call: Call): Reply {
  const count = call.args.length + 1
  if (count !== 3 && (count < 6 || count > 9)) throw fail(SYNTAX)
  let start = 0n
  let end = MAX_ID
  let limit = 0
  let minIdle = 0
  let consumerName: string | undefined
  if (count >= 6) {
    let at = 2
    if (is(arg(call, 2), 'IDLE')) {
      minIdle = integer(arg(call, 3))
      if (count < 8) throw fail(SYNTAX)
      at += 2
    }
    limit = Math.max(0, integer(arg(call, at + 2)))
    start = bound(arg(call, at), 0n, true)
    end = bound(arg(call, at + 1), U64, false)
    if (at + 3 < call.args.length) consumerName = arg(call, at + 3)
  }
  const found = groupOf(call)
  if (found === undefined) throw noGroup(call)
  const { group } = found
  if (count === 3) {
    const first = group.pel.first()
    const last = group.pel.last()
    if (first === undefined || last === undefined) return [0, null, null, null]
    const consumers = [...group.consumers.values()]
      .filter((c) => c.pel.size > 0)
      .sort(byName)
      .map((c) => [c.name, String(c.pel.size)])
    return [group.pel.size, formatId(first), formatId(last), consumers]
  }
  let pel = group.pel
  if (consumerName !== undefined) {
    const consumer = group.consumers.get(consumerName)
    if (consumer === undefined) return []
    pel = consumer.pel
  }
  const out: Reply[] = []
  for (let at = pel.ceiling(start); at !== undefined && at <= end && out.length < limit; ) {
    const nack = pel.get(at) as Nack
    const idle = call.now - nack.deliveryTime
    if (minIdle === 0 || idle >= minIdle) {
      out.push([formatId(at), nack.consumer?.name ?? '', Math.max(0, idle), nack.deliveryCount])
    }
    at = at === MAX_ID ? undefined : pel.ceiling(at + 1n)
  }
  return out
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

/** Gives a pending entry to `consumer` as XCLAIM / XAUTOCLAIM do. */
function claim(s: Stream, nack: Nack, consumer: Consumer, time: number, count: number): void {
  nack.deliveryTime = time
  nack.deliveryCount = count
  s.assign(nack, consumer)
}

function xclaim(call: Call): Reply {
  const found = groupOf(call)
  if (found === undefined) throw noGroup(call)
  const { entry, group } = found
  const s = stream(entry)
  const minIdle = Math.max(
    0,
    integer(arg(call, 3), 'ERR Invalid min-idle-time argument for XCLAIM'),
  )
  const ids: bigint[] = []
  let i = 4
  for (; i < call.args.length; i++) {
    const parsed = parseId(arg(call, i), { strict: true })
    if (parsed === undefined) break
    ids.push(parsed.id)
  }
  const now = call.now
  let time = -1
  let retries = -1
  let force = false
  let justId = false
  let lastId = 0n
  for (; i < call.args.length; i++) {
    const option = arg(call, i)
    const more = call.args.length - 1 - i > 0
    if (is(option, 'FORCE')) force = true
    else if (is(option, 'JUSTID')) justId = true
    else if (is(option, 'IDLE') && more) {
      time = now - integer(arg(call, ++i), 'ERR Invalid IDLE option argument for XCLAIM')
    } else if (is(option, 'TIME') && more) {
      time = integer(arg(call, ++i), 'ERR Invalid TIME option argument for XCLAIM')
    } else if (is(option, 'RETRYCOUNT') && more) {
      retries = integer(arg(call, ++i), 'ERR Invalid RETRYCOUNT option argument for XCLAIM')
    } else if (is(option, 'LASTID') && more) {
      lastId = id(arg(call, ++i), { strict: true })
    } else throw fail(`ERR Unrecognized XCLAIM option '${text(option)}'`)
  }
  if (lastId > group.lastId) group.lastId = lastId
  if (time < 0 || time > now) time = now
  let consumer: Consumer | undefined
  const out: Reply[] = []
  for (const value of ids) {
    let nack = group.pel.get(value)
    const item = s.find(value)
    if (item === undefined) {
      if (nack !== undefined) s.acknowledge(group, nack)
      continue
    }
    if (nack === undefined) {
      if (!force) continue
      nack = s.pending(group, value, now)
    }
    if (nack.consumer !== null && minIdle > 0 && now - nack.deliveryTime < minIdle) continue
    consumer ??= s.consumer(group, arg(call, 2), now) as Consumer
    const count = retries >= 0 ? retries : nack.deliveryCount + (justId ? 0 : 1)
    claim(s, nack, consumer, time, count)
    out.push(justId ? formatId(value) : (entries([item])[0] as Reply))
  }
  settle(call.store, entry)
  return out
}

function xautoclaim(call: Call): Reply {
  const minIdle = Math.max(
    0,
    integer(arg(call, 3), 'ERR Invalid min-idle-time argument for XAUTOCLAIM'),
  )
  const start = bound(arg(call, 4), 0n, true)
  let count = 100
  let justId = false
  for (let i = 5; i < call.args.length; i++) {
    const option = arg(call, i)
    if (is(option, 'COUNT') && i + 1 < call.args.length) {
      const n = toBigInt(arg(call, ++i))
      if (n === undefined || n < 1n || n > MAX_COUNT) throw fail('ERR COUNT must be > 0')
      count = Number(n)
    } else if (is(option, 'JUSTID')) justId = true
    else throw fail(SYNTAX)
  }
  const found = groupOf(call)
  if (found === undefined) throw noGroup(call)
  const { entry, group } = found
  const s = stream(entry)
  const now = call.now
  let attempts = count * 10
  let consumer: Consumer | undefined
  const claimed: Reply[] = []
  const deleted: string[] = []
  let at = group.pel.ceiling(start)
  while (attempts-- > 0 && count > 0 && at !== undefined) {
    const nack = group.pel.get(at) as Nack
    const item: Item | undefined = s.find(at)
    if (item === undefined) {
      s.acknowledge(group, nack)
      deleted.push(formatId(at))
      count--
    } else if (minIdle === 0 || now - nack.deliveryTime >= minIdle) {
      consumer ??= s.consumer(group, arg(call, 2), now) as Consumer
      claim(s, nack, consumer, now, nack.deliveryCount + (justId ? 0 : 1))
      claimed.push(justId ? formatId(at) : (entries([item])[0] as Reply))
      count--
    }
    at = at === MAX_ID ? undefined : group.pel.ceiling(at + 1n)
  }
  settle(call.store, entry)
  return [at === undefined ? '0-0' : formatId(at), claimed, deleted]
}

export const STREAM_GROUPS: CommandTable = {
  XGROUP: { arity: -2, write: true, run: xgroup },
  XACK: { arity: -4, write: true, run: xack },
  XPENDING: { arity: -3, run: xpending },
  XCLAIM: { arity: -6, write: true, run: xclaim },
  XAUTOCLAIM: { arity: -6, write: true, run: xautoclaim },
}
