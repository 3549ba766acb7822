// Fuzzing the whole read path against a real Redis: for every serializer × compressor, random
// bytes, mutations of valid encodings, hand-made hostile inputs and decompression bombs are
// stored with a raw client — as string values, hash field values and list elements — and read
// through a cache made by `createCache` with `get`, `getMany`, `hgetall` and `lrange`. Every read
// returns a value of a type its serializer documents or rejects with a typed `CachexError`,
// spends at most 200 ms of CPU, raises the peak RSS by less than 512 MB, and the four reads agree
// on the same bytes. `pnpm fuzz` runs this with many more iterations and a random seed; see
// _fuzz.ts for the bounds and why they are measured as they are.

import { type Cache, type CreateCacheOptions, createCache } from '@cachex/redis'
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  alike,
  bomb,
  COMBOS,
  type Combo,
  collectGarbage,
  comboCodec,
  describeBytes,
  FUZZ_MAX_VALUE_SIZE,
  FUZZ_SEED,
  failWith,
  fuzzParameters,
  inputArbitrary,
  judge,
  logTestCosts,
  materialize,
  measureRead,
  prototypesFingerprint,
  READ_RUNS,
  type ReadOutcome,
  RSS_BOUND_BYTES,
  type SeedPool,
  seedPool,
  TIMEOUTS,
  trackMemory,
  type Violation,
  withoutUnhandledRejections,
} from './_fuzz.ts'

logTestCosts({ beforeEach, afterEach })

type RawClient = ReturnType<typeof createClient>

let server: RedisServer
let raw: RawClient
const memory = trackMemory()
let slowest = { cpuMs: 0, what: '' }
const caches: Cache[] = []

beforeAll(async () => {
  server = await startRedis()
  raw = createClient({ url: server.url })
  raw.on('error', () => {})
  await raw.connect()
  memory.start()
})

afterAll(async () => {
  await Promise.all(caches.map((c) => c.close()))
  await raw?.close()
  await server?.stop()
})

/** The cache `createCache` makes for a combination, with `options` on top. */
function cacheFor(combo: Combo, options: CreateCacheOptions = {}): Cache {
  const cache = createCache({
    location: server.url,
    serializer: combo.serializer,
    compressor: combo.compressor,
    keyPrefix: `fuzz-${combo.name}`,
    ...options,
  })
  caches.push(cache)
  return cache
}

/** Field names for hgetall: the first may be one that an object literal turns into something else. */
const SPECIAL_FIELDS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', ''] as const

/**
 * Stores `values` raw (bytes, not through the codec) at `k0…`, as the fields of hash `h` and as
 * the elements of list `l`, then reads them back with every read method. Returns how the reads
 * broke their promises. A read that is slow or huge stops the rest (they decode the same bytes,
 * and would cost as much again).
 */
async function storeAndRead(
  cache: Cache,
  combo: Combo,
  values: readonly Buffer[],
  fields: readonly string[],
  options: { cpuMs?: number; attempts?: number; stringsOnly?: boolean } = {},
): Promise<Violation[]> {
  const { stringsOnly = false, ...bounds } = options
  const keys = values.map((_, i) => `k${i}`)
  const rkeys = keys.map((k) => cache.makeKey(k))
  const hash = cache.makeKey('h')
  const list = cache.makeKey('l')
  await raw.sendCommand(['DEL', ...rkeys, hash, list])
  await Promise.all(values.map((v, i) => raw.sendCommand(['SET', rkeys[i] as string, v])))
  if (!stringsOnly) {
    await raw.sendCommand(['HSET', hash, ...fields.flatMap((f, i) => [f, values[i] as Buffer])])
    await raw.sendCommand(['RPUSH', list, ...values])
  }

  const violations: Violation[] = []
  const read = async (
    name: string,
    run: () => Promise<unknown>,
    decoded?: (result: unknown) => Iterable<unknown>,
  ): Promise<ReadOutcome> => {
    const before = prototypesFingerprint()
    const outcome = await measureRead(run, bounds)
    if (outcome.cpuMs > slowest.cpuMs) {
      slowest = { cpuMs: outcome.cpuMs, what: `${combo.name} ${name}` }
    }
    violations.push(...judge(name, outcome, combo.serializer, { ...bounds, decoded }))
    if (prototypesFingerprint() !== before) {
      violations.push({ read: name, problem: 'changed a built-in prototype' })
    }
    return outcome
  }
  const costly = () => violations.some((v) => /of CPU|peak RSS/.test(v.problem))
  const disagree = (name: string, problem: string) => violations.push({ read: name, problem })

  const gets: ReadOutcome[] = []
  for (const key of keys) {
    gets.push(await read(`get(${key})`, () => cache.get(key)))
    if (costly()) return violations
  }
  const allOk = gets.every((g) => g.ok)
  const agrees = (i: number, value: unknown) => sameValue(gets[i] as ReadOutcome, value)

  const many = await read(
    'getMany',
    () => cache.getMany(keys),
    (map) => (map as Map<string, unknown>).values(),
  )
  if (costly()) return violations
  if (many.ok !== allOk) {
    disagree(
      'getMany',
      `${many.ok ? 'resolved' : 'rejected'} though the gets did not all ${many.ok ? 'resolve' : 'reject'}`,
    )
  } else if (many.ok) {
    const map = many.value as Map<string, unknown>
    keys.forEach((key, i) => {
      if (!map.has(key)) disagree('getMany', `left out ${key}, which exists`)
      else if (!agrees(i, map.get(key))) disagree('getMany', `read ${key} unlike get`)
    })
  }

  if (stringsOnly) return violations

  const all = await read(
    'hgetall',
    () => cache.hgetall('h'),
    (record) => Object.values(record as object),
  )
  if (costly()) return violations
  if (all.ok !== allOk) {
    disagree('hgetall', `${all.ok ? 'resolved' : 'rejected'} unlike the gets`)
  } else if (all.ok) {
    const record = all.value as Record<string, unknown>
    const own = Reflect.ownKeys(record).map(String).sort()
    if (!isSameList(own, [...fields].sort())) {
      disagree('hgetall', `has own fields ${JSON.stringify(own)}, stored ${JSON.stringify(fields)}`)
    }
    fields.forEach((field, i) => {
      if (Object.hasOwn(record, field) && !agrees(i, record[field])) {
        disagree('hgetall', `read field ${JSON.stringify(field)} unlike get`)
      }
    })
  }

  const range = await read(
    'lrange',
    () => cache.lrange('l', 0, -1),
    (items) => items as unknown[],
  )
  if (costly()) return violations
  if (range.ok !== allOk) {
    disagree('lrange', `${range.ok ? 'resolved' : 'rejected'} unlike the gets`)
  } else if (range.ok) {
    const items = range.value as unknown[]
    if (items.length !== values.length)
      disagree('lrange', `read ${items.length} of ${values.length} elements`)
    items.forEach((item, i) => {
      if (!agrees(i, item)) disagree('lrange', `read element ${i} unlike get`)
    })
  }
  return violations
}

function sameValue(get: ReadOutcome, value: unknown): boolean {
  // Same bytes, same decoder: alike values.
  return get.ok && alike(get.value, value)
}

function isSameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

describe(`fuzz: reads through a real Redis (seed ${FUZZ_SEED}, ${READ_RUNS} runs)`, () => {
  for (const combo of COMBOS) {
    describe(combo.name, () => {
      const codec = comboCodec(combo)
      let pool: SeedPool = { seeds: new Map(), big: new Map() }
      let cache: Cache
      beforeAll(() => {
        pool = seedPool(codec)
        cache = cacheFor(combo, { maxValueSize: FUZZ_MAX_VALUE_SIZE })
      })
      afterAll(() => {
        pool = { seeds: new Map(), big: new Map() }
        collectGarbage()
      })

      it(
        'random and mutated bytes read back as a value or a typed error, alike through every method',
        () =>
          withoutUnhandledRejections(async () => {
            const batch = fc.record({
              inputs: fc.array(
                inputArbitrary(combo, [...pool.seeds.keys()], { maxRandomBytes: 1024 }),
                {
                  minLength: 1,
                  maxLength: 4,
                },
              ),
              field: fc.oneof(
                { weight: 9, arbitrary: fc.constant(undefined) },
                { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_FIELDS) },
              ),
            })
            await fc.assert(
              fc.asyncProperty(batch, async ({ inputs, field }) => {
                const values = inputs.map((input) => materialize(input, codec, pool.seeds))
                const fields = values.map((_, i) =>
                  i === 0 && field !== undefined ? field : `f${i}`,
                )
                failWith(
                  await storeAndRead(cache, combo, values, fields),
                  `${combo.name}: ${values.map(describeBytes).join(', ')}`,
                )
              }),
              fuzzParameters(READ_RUNS),
            )
          }),
        TIMEOUTS.readProperty,
      )

      it(
        'hand-made hostile inputs and bombs read back as a value or a typed error',
        () =>
          withoutUnhandledRejections(async () => {
            const inputs = [...pool.seeds]
            if (combo.compressor !== 'none') {
              inputs.push([`${combo.compressor}:bomb`, await bomb(combo.compressor)])
            }
            const violations: Violation[] = []
            const check = async (name: string, data: Buffer, stringsOnly: boolean) => {
              for (const v of await storeAndRead(cache, combo, [data], ['f0'], { stringsOnly })) {
                violations.push({
                  read: `${name} (${describeBytes(data)}) ${v.read}`,
                  problem: v.problem,
                })
              }
            }
            for (const [name, data] of inputs) await check(name, data, false)
            // The megabyte seeds decode alike whichever method reads them (fuzz-codec.test.ts reads
            // every one): here they cross Redis once, as string values.
            for (const [name, data] of pool.big) await check(name, data, true)
            failWith(violations, `${combo.name}: hostile inputs broke the read path`)
          }),
        TIMEOUTS.hostile,
      )
    })
  }

  it('kept the settled RSS bounded over the whole run', () => {
    const { settledGrowth, summary } = memory.finish()
    console.log(
      `fuzz-read: ${summary}; slowest read ${slowest.cpuMs.toFixed(1)} ms CPU (${slowest.what})`,
    )
    expect(settledGrowth).toBeLessThan(RSS_BOUND_BYTES)
  })
})
