// Streams: not run by the in-memory backend yet. Each stream command answers with an error that
// says so, rather than `ERR unknown command`.
import type { CommandTable } from './_command.ts'
import { fail } from './_reply.ts'

const NAMES = [
  'XADD',
  'XLEN',
  'XRANGE',
  'XREVRANGE',
  'XREAD',
  'XREADGROUP',
  'XTRIM',
  'XDEL',
  'XGROUP',
  'XACK',
  'XPENDING',
  'XCLAIM',
  'XAUTOCLAIM',
  'XINFO',
]

export const STREAMS: CommandTable = Object.fromEntries(
  NAMES.map((name) => [
    name,
    {
      arity: -2,
      run: () => {
        throw fail(`ERR the memory:// backend does not run stream commands yet (${name})`)
      },
    },
  ]),
)
