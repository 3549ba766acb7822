// XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS and XINFO HELP, with Redis
// 7.0's fields in its order (maps reach cachex flattened: `[name, value, …]`).
import { arg, type Call, type CommandTable, is } from './_command.ts'
import { fail, integer, type Reply, text } from './_reply.ts'
import { formatId, MAX_ID } from './_stream-id.ts'
import { entries, type Group, type Stream, streamAt } from './_stream-value.ts'
import { help, subcommand, subcommandSyntax } from './stream-groups.ts'

const XINFO_ARITY: Record<string, number> = { CONSUMERS: 4, GROUPS: 3, STREAM: -3, HELP: 2 }

const XINFO_HELP = [
  'CONSUMERS <key> <groupname>',
  '    Show consumers of <groupname>.',
  'GROUPS <key>',
  '    Show the stream consumer groups.',
  'STREAM <key> [FULL [COUNT <count>]',
  '    Show information about the stream.',
]

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

/** The fields every form of XINFO STREAM starts with. */
function head(s: Stream): Reply[] {
  const [keys, nodes] = s.radixTree()
  return [
    'length',
    s.length,
    'radix-tree-keys',
    keys,
    'radix-tree-nodes',
    nodes,
    'last-generated-id',
    formatId(s.lastId),
    'max-deleted-entry-id',
    formatId(s.maxDeletedId),
    'entries-added',
    s.entriesAdded,
    'recorded-first-entry-id',
    formatId(s.firstId),
  ]
}

function streamInfo(call: Call, s: Stream): Reply {
  const options = call.args.slice(2)
  if (options.length === 0) {
    const [first] = entries(s.range(0n, MAX_ID, 1))
    const [last] = entries(s.range(0n, MAX_ID, 1, true))
    return [
      ...head(s),
      'groups',
      s.groups.size,
      'first-entry',
      first ?? null,
      'last-entry',
      last ?? null,
    ]
  }
  if (options.length !== 1 && options.length !== 3) throw subcommandSyntax(call, 'XINFO')
  if (!is(options[0], 'FULL')) throw subcommandSyntax(call, 'XINFO')
  let count = 10
  if (options.length === 3) {
    if (!is(options[1], 'COUNT')) throw subcommandSyntax(call, 'XINFO')
    count = integer(options[2] as string)
    if (count < 0) count = 10
  }
  const within = <T>(items: Iterable<T>): T[] => {
    const out: T[] = []
    for (const item of items) {
      if (count > 0 && out.length >= count) break
      out.push(item)
    }
    return out
  }
  const groups = [...s.groups.values()]
    .sort(byName)
    .map((group) => [
      'name',
      group.name,
      'last-delivered-id',
      formatId(group.lastId),
      'entries-read',
      group.entriesRead === -1 ? null : group.entriesRead,
      'lag',
      s.lag(group),
      'pel-count',
      group.pel.size,
      'pending',
      within(group.pel.values()).map((nack) => [
        formatId(nack.id),
        nack.consumer?.name ?? '',
        nack.deliveryTime,
        nack.deliveryCount,
      ]),
      'consumers',
      [...group.consumers.values()]
        .sort(byName)
        .map((consumer) => [
          'name',
          consumer.name,
          'seen-time',
          consumer.seenTime,
          'pel-count',
          consumer.pel.size,
          'pending',
          within(consumer.pel.values()).map((nack) => [
            formatId(nack.id),
            nack.deliveryTime,
            nack.deliveryCount,
          ]),
        ]),
    ])
  return [...head(s), 'entries', entries(s.range(0n, MAX_ID, count)), 'groups', groups]
}

function groupInfo(s: Stream, group: Group): Reply {
  return [
    'name',
    group.name,
    'consumers',
    group.consumers.size,
    'pending',
    group.pel.size,
    'last-delivered-id',
    formatId(group.lastId),
    'entries-read',
    group.entriesRead === -1 ? null : group.entriesRead,
    'lag',
    s.lag(group),
  ]
}

function xinfo(call: Call): Reply {
  const sub = subcommand(call, 'XINFO', XINFO_ARITY)
  if (sub === 'HELP') return help('XINFO', XINFO_HELP)
  const key = arg(call, 1)
  const entry = streamAt(call, key)
  if (entry === undefined) throw fail('ERR no such key')
  const s = entry.value as Stream
  if (sub === 'STREAM') return streamInfo(call, s)
  if (sub === 'GROUPS') return [...s.groups.values()].sort(byName).map((g) => groupInfo(s, g))
  const group = s.groups.get(arg(call, 2))
  if (group === undefined) {
    throw fail(`NOGROUP No such consumer group '${text(arg(call, 2))}' for key name '${text(key)}'`)
  }
  return [...group.consumers.values()]
    .sort(byName)
    .map((consumer) => [
      'name',
      consumer.name,
      'pending',
      consumer.pel.size,
      'idle',
      Math.max(0, call.now - consumer.seenTime),
    ])
}

export const STREAM_INFO: CommandTable = {
  XINFO: { arity: -2, run: xinfo },
}
