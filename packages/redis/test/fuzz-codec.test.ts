// Fuzzing the value codec alone (no Redis, so many more runs): for every serializer ×
// compressor, random bytes, mutations of valid encodings and hand-made hostile inputs decode to
// a value of a documented type or fail with a typed `CachexError`, within 200 ms of CPU and
// without a memory spike. The same inputs go through a real Redis in fuzz-read.test.ts.
// `pnpm fuzz` runs both with many more iterations and a random seed; see _fuzz.ts.

import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  bomb,
  CODEC_RUNS,
  COMBOS,
  type ComboCodec,
  collectGarbage,
  comboCodec,
  describeBytes,
  FUZZ_SEED,
  failWith,
  fuzzParameters,
  inputArbitrary,
  judge,
  logTestCosts,
  materialize,
  measureRead,
  prototypesFingerprint,
  RSS_BOUND_BYTES,
  readCpuBound,
  type SeedPool,
  seedPool,
  TIMEOUTS,
  trackMemory,
  type Violation,
  withoutUnhandledRejections,
} from './_fuzz.ts'

logTestCosts({ beforeEach, afterEach })

const memory = trackMemory()
let slowest = { cpuMs: 0, what: '' }

/** Decodes `data` as the cache would read it (bytes, and text where the cache reads text). */
async function checkDecode(codec: ComboCodec, data: Buffer): Promise<Violation[]> {
  const reads: Array<[string, () => unknown]> = [['decode(bytes)', () => codec.codec.decode(data)]]
  if (codec.codec.readsText) {
    // How node-redis hands a reply over as text: UTF-8, invalid sequences replaced.
    const text = data.toString('utf8')
    reads.push(['decode(text)', () => codec.codec.decode(text)])
  }
  const violations: Violation[] = []
  for (const [name, read] of reads) {
    const before = prototypesFingerprint()
    const cpuMs = readCpuBound(data.length)
    const outcome = await measureRead(read, { cpuMs })
    if (outcome.cpuMs > slowest.cpuMs) {
      slowest = { cpuMs: outcome.cpuMs, what: `${codec.combo.name} ${describeBytes(data)}` }
    }
    violations.push(...judge(name, outcome, codec.combo.serializer, { cpuMs }))
    if (prototypesFingerprint() !== before) {
      violations.push({ read: name, problem: 'changed a built-in prototype' })
    }
    // A read slow or huge once is that again on the text path: spare the second.
    if (violations.length > 0) break
  }
  return violations
}

describe(`fuzz: Codec.decode (seed ${FUZZ_SEED}, ${CODEC_RUNS} runs)`, () => {
  beforeAll(() => {
    memory.start()
  })

  for (const combo of COMBOS) {
    describe(combo.name, () => {
      const codec = comboCodec(combo)
      // Built when the combination's tests run and dropped after, not all at once.
      let pool: SeedPool = { seeds: new Map(), big: new Map() }
      beforeAll(() => {
        pool = seedPool(codec)
      })
      afterAll(() => {
        pool = { seeds: new Map(), big: new Map() }
        collectGarbage()
      })

      it(
        'random and mutated bytes decode to a value or a typed error, in bounded time and memory',
        () =>
          withoutUnhandledRejections(async () => {
            await fc.assert(
              fc.asyncProperty(inputArbitrary(combo, [...pool.seeds.keys()]), async (input) => {
                const data = materialize(input, codec, pool.seeds)
                failWith(await checkDecode(codec, data), `${combo.name}: ${describeBytes(data)}`)
              }),
              fuzzParameters(CODEC_RUNS),
            )
          }),
        TIMEOUTS.codecProperty,
      )

      it(
        'hand-made hostile inputs decode to a value or a typed error, in bounded time and memory',
        () =>
          withoutUnhandledRejections(async () => {
            const violations: Violation[] = []
            const inputs = [...pool.seeds, ...pool.big]
            if (combo.compressor !== 'none') {
              inputs.push([`${combo.compressor}:bomb`, await bomb(combo.compressor)])
            }
            for (const [name, data] of inputs) {
              for (const v of await checkDecode(codec, data)) {
                violations.push({
                  read: `${name} (${describeBytes(data)}) ${v.read}`,
                  problem: v.problem,
                })
              }
            }
            failWith(violations, `${combo.name}: hostile inputs broke the read path`)
          }),
        TIMEOUTS.hostile,
      )
    })
  }

  it('kept the settled RSS bounded over the whole run', () => {
    const { settledGrowth, summary } = memory.finish()
    console.log(
      `fuzz-codec: ${summary}; slowest decode ${slowest.cpuMs.toFixed(1)} ms CPU (${slowest.what})`,
    )
    expect(settledGrowth).toBeLessThan(RSS_BOUND_BYTES)
  })
})
