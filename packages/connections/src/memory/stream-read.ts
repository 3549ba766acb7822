// XREAD and XREADGROUP. A call is parsed once (`$` becomes the stream's last ID then, as Redis
// resolves it when the call starts); it is served at once when it can, as Redis's `xreadCommand`
// does, else with BLOCK it waits for writes to its keys and is then served as Redis serves a
// blocked client (`serveClientsBlockedOnStreamKey`): from the one stream written, at most COUNT
// (1000 by default) entries, the group's last ID read anew.
import type { BlockingCommand, Call, CommandTable, Wait } from './_command.ts'
import { is } from './_command.ts'
import { fail, integer, type Reply, SYNTAX, text } from './_reply.ts'
import { id, MAX_ID } from './_stream-id.ts'
import {
  type Consumer,
  entries,
  type Group,
  type Item,
  type Stream,
  settle,
  streamAt,
} from './_stream-value.ts'
import type { Entry } from './store.ts'

/** What a blocked read asks at most when it gives no COUNT (Redis's `XREAD_BLOCKED_DEFAULT_COUNT`). */
const BLOCKED_COUNT = 1000

/** A parsed XREAD / XREADGROUP. `ids` holds `MAX_ID` for `>`. */
interface Read {
  keys: string[]
  ids: bigint[]
  count: number
  /** BLOCK in milliseconds, -1 without BLOCK. */
  block: number
  group: { name: string; consumer: string; noack: boolean } | undefined
}

function parse(call: Call, grouped: boolean, script: boolean): Read {
  const { args } = call
  const name = grouped ? 'XREADGROUP' : 'XREAD'
  let block = -1
  let count = 0
  let streams = -1
  let group: Read['group']
  let noack = false
  for (let i = 0; i < args.length; i++) {
    const more = args.length - i - 1
    const option = args[i] as string
    if (is(option, 'BLOCK') && more > 0) {
      if (script) {
        throw fail(
          `ERR ${name.toLowerCase()} command is not allowed with BLOCK option from scripts`,
        )
      }
      block = integer(args[++i] as string, 'ERR timeout is not an integer or out of range')
      if (block < 0) throw fail('ERR timeout is negative')
    } else if (is(option, 'COUNT') && more > 0) {
      count = Math.max(0, integer(args[++i] as string))
    } else if (is(option, 'STREAMS') && more > 0) {
      streams = i + 1
      if ((args.length - streams) % 2 !== 0) {
        throw fail(
          "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
        )
      }
      break
    } else if (is(option, 'GROUP') && more >= 2) {
      if (!grouped) {
        throw fail(
          'ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.',
        )
      }
      group = { name: args[i + 1] as string, consumer: args[i + 2] as string, noack: false }
      i += 2
    } else if (is(option, 'NOACK')) {
      if (!grouped) {
        throw fail(
          'ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.',
        )
      }
      noack = true
    } else throw fail(SYNTAX)
  }
  if (streams < 0) throw fail(SYNTAX)
  if (grouped && group === undefined) throw fail('ERR Missing GROUP option for XREADGROUP')
  if (group !== undefined) group.noack = noack
  const n = (args.length - streams) / 2
  const keys = args.slice(streams, streams + n)
  const ids: bigint[] = []
  for (let i = 0; i < n; i++) {
    const key = keys[i] as string
    const entry = streamAt(call, key)
    if (group !== undefined && (entry === undefined || !stream(entry).groups.has(group.name))) {
      throw fail(
        `NOGROUP No such key '${text(key)}' or consumer group '${text(group.name)}' in XREADGROUP with GROUP option`,
      )
    }
    const given = args[streams + n + i] as string
    if (given === '$') {
      if (group !== undefined) {
        throw fail(
          'ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.',
        )
      }
      ids.push(entry === undefined ? 0n : stream(entry).lastId)
    } else if (given === '>') {
      if (group === undefined) {
        throw fail(
          'ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.',
        )
      }
      ids.push(MAX_ID)
    } else ids.push(id(given, { strict: true }))
  }
  return { keys, ids, count, block, group }
}

function stream(entry: Entry): Stream {
  return entry.value as Stream
}

/** The first serving of a read (`xreadCommand`): every stream it can serve; `null` for none. */
function serve(call: Call, read: Read): Reply {
  const out: Reply[] = []
  for (let i = 0; i < read.keys.length; i++) {
    const key = read.keys[i] as string
    const entry = call.store.get(key, call.now)
    if (entry === undefined || entry.kind !== 'stream') continue
    const s = stream(entry)
    let after = read.ids[i] as bigint
    let history = false
    let group: Group | undefined
    if (read.group !== undefined) {
      group = s.groups.get(read.group.name) as Group
      if (after !== MAX_ID) history = true
      else if (s.length > 0 && (s.edge(false) ?? 0n) > group.lastId) after = group.lastId
      else continue
    } else if (s.length === 0 || (s.edge(false) ?? 0n) <= after) continue
    out.push(key)
    if (group === undefined) {
      out.push(entries(s.range(after + 1n, MAX_ID, read.count)))
      continue
    }
    const consumer = s.consumer(group, read.group?.consumer ?? '', call.now) as Consumer
    out.push(
      history
        ? pendingOf(call, s, consumer, after + 1n, read.count)
        : deliver(call, entry, group, consumer, after + 1n, read),
    )
  }
  return out.length === 0 ? null : out
}

/**
 * A blocked read served from `key`, the stream that was written (Redis serves a blocked client
 * from its ready key): its entries past the read's ID, or `undefined`.
 */
function serveBlocked(call: Call, read: Read, key: string): Reply | undefined {
  // A key given twice waits on its first ID, as Redis keeps the first.
  const i = read.keys.indexOf(key)
  if (i < 0) return undefined
  const entry = call.store.get(key, call.now)
  const isStream = entry !== undefined && entry.kind === 'stream'
  let after = read.ids[i] as bigint
  let group: Group | undefined
  if (read.group !== undefined) {
    if (!isStream) throw fail('UNBLOCKED the stream key no longer exists')
    group = stream(entry).groups.get(read.group.name)
    if (group === undefined) {
      throw fail('NOGROUP the consumer group this client was blocked on no longer exists')
    }
    after = group.lastId
  } else if (!isStream) return undefined
  const s = stream(entry)
  if (s.lastId <= after) return undefined
  const limited = { ...read, count: read.count === 0 ? BLOCKED_COUNT : read.count }
  if (group === undefined) return [key, entries(s.range(after + 1n, MAX_ID, limited.count))]
  const consumer = s.consumer(group, read.group?.consumer ?? '', call.now) as Consumer
  return [key, deliver(call, entry, group, consumer, after + 1n, limited)]
}

/** Delivers new entries to a group (`>`): they become pending for `consumer` unless NOACK. */
function deliver(
  call: Call,
  entry: Entry,
  group: Group,
  consumer: Consumer,
  from: bigint,
  read: Read,
): Reply {
  const s = stream(entry)
  const items = s.range(from, MAX_ID, read.count)
  for (const item of items) {
    s.delivered(group, item.id)
    if (read.group?.noack === true) continue
    const nack = s.pending(group, item.id, call.now)
    nack.deliveryTime = call.now
    nack.deliveryCount = 1
    s.assign(nack, consumer)
  }
  settle(call.store, entry)
  return entries(items)
}

/** A consumer's pending entries from `from` (a history read); a deleted one without fields. */
function pendingOf(call: Call, s: Stream, consumer: Consumer, from: bigint, count: number): Reply {
  const out: Item[] = []
  for (const pendingId of consumer.pel.range(from, MAX_ID, count)) {
    const item = s.find(pendingId) ?? { id: pendingId, fields: null }
    const nack = consumer.pel.get(pendingId)
    if (item.fields !== null && nack !== undefined) {
      nack.deliveryTime = call.now
      nack.deliveryCount++
    }
    out.push(item)
  }
  return entries(out)
}

function reader(grouped: boolean): BlockingCommand {
  return {
    wait(call, script): Wait | undefined {
      const read = parse(call, grouped, script)
      if (read.block < 0) return undefined
      return {
        keys: read.keys,
        ms: read.block,
        attempt(next, key) {
          if (key !== undefined) return serveBlocked(next, read, key)
          return serve(next, read) ?? undefined
        },
      }
    },
  }
}

export const STREAM_READS: CommandTable = {
  XREAD: { arity: -4, run: (call) => serve(call, parse(call, false, false)) },
  XREADGROUP: { arity: -7, write: true, run: (call) => serve(call, parse(call, true, false)) },
}

/** The blocking forms: XREAD and XREADGROUP with BLOCK. */
export const STREAM_BLOCKING: Record<string, BlockingCommand> = {
  XREAD: reader(false),
  XREADGROUP: reader(true),
}
