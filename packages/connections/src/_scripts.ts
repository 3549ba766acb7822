// Lua scripts and the nodes that run them. A server forgets the scripts it ran when it restarts,
// and a node that takes over (a failover, a slot that moves) may never have run them: an
// `EVALSHA` there answers `NOSCRIPT`, and its `EVAL` retry would run after the commands sent
// behind it. Two guards: every connection reports one count of the changes that may lose scripts
// (`runScript` sends `EVAL` again after it changes), and a cluster resends a redirected `EVALSHA`
// as the `EVAL` of its source, which the node it goes to may not have.
import { createHash } from 'node:crypto'
import type { RedisArgument } from '@cachex/core'

let epoch = 0

/** Notes that a node may have lost its scripts or been replaced: a (re)connection, a failover. */
export function nodesChanged(): void {
  epoch++
}

/**
 * The number of such changes in the process so far (what `Connection.generation` reports): a
 * change anywhere counts, since a few more `EVAL`s after one cost little.
 */
export function scriptEpoch(): number {
  return epoch
}

/** Sources seen in `EVAL`s, by SHA1; at most this many, the oldest forgotten first. */
const MAX_SOURCES = 256
/** Sources longer than this are not kept (cachex's own are under 2 KB). */
const MAX_SOURCE_LENGTH = 65_536
const sources = new Map<string, RedisArgument>()

/** Remembers the source of an `EVAL` (`args[1]`), so that `asEval` can resend its `EVALSHA`. */
export function noteEval(args: readonly RedisArgument[]): void {
  const source = args[1]
  if (source === undefined || source.length > MAX_SOURCE_LENGTH) return
  const sha1 = createHash('sha1').update(source).digest('hex')
  if (sources.has(sha1)) return
  if (sources.size >= MAX_SOURCES) sources.delete(sources.keys().next().value as string)
  sources.set(sha1, source)
}

/** `EVALSHA sha1 …` as `EVAL <source> …` when the source was seen; other commands as they are. */
export function asEval(args: RedisArgument[]): RedisArgument[] {
  const name = args[0]
  if (typeof name !== 'string' || name.toUpperCase() !== 'EVALSHA') return args
  const source = sources.get(String(args[1]).toLowerCase())
  return source === undefined ? args : ['EVAL', source, ...args.slice(2)]
}
