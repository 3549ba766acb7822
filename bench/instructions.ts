// `pnpm bench:instructions`: the client's instructions a call, cachex against raw node-redis, for
// the many-key rows of `pnpm bench` (and get / set), counted by valgrind's callgrind. A count does
// not move with what else the machine runs (one process measured twice, each time beside another
// valgrind on the other core: the same total within 0.05 %; whole runs of this tool within 3 %,
// as the server's replies come in more or fewer reads), where a row of `pnpm bench` moves by up
// to a third from round to round on this 2-core machine. It counts instructions, not time: what
// an instruction waits for (memory, the server) is not in it. On setMany of 100 keys the two
// agreed: 0.84 in instructions before c85ee22, 0.81 in run 62 of `pnpm bench` (docs/benchmarks.md).
//
// Each side of each case runs in a process of its own under callgrind (`node --single-threaded`:
// no compiler or GC threads, so the count repeats), once with `count` calls and once with three
// times as many; a call costs the difference over the extra calls, so start-up and warm-up cancel.
// Needs valgrind (Debian: `apt-get install valgrind`). BENCH_ONLY=<text> runs the cases whose name
// holds it. Slow: about 15 minutes for the seven cases, two processes at a time.
import { execFile } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { startRedis } from '@cachex/test-utils'
import { measuredBuild } from './_measure.ts'

/** Calls of the shorter run of each case; the longer makes three times as many. */
const CASES: Array<[name: string, count: number]> = [
  ['get, 100 in flight', 20_000],
  ['set, 100 in flight', 20_000],
  ['getMany 100 keys, each call other keys', 1_000],
  ['setMany 100 keys', 1_000],
  ['setMany 100 keys, raw forms its keys per call', 1_000],
  ['deleteMany 100 keys', 1_000],
  ['deleteMany 100 keys, raw forms its keys per call', 1_000],
]

const child = fileURLToPath(new URL('./_instructions-child.mjs', import.meta.url))

/** Instructions of one run of `side` of case `name` making `count` calls after the warm-up. */
function instructions(url: string, name: string, side: string, count: number): Promise<number> {
  const args = [
    '--tool=callgrind',
    '--smc-check=all-non-file',
    '--callgrind-out-file=/dev/null',
    process.execPath,
    '--single-threaded',
    child,
    url,
    name,
    side,
    String(count),
  ]
  return new Promise((resolve, reject) => {
    execFile('valgrind', args, { maxBuffer: 1 << 24 }, (error, _stdout, stderr) => {
      const collected = /Collected : (\d+)/.exec(stderr)?.[1]
      if (error || collected === undefined) {
        reject(new Error(`${side} '${name}' failed: ${error?.message ?? stderr.slice(-500)}`))
      } else {
        resolve(Number(collected))
      }
    })
  })
}

/** Runs `jobs` at most `limit` at a time, in order. */
async function pooled<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length)
  let next = 0
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++
      results[i] = await (jobs[i] as () => Promise<T>)()
    }
  }
  await Promise.all(Array.from({ length: limit }, worker))
  return results
}

async function main() {
  const found = await new Promise<boolean>((resolve) =>
    execFile('valgrind', ['--version'], (error) => resolve(!error)),
  )
  if (!found) {
    console.error('valgrind is not installed (Debian: apt-get install valgrind)')
    process.exitCode = 1
    return
  }
  const only = process.env.BENCH_ONLY
  const cases = CASES.filter(([name]) => only === undefined || name.includes(only))
  const server = await startRedis()
  console.log(measuredBuild())
  try {
    const jobs = cases.flatMap(([name, count]) =>
      ['raw', 'cachex'].flatMap((side) =>
        [count, 3 * count].map((calls) => () => instructions(server.url, name, side, calls)),
      ),
    )
    const counts = await pooled(jobs, Math.max(1, availableParallelism()))
    console.log('\n| case | raw, instructions a call | cachex | raw / cachex |')
    console.log('|---|---|---|---|')
    cases.forEach(([name, count], i) => {
      const [raw1, raw3, cachex1, cachex3] = counts.slice(4 * i, 4 * i + 4) as number[]
      const raw = ((raw3 as number) - (raw1 as number)) / (2 * count)
      const cachex = ((cachex3 as number) - (cachex1 as number)) / (2 * count)
      const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
      console.log(`| ${name} | ${fmt(raw)} | ${fmt(cachex)} | ${(raw / cachex).toFixed(3)}× |`)
    })
  } finally {
    await server.stop()
  }
}

await main()
