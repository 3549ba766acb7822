// `pnpm fuzz`: runs only the fuzz suites (packages/redis/test/fuzz-*.test.ts) with many more
// iterations than CI, under a new random seed each time, printed first so that a failure can be
// replayed: `FUZZ_SEED=<seed> pnpm fuzz`. Settings, all optional, by environment:
//   FUZZ_SEED    the seed (default: random)
//   FUZZ_RUNS    runs of each codec property per serializer × compressor; the Redis properties
//                run a tenth of that (default here 5000; CI's `pnpm test` uses 200)
//   FUZZ_SHRINK  1 to shrink a failure to a minimal counterexample (slow on slow inputs)
//   FUZZ_PATH    with FUZZ_SEED, replays one counterexample (the `path` a failure prints)
//   FUZZ_VERBOSE 1 to log the CPU time of each test and of every read over 20 ms
// Extra arguments go to vitest (`pnpm fuzz -t "pickle"` runs the pickle combinations only).
import { spawnSync } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const seed = process.env.FUZZ_SEED ?? String(randomInt(2 ** 31 - 1))
const runs = process.env.FUZZ_RUNS ?? '5000'
console.log(
  `fuzz: seed ${seed}, ${runs} runs (replay: FUZZ_SEED=${seed} FUZZ_RUNS=${runs} pnpm fuzz)`,
)

const result = spawnSync(
  'pnpm',
  ['exec', 'vitest', 'run', 'packages/redis/test/fuzz-', ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, FUZZ_SEED: seed, FUZZ_RUNS: runs },
  },
)
console.log(`fuzz: seed ${seed}, ${runs} runs: ${result.status === 0 ? 'passed' : 'FAILED'}`)
process.exit(result.status ?? 1)
