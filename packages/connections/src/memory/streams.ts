// Streams: XADD, XLEN, XRANGE, XREVRANGE, XTRIM, XDEL, XSETID here; XREAD and XREADGROUP
// (blocking with BLOCK) in stream-read.ts; consumer groups in stream-groups.ts; XINFO in
// stream-info.ts. Arguments are checked in Redis 7.0's order and refused with its messages.
import { arg, type Call, type CommandTable, is } from './_command.ts'
import { arity, fail, integer, OK, type Reply, SYNTAX } from './_reply.ts'
import { bound, formatId, INVALID_ID, id, MAX_ID, parseId, U64 } from './_stream-id.ts'
import { entries, Stream, settle, streamAt, type Trim } from './_stream-value.ts'
import { STREAM_GROUPS } from './stream-groups.ts'
import { STREAM_INFO } from './stream-info.ts'
import { STREAM_READS } from './stream-read.ts'

export { STREAM_BLOCKING } from './stream-read.ts'

/** Most bytes of one entry's fields and values (Redis's listpack limit). */
const MAX_ENTRY_BYTES = 1 << 30
/** `LIMIT` of an approximate trim when none is given: 100 nodes of 100 entries. */
const DEFAULT_LIMIT = 10_000

interface TrimArgs {
  trim: Trim | undefined
  /** XADD: where the ID is (`args.length` when missing), what it is, whether `-*` was given. */
  at: number
  id: bigint | undefined
  seqGiven: boolean
  nomkstream: boolean
}

/** `[MAXLEN|MINID [=|~] n] [LIMIT n] [NOMKSTREAM] <id>` of XADD, or XTRIM's options. */
function trimArgs(call: Call, xadd: boolean): TrimArgs {
  const { args } = call
  const out: TrimArgs = { trim: undefined, at: 1, id: undefined, seqGiven: true, nomkstream: false }
  let strategy: 'maxlen' | 'minid' | undefined
  let maxlen = 0
  let minid = 0n
  let approx = false
  let limit = 0
  let limitGiven = false
  for (; out.at < args.length; out.at++) {
    const more = args.length - 1 - out.at
    const option = args[out.at] as string
    if (xadd && option === '*') break
    if ((is(option, 'MAXLEN') || is(option, 'MINID')) && more > 0) {
      if (strategy !== undefined) {
        throw fail('ERR syntax error, MAXLEN and MINID options at the same time are not compatible')
      }
      approx = false
      const next = args[out.at + 1]
      if (more >= 2 && (next === '~' || next === '=')) {
        approx = next === '~'
        out.at++
      }
      const value = args[out.at + 1] as string
      if (is(option, 'MAXLEN')) {
        maxlen = integer(value)
        if (maxlen < 0) throw fail('ERR The MAXLEN argument must be >= 0.')
        strategy = 'maxlen'
      } else {
        minid = id(value, { strict: true })
        strategy = 'minid'
      }
      out.at++
    } else if (is(option, 'LIMIT') && more > 0) {
      limit = integer(args[out.at + 1] as string)
      if (limit < 0) throw fail('ERR The LIMIT argument must be >= 0.')
      limitGiven = true
      out.at++
    } else if (xadd && is(option, 'NOMKSTREAM')) {
      out.nomkstream = true
    } else if (xadd) {
      const parsed = parseId(option, { strict: true, autoSeq: true })
      if (parsed === undefined) throw fail(INVALID_ID)
      out.id = parsed.id
      out.seqGiven = parsed.seqGiven
      break
    } else throw fail(SYNTAX)
  }
  if (limit !== 0 && strategy === undefined) {
    throw fail('ERR syntax error, LIMIT cannot be used without specifying a trimming strategy')
  }
  if (!xadd && strategy === undefined) {
    throw fail('ERR syntax error, XTRIM must be called with a trimming strategy')
  }
  if (limitGiven && !approx) {
    throw fail('ERR syntax error, LIMIT cannot be used without the special ~ option')
  }
  if (!limitGiven) limit = approx ? DEFAULT_LIMIT : 0
  if (strategy !== undefined) {
    out.trim = strategy === 'maxlen' ? { maxlen, approx, limit } : { minid, approx, limit }
  }
  return out
}

function xadd(call: Call): Reply {
  const { store, args } = call
  const parsed = trimArgs(call, true)
  const fieldsAt = parsed.at + 1
  const n = args.length - fieldsAt
  if (n < 2 || n % 2 === 1) throw arity('XADD')
  if (parsed.id === 0n && parsed.seqGiven) {
    throw fail('ERR The ID specified in XADD must be greater than 0-0')
  }
  const key = arg(call, 0)
  let entry = streamAt(call, key)
  if (entry === undefined) {
    if (parsed.nomkstream) return null
    entry = store.create(key, 'stream', call.now, () => new Stream())
  }
  const stream = entry.value as Stream
  const last = stream.lastId
  if (last === MAX_ID) {
    throw fail('ERR The stream has exhausted the last possible ID, unable to add more items')
  }
  let next: bigint
  if (parsed.id === undefined) {
    const ms = BigInt(call.now)
    next = ms > last >> 64n ? ms << 64n : last + 1n
  } else if (parsed.seqGiven || parsed.id >> 64n !== last >> 64n) {
    next = parsed.id
  } else {
    // `ms-*` on the last ID's millisecond, whose sequence is at its maximum: Redis 7.0 cannot
    // advance it, and its XADD answers with this (misleading) message.
    if ((last & U64) === U64) throw fail('ERR Elements are too large to be stored')
    next = last + 1n
  }
  if (next <= last) {
    throw fail('ERR The ID specified in XADD is equal or smaller than the target stream top item')
  }
  const fields = args.slice(fieldsAt)
  let total = 0
  for (const f of fields) total += f.length
  if (total > MAX_ENTRY_BYTES) throw fail('ERR Elements are too large to be stored')
  stream.append(next, fields)
  if (parsed.trim !== undefined) stream.trim(parsed.trim)
  settle(store, entry)
  store.wake(key)
  return formatId(next)
}

function xtrim(call: Call): Reply {
  const { trim } = trimArgs(call, false)
  const entry = streamAt(call, arg(call, 0))
  if (entry === undefined || trim === undefined) return 0
  const deleted = (entry.value as Stream).trim(trim)
  settle(call.store, entry)
  return deleted
}

function xdel(call: Call): Reply {
  const entry = streamAt(call, arg(call, 0))
  if (entry === undefined) return 0
  const ids = call.args.slice(1).map((value) => id(value, { strict: true }))
  const stream = entry.value as Stream
  let deleted = 0
  let first = false
  for (const value of ids) {
    if (!stream.delete(value)) continue
    if (value === stream.firstId) first = true
    if (value > stream.maxDeletedId) stream.maxDeletedId = value
    deleted++
  }
  if (deleted > 0) {
    if (stream.length === 0) stream.firstId = 0n
    else if (first) stream.firstId = stream.edge(true) ?? 0n
    settle(call.store, entry)
  }
  return deleted
}

function range(call: Call, rev: boolean): Reply {
  const start = bound(arg(call, rev ? 2 : 1), 0n, true)
  const end = bound(arg(call, rev ? 1 : 2), U64, false)
  let count = -1
  for (let i = 3; i < call.args.length; i++) {
    if (is(call.args[i], 'COUNT') && i + 1 < call.args.length) {
      count = Math.max(0, integer(arg(call, ++i)))
    } else throw fail(SYNTAX)
  }
  const entry = streamAt(call, arg(call, 0))
  if (entry === undefined) return []
  if (count === 0) return null
  return entries((entry.value as Stream).range(start, end, Math.max(0, count), rev))
}

function xsetid(call: Call): Reply {
  const last = id(arg(call, 1), { strict: true })
  let added = -1
  let maxDeleted = 0n
  for (let i = 2; i < call.args.length; i += 2) {
    const option = arg(call, i)
    const value = call.args[i + 1]
    if (is(option, 'ENTRIESADDED') && value !== undefined) {
      added = integer(value)
      if (added < 0) throw fail('ERR entries_added must be positive')
    } else if (is(option, 'MAXDELETEDID') && value !== undefined) {
      maxDeleted = id(value, { strict: true })
      if (last < maxDeleted) {
        throw fail(
          'ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id',
        )
      }
    } else throw fail(SYNTAX)
  }
  const entry = streamAt(call, arg(call, 0))
  if (entry === undefined) throw fail('ERR no such key')
  const stream = entry.value as Stream
  if (stream.length > 0) {
    if (last < (stream.edge(false) ?? 0n)) {
      throw fail('ERR The ID specified in XSETID is smaller than the target stream top item')
    }
    if (added !== -1 && stream.length > added) {
      throw fail(
        'ERR The entries_added specified in XSETID is smaller than the target stream length',
      )
    }
  }
  stream.lastId = last
  if (added !== -1) stream.entriesAdded = added
  if (maxDeleted !== 0n) stream.maxDeletedId = maxDeleted
  return OK
}

export const STREAMS: CommandTable = {
  XADD: { arity: -5, write: true, run: xadd },
  XLEN: {
    arity: 2,
    run: (call) => (streamAt(call, arg(call, 0))?.value as Stream | undefined)?.length ?? 0,
  },
  XRANGE: { arity: -4, run: (call) => range(call, false) },
  XREVRANGE: { arity: -4, run: (call) => range(call, true) },
  XTRIM: { arity: -4, write: true, run: xtrim },
  XDEL: { arity: -3, write: true, run: xdel },
  XSETID: { arity: -3, write: true, run: xsetid },
  ...STREAM_READS,
  ...STREAM_GROUPS,
  ...STREAM_INFO,
}
