// A process holding a local tier for local-tier-frozen.test.ts, to be frozen (SIGSTOP) by the
// test. It reads one JSON command a line on stdin and prints `R {"id":…}` with the result:
//   {"id","op":"init","url","prefix"}   opens the cache (with a local tier)
//   {"id","op":"held","key"}            reads key: its value, and whether the tier served it
//   {"id","op":"heldIn","key","ms"}     the same read, from a setTimeout of ms milliseconds
//   {"id","op":"tracking"}              whether the tier's tracking connection is up
// A command read while the process is frozen runs first thing after the thaw: it is read from
// stdin, as a request arriving over the network is read from its socket.

import { createInterface } from 'node:readline'
import { type Cache, createCache } from '@cachex/redis'

let cache: Cache | undefined

const print = (reply: object) => process.stdout.write(`R ${JSON.stringify(reply)}\n`)

/** Reads `key`: its value, and whether the local tier served it (a hit counted). */
async function held(key: string): Promise<{ value: unknown; tier: boolean }> {
  const open = cache as Cache
  const hits = open.localStats()?.hits ?? 0
  const value = await open.get(key)
  return { value, tier: open.localStats()?.hits === hits + 1 }
}

async function run(command: Record<string, string>): Promise<unknown> {
  if (command.op === 'init') {
    cache = createCache({ location: command.url, keyPrefix: command.prefix, local: {} })
    return true
  }
  if (command.op === 'held') return held(command.key as string)
  if (command.op === 'heldIn') {
    return new Promise((resolve, reject) => {
      setTimeout(() => held(command.key as string).then(resolve, reject), Number(command.ms))
    })
  }
  if (command.op === 'tracking') return cache?.localStats()?.tracking === true
  throw new Error(`unknown op ${command.op}`)
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as Record<string, string>
  run(command).then(
    (value) => print({ id: command.id, value }),
    (error: Error) => print({ id: command.id, error: error.message }),
  )
})
process.stdout.write('ready\n')
