// `pnpm bench`: cachex against raw node-redis on the same redis-server, in one run.
//
// The raw baseline is what a careful user writes by hand: node-redis 6 with its per-command
// timeout turned off (`commandOptions: { timeout: 0 }`, otherwise it is ~3× slower) and
// JSON.stringify / JSON.parse around each value. cachex runs with its defaults, including the
// hang protection (socketTimeout 5 s). Each case alternates raw and cachex rounds and keeps the
// best round of each, to damp noise on a shared machine.
//
// BENCH_REDIS_URL=redis://… points it at an existing server (it writes keys under `bench:`).
// BENCH_ONLY=hot runs only the first cases (get, set, the local tier's hot get and its p50).
// BENCH_ONLY=telemetry runs only the telemetry rows (bench/telemetry.ts).
// The stampede scenario is `pnpm bench:stampede` (bench/stampede.ts).
import { createCache } from '@cachex/redis'
import { startRedis } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { IN_FLIGHT, measuredBuild, pinApart, throughput, watchSteal } from './_measure.ts'
import { runClusterBench } from './cluster.ts'
import { runCodecBench } from './codecs.ts'
import { runTelemetryBench } from './telemetry.ts'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)

type Client = ReturnType<typeof createClient>

interface Row {
  name: string
  unit: string
  raw: number
  cachex: number
  higherIsBetter: boolean
  note?: string
  /** cachex / raw of each round, raw and cachex back to back. */
  ratios?: number[]
}

async function main() {
  const server = process.env.BENCH_REDIS_URL ? undefined : await startRedis()
  const url = process.env.BENCH_REDIS_URL ?? (server?.url as string)
  const raw: Client = createClient({ url, commandOptions: { timeout: 0 } })
  raw.on('error', () => {})
  await raw.connect()
  const serverPid = server
    ? /process_id:(\d+)/.exec((await raw.info('server')) as string)?.[1]
    : undefined
  const pinning = pinApart(serverPid)
  console.log(pinning.note)
  console.log(measuredBuild())
  const steal = watchSteal()
  const cache = createCache({ location: url, keyPrefix: 'bench', timeout: null })
  const zcache = createCache({
    location: url,
    keyPrefix: 'benchz',
    timeout: null,
    compressor: 'zlib',
  })
  const mcache = createCache({
    location: url,
    keyPrefix: 'benchm',
    timeout: null,
    serializer: 'msgpack',
    compressor: 'lz4',
  })
  const rows: Row[] = []

  try {
    const value = {
      id: 12345,
      name: 'cachex benchmark value',
      tags: ['a', 'b', 'c'],
      ok: true,
      score: 9.5,
    }
    const text = JSON.stringify(value)
    console.log(
      `value: ${Buffer.byteLength(text)} bytes of JSON; ${IN_FLIGHT} operations in flight`,
    )
    await cache.set('small', value)
    await raw.set('bench:raw:small', text)
    if (process.env.BENCH_ONLY === 'telemetry') {
      await runTelemetryBench(url, value)
      return
    }

    // Small get / set throughput.
    const n = 100_000
    rows.push(
      await compare('get, 100 in flight', 'ops/s', n, {
        raw: () => raw.get('bench:raw:small').then((r) => JSON.parse(r as string)),
        cachex: () => cache.get('small'),
      }),
    )
    // The same with 100 distinct keys, so that a coalesced MGET carries 100 keys, not one
    // key 100 times.
    const distinct = Array.from({ length: 100 }, (_, i) => `d${i}`)
    await cache.setMany(Object.fromEntries(distinct.map((k) => [k, value])))
    await raw.mSet(distinct.map((k) => [`bench:raw:${k}`, text] as [string, string]))
    let next = 0
    const getDistinct = {
      raw: () =>
        raw.get(`bench:raw:${distinct[next++ % 100]}`).then((r) => JSON.parse(r as string)),
      cachex: () => cache.get(distinct[next++ % 100] as string),
    }
    rows.push(await compare('get, 100 in flight, 100 distinct keys', 'ops/s', n, getDistinct))
    // Few calls in flight: a tick gathers 2 or 10 gets, where coalescing has the least to win.
    for (const few of [2, 10]) {
      rows.push({
        ...(await compare(
          `get, ${few} in flight, 100 distinct keys`,
          'ops/s',
          20_000,
          getDistinct,
          few,
        )),
        note: `raw: ${few} GETs pipelined; cachex: one MGET of ${few} keys`,
      })
    }
    rows.push(
      await compare('set, 100 in flight', 'ops/s', n, {
        raw: () => raw.set('bench:raw:small', JSON.stringify(value)),
        cachex: () => cache.set('small', value),
      }),
    )

    // A hot get served by the local tier (CLIENT TRACKING keeps it coherent), against raw.
    const lcache = createCache({ location: url, keyPrefix: 'benchl', timeout: null, local: {} })
    try {
      await lcache.set('small', value)
      await lcache.get('small')
      for (let i = 0; i < 1_000 && lcache.localStats()?.tracking !== true; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      await lcache.get('small')
      // Both sides read the same 97-byte value with 100 in flight; raw node-redis pipelines the
      // GETs it is handed in one tick. cachex runs 10× the operations so that each side is
      // measured over a comparable stretch of time (a hit takes well under a microsecond).
      const hot = await compare('hot get, local tier, 100 in flight', 'ops/s', [n, 10 * n], {
        raw: () => raw.get('bench:raw:small').then((r) => JSON.parse(r as string)),
        cachex: () => lcache.get('small'),
      })
      rows.push({
        ...hot,
        note: `local tier: ${lcache.localStats()?.hits.toLocaleString('en-US')} hits, ${lcache.localStats()?.misses} misses; cachex / raw per round (raw then cachex, back to back): ${hot.ratios?.map((r) => `${r.toFixed(1)}×`).join(', ')}`,
      })
      const r = await latency(
        () => raw.get('bench:raw:small').then((x) => JSON.parse(x as string)),
        50,
      )
      const c = await latency(() => lcache.get('small'), 50)
      rows.push({
        name: 'sequential get p50, local tier hit',
        unit: 'µs',
        raw: r,
        cachex: c,
        higherIsBetter: false,
      })
    } finally {
      await lcache.close()
    }

    if (process.env.BENCH_ONLY === 'hot') {
      print(rows)
      console.log(`\n${steal()}`)
      return
    }

    // Sequential get latency.
    for (const p of [50, 99]) {
      const r = await latency(
        () => raw.get('bench:raw:small').then((x) => JSON.parse(x as string)),
        p,
      )
      const c = await latency(() => cache.get('small'), p)
      rows.push({
        name: `sequential get p${p}`,
        unit: 'µs',
        raw: r,
        cachex: c,
        higherIsBetter: false,
      })
    }

    // getMany / setMany of 100 keys.
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`)
    const entries = Object.fromEntries(keys.map((k) => [k, value]))
    const rawKeys = keys.map((k) => `bench:raw:${k}`)
    await raw.mSet(rawKeys.map((k) => [k, text] as [string, string]))
    const before = await commandCalls(raw)
    await cache.setMany(entries)
    const between = await commandCalls(raw)
    await cache.setMany(entries, { timeout: 600 })
    await cache.getMany(keys)
    const after = await commandCalls(raw)
    const note = `one setMany = ${diff(between, before, 'mset')} MSET; with a timeout ${diff(after, between, 'evalsha')} script (EVALSHA) of ${diff(after, between, 'set')} SET, ${diff(after, between, 'mset')} MSET and ${diff(after, between, 'pexpire')} PEXPIREs; one getMany = ${diff(after, between, 'mget')} MGET`
    rows.push({
      ...(await compare('getMany 100 keys', 'ops/s', 5_000, {
        raw: () => raw.mGet(rawKeys).then((r) => r.map((x) => (x === null ? null : JSON.parse(x)))),
        cachex: () => cache.getMany(keys),
      })),
      note: 'the 100 calls in flight read the same 100 keys: the calls of a tick share one MGET on the cachex side (each decodes its own values); raw sends an MGET a call',
    })
    // The same from the caller's keys, as cachex's getMany takes them: the raw side forms its
    // Redis keys on each call (cachex forms them too, from a memo of the keys it built).
    rows.push({
      ...(await compare('getMany 100 keys, raw forms its keys per call', 'ops/s', 5_000, {
        raw: () =>
          raw
            .mGet(keys.map((k) => `bench:raw:${k}`))
            .then((r) => r.map((x) => (x === null ? null : JSON.parse(x)))),
        cachex: () => cache.getMany(keys),
      })),
      note: 'raw: each Redis key formed from the caller key per call, then mGet and JSON.parse (the row above, keys formed per call)',
    })
    // And with the same result: a Map of the keys found, by the caller's key.
    rows.push({
      ...(await compare('getMany 100 keys, raw returns the same Map', 'ops/s', 5_000, {
        raw: () =>
          raw.mGet(keys.map((k) => `bench:raw:${k}`)).then((r) => {
            const found = new Map<string, unknown>()
            for (let i = 0; i < r.length; i++) {
              const x = r[i]
              if (x !== null && x !== undefined) found.set(keys[i] as string, JSON.parse(x))
            }
            return found
          }),
        cachex: () => cache.getMany(keys),
      })),
      note: 'raw: keys formed per call, mGet, JSON.parse, and a Map of the keys found by caller key, as getMany answers',
    })
    // Every call other keys: 100 lists of the 100 keys, each rotated by one more, so that no
    // call reads the same keys as the call before it and no MGET is shared (the rows above read
    // one list at 100 in flight: cachex sends one MGET for the calls of a tick). Raw as in the
    // first row: prebuilt keys, an array.
    const rotations = keys.map((_, j) => keys.map((_, i) => keys[(i + j) % 100] as string))
    const rawRotations = rotations.map((list) => list.map((k) => `bench:raw:${k}`))
    let nextList = 0
    rows.push({
      ...(await compare('getMany 100 keys, each call other keys', 'ops/s', 5_000, {
        raw: () =>
          raw
            .mGet(rawRotations[nextList++ % 100] as string[])
            .then((r) => r.map((x) => (x === null ? null : JSON.parse(x)))),
        cachex: () => cache.getMany(rotations[nextList++ % 100] as string[]),
      })),
      note: 'raw: prebuilt keys, an array; each call reads the 100 keys in another order, so cachex shares no MGET',
    })
    rows.push({
      ...(await compare('setMany 100 keys', 'ops/s', 5_000, {
        raw: () => raw.mSet(rawKeys.map((k) => [k, JSON.stringify(value)] as [string, string])),
        cachex: () => cache.setMany(entries),
      })),
      note,
    })
    rows.push({
      ...(await compare('setMany 100 keys, raw forms its keys per call', 'ops/s', 5_000, {
        raw: () =>
          raw.mSet(
            keys.map((k) => [`bench:raw:${k}`, JSON.stringify(entries[k])] as [string, string]),
          ),
        cachex: () => cache.setMany(entries),
      })),
      note: 'raw: an entry per caller key, its Redis key formed per call, then one MSET (cachex: MSET too, no expiry)',
    })
    rows.push({
      ...(await compare('deleteMany 100 keys', 'ops/s', 5_000, {
        raw: () => raw.unlink(rawKeys),
        cachex: () => cache.deleteMany(keys),
      })),
      note: 'one UNLINK of 100 keys each side; after the first call the keys are gone (the cost is the command, not freeing values)',
    })
    rows.push({
      ...(await compare('deleteMany 100 keys, raw forms its keys per call', 'ops/s', 5_000, {
        raw: () => raw.unlink(keys.map((k) => `bench:raw:${k}`)),
        cachex: () => cache.deleteMany(keys),
      })),
      note: 'raw: each Redis key formed from the caller key per call, then one UNLINK',
    })

    // incr: raw INCR against cachex's script (EXISTS + INCRBY: a missing key raises, as in Django).
    await raw.set('bench:raw:n', '0')
    await cache.set('n', 0)
    rows.push({
      ...(await compare('incr, 100 in flight', 'ops/s', n, {
        raw: () => raw.incr('bench:raw:n'),
        cachex: () => cache.incr('n'),
      })),
      note: 'raw INCR creates a missing key; cachex runs a script (EVALSHA) so that a missing key raises instead, atomically: the 100 calls of a tick on one key as one script — see docs/benchmarks.md',
    })

    // incr of 100 distinct keys: one script a call (coalescing gathers the calls of one key).
    await raw.mSet(distinct.map((k) => [`bench:raw:n:${k}`, '0'] as [string, string]))
    await cache.setMany(Object.fromEntries(distinct.map((k) => [`n:${k}`, 0])))
    let nextIncr = 0
    rows.push({
      ...(await compare('incr, 100 in flight, 100 distinct keys', 'ops/s', n, {
        raw: () => raw.incr(`bench:raw:n:${distinct[nextIncr++ % 100]}`),
        cachex: () => cache.incr(`n:${distinct[nextIncr++ % 100]}`),
      })),
      note: 'the incrs of a tick on 100 keys: one EVALSHA of them all (one EXISTS of the keys, then an INCRBY each)',
    })

    // hasKey and hget: raw sends one EXISTS / HGET a call; cachex gathers the calls of a tick
    // (coalesceReads): one EXISTS of their keys, one HMGET of one hash's fields.
    const hasDistinct = {
      raw: () => raw.exists(`bench:raw:${distinct[next++ % 100]}`).then((r) => r === 1),
      cachex: () => cache.hasKey(distinct[next++ % 100] as string),
    }
    rows.push({
      ...(await compare('hasKey, 100 in flight, 100 distinct keys', 'ops/s', n, hasDistinct)),
      note: 'raw: one EXISTS a call; cachex: the hasKeys of a tick as one EXISTS of their keys',
    })
    rows.push({
      ...(await compare('hasKey, 2 in flight, 100 distinct keys', 'ops/s', 20_000, hasDistinct, 2)),
      note: 'raw: 2 EXISTS pipelined; cachex: one EXISTS of 2 keys',
    })
    const fields = Array.from({ length: 100 }, (_, i) => `f${i}`)
    await raw.hSet('bench:raw:h', Object.fromEntries(fields.map((f) => [f, text])))
    await cache.hmset('h', Object.fromEntries(fields.map((f) => [f, value])))
    rows.push({
      ...(await compare('hget, 100 in flight, one hash of 100 fields', 'ops/s', n, {
        raw: () =>
          raw
            .hGet('bench:raw:h', fields[next++ % 100] as string)
            .then((r) => JSON.parse(r as string)),
        cachex: () => cache.hget('h', fields[next++ % 100] as string),
      })),
      note: 'raw: one HGET a call; cachex: the hgets of a tick on one hash as one HMGET',
    })

    // A 100 KB value, plain and zlib-compressed.
    const big = {
      rows: Array.from({ length: 2400 }, (_, i) => ({ i, name: `row number ${i}`, v: i * 1.5 })),
    }
    const bigText = JSON.stringify(big)
    console.log(`big value: ${Math.round(Buffer.byteLength(bigText) / 1024)} KB of JSON`)
    await cache.set('big', big)
    await zcache.set('big', big)
    await raw.set('bench:raw:big', bigText)
    rows.push(
      await compare('get 100 KB value', 'ops/s', 2_000, {
        raw: () => raw.get('bench:raw:big').then((r) => JSON.parse(r as string)),
        cachex: () => cache.get('big'),
      }),
    )
    rows.push(
      await compare('set 100 KB value', 'ops/s', 2_000, {
        raw: () => raw.set('bench:raw:big', JSON.stringify(big)),
        cachex: () => cache.set('big', big),
      }),
    )
    const stored = (await raw.strLen('benchz:1:big')) as number
    rows.push({
      ...(await compare('get 100 KB value, zlib', 'ops/s', 2_000, {
        raw: () => raw.get('bench:raw:big').then((r) => JSON.parse(r as string)),
        cachex: () => zcache.get('big'),
      })),
      note: `stored ${Math.round(stored / 1024)} KB instead of ${Math.round(bigText.length / 1024)} KB; raw = uncompressed`,
    })

    await mcache.set('big', big)
    const packed = (await raw.strLen('benchm:1:big')) as number
    rows.push({
      ...(await compare('get+set 100 KB: json (raw) vs msgpack+lz4 (cachex)', 'ops/s', 2_000, {
        raw: () => cache.set('big', big).then(() => cache.get('big')),
        cachex: () => mcache.set('big', big).then(() => mcache.get('big')),
      })),
      note: `both through cachex: the "raw" column is cachex with JSON uncompressed; msgpack+lz4 stores ${Math.round(packed / 1024)} KB`,
    })

    print(rows)
    console.log(`\n${bars(rows)}`)
    console.log(`\n${steal()}`)
    await runTelemetryBench(url, value)
    await walkMillion(url, raw)
    runCodecBench()
    if (process.env.BENCH_CLUSTER !== '0') {
      // Six nodes on the machine's cores: not pinned.
      pinning.unpin()
      console.log('\ncluster (BENCH_CLUSTER=0 skips it)')
      await runClusterBench()
    }
  } finally {
    await cache.deletePattern('*').catch(() => {})
    await zcache.deletePattern('*').catch(() => {})
    await mcache.deletePattern('*').catch(() => {})
    for await (const batch of raw.scanIterator({ MATCH: 'bench:raw:*', COUNT: 1000 })) {
      if (batch.length > 0) await raw.unlink(batch)
    }
    await cache.close()
    await zcache.close()
    await mcache.close()
    raw.destroy()
    await server?.stop()
  }
}

/**
 * Memory while `iterKeys` and `deletePattern` walk a million keys: the heap should stay flat
 * (SCAN batches, never the whole key list).
 */
async function walkMillion(url: string, raw: Client) {
  const total = Number(process.env.BENCH_WALK_KEYS ?? 1_000_000)
  const walker = createCache({ location: url, keyPrefix: 'benchwalk', timeout: null })
  for (let start = 0; start < total; start += 10_000) {
    const pairs: [string, string][] = []
    for (let i = start; i < Math.min(total, start + 10_000); i++)
      pairs.push([`benchwalk:1:k${i}`, '1'])
    await raw.mSet(pairs)
  }
  globalThis.gc?.()
  const base = process.memoryUsage().heapUsed
  let peak = base
  const sample = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed)
  }, 5)
  let seen = 0
  let t0 = performance.now()
  for await (const _ of walker.iterKeys('*')) seen++
  const iterMs = performance.now() - t0
  const iterPeak = peak - base
  peak = process.memoryUsage().heapUsed
  t0 = performance.now()
  const deleted = await walker.deletePattern('*')
  const deleteMs = performance.now() - t0
  clearInterval(sample)
  const deletePeak = peak - base
  await walker.close()
  const mb = (n: number) => `${(Math.max(0, n) / 1024 / 1024).toFixed(1)} MB`
  console.log(
    `\nwalking ${total.toLocaleString('en-US')} keys (scanItersize 1000): iterKeys saw ${seen.toLocaleString('en-US')} in ${(iterMs / 1000).toFixed(1)} s, heap peak +${mb(iterPeak)}; deletePattern removed ${deleted.toLocaleString('en-US')} in ${(deleteMs / 1000).toFixed(1)} s, heap peak +${mb(deletePeak)} (the keys themselves would take ~${Math.round((total * 60) / 1024 / 1024)} MB)`,
  )
}

/**
 * Alternates raw and cachex rounds and keeps the best of each; `ratios` are cachex / raw of each
 * round. `ops`: operations a round, or [raw, cachex].
 */
async function compare(
  name: string,
  unit: string,
  ops: number | [number, number],
  fns: { raw: () => Promise<unknown>; cachex: () => Promise<unknown> },
  inFlight = IN_FLIGHT,
): Promise<Row & { ratios: number[] }> {
  const [rawOps, cachexOps] = typeof ops === 'number' ? [ops, ops] : ops
  // Warm up both paths (JIT, connection) before measuring.
  await throughput(Math.min(rawOps, 20_000), fns.raw, inFlight)
  await throughput(Math.min(cachexOps, 20_000), fns.cachex, inFlight)
  let raw = 0
  let cachex = 0
  const ratios: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const r = await throughput(rawOps, fns.raw, inFlight)
    const c = await throughput(cachexOps, fns.cachex, inFlight)
    raw = Math.max(raw, r)
    cachex = Math.max(cachex, c)
    ratios.push(c / r)
  }
  return { name, unit, raw, cachex, higherIsBetter: true, ratios }
}

/** The `p`th percentile of sequential call latency, in microseconds. */
async function latency(fn: () => Promise<unknown>, p: number): Promise<number> {
  const samples: number[] = []
  for (let i = 0; i < 1_000; i++) await fn()
  for (let i = 0; i < 10_000; i++) {
    const t0 = performance.now()
    await fn()
    samples.push((performance.now() - t0) * 1000)
  }
  samples.sort((a, b) => a - b)
  return samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))] as number
}

async function commandCalls(client: Client): Promise<Record<string, number>> {
  const info = (await client.info('commandstats')) as string
  const calls: Record<string, number> = {}
  for (const match of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g))
    calls[match[1] as string] = Number(match[2])
  return calls
}

function diff(after: Record<string, number>, before: Record<string, number>, cmd: string): number {
  return (after[cmd] ?? 0) - (before[cmd] ?? 0)
}

/** The median of per-round ratios and their range, e.g. `1.02× (0.91–1.10×)`; `–` without rounds. */
function spread(ratios: number[] | undefined): string {
  if (ratios === undefined || ratios.length === 0) return '–'
  const sorted = [...ratios].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
  return `${median.toFixed(2)}× (${(sorted[0] as number).toFixed(2)}–${(sorted[sorted.length - 1] as number).toFixed(2)}×)`
}

function print(rows: Row[]) {
  const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1))
  console.log('')
  console.log('| case | raw node-redis | cachex | cachex / raw | per round: median (range) |')
  console.log('|---|---:|---:|---:|---:|')
  for (const row of rows) {
    const ratio = row.higherIsBetter ? row.cachex / row.raw : row.raw / row.cachex
    console.log(
      `| ${row.name} | ${fmt(row.raw)} ${row.unit} | ${fmt(row.cachex)} ${row.unit} | ${ratio.toFixed(2)}× | ${spread(row.ratios)} |`,
    )
  }
  console.log('')
  console.log(
    'cachex / raw: above 1 means cachex is faster (for latency, raw latency / cachex latency).',
  )
  for (const row of rows) if (row.note) console.log(`- ${row.name}: ${row.note}`)
}

/**
 * The throughput issue's bars (docs/benchmarks.md, issue 14), each judged on the rows named, so
 * that one run says which hold. A bar judged on more than one row gives each: the many-key bars
 * against raw code that does less than the API must (an array of prebuilt keys) and against raw
 * code that forms the same keys or returns the same `Map`.
 */
const BARS: { bar: string; least?: number; withinUs?: number; rows: [string, string][] }[] = [
  {
    bar: 'get, 100 in flight ≥ 1.3×',
    least: 1.3,
    rows: [
      ['get, 100 in flight', 'one key'],
      ['get, 100 in flight, 100 distinct keys', '100 distinct keys'],
    ],
  },
  { bar: 'set ≥ 1.0×', least: 1, rows: [['set, 100 in flight', '100 in flight']] },
  {
    bar: 'sequential get p50 within 5 µs of raw',
    withinUs: 5,
    rows: [['sequential get p50', 'cachex − raw']],
  },
  {
    bar: 'getMany 100 keys ≥ 1.0×',
    least: 1,
    rows: [
      ['getMany 100 keys', "raw's array, prebuilt keys"],
      ['getMany 100 keys, raw forms its keys per call', 'raw forms its keys'],
      ['getMany 100 keys, raw returns the same Map', 'raw returns the same Map'],
      ['getMany 100 keys, each call other keys', "each call other keys, raw's array"],
    ],
  },
  {
    bar: 'setMany 100 keys ≥ 1.0×',
    least: 1,
    rows: [
      ['setMany 100 keys', 'raw: prebuilt keys'],
      ['setMany 100 keys, raw forms its keys per call', 'raw forms its keys'],
    ],
  },
  {
    bar: 'deleteMany 100 keys ≥ 1.0×',
    least: 1,
    rows: [
      ['deleteMany 100 keys', 'raw: prebuilt keys'],
      ['deleteMany 100 keys, raw forms its keys per call', 'raw forms its keys'],
    ],
  },
  {
    bar: 'incr ≥ 0.9×',
    least: 0.9,
    rows: [
      ['incr, 100 in flight', 'one key'],
      ['incr, 100 in flight, 100 distinct keys', '100 distinct keys'],
    ],
  },
]

/** Which of `BARS` this run's rows meet, one line a bar (bars whose rows did not run left out). */
function bars(rows: Row[]): string {
  const byName = new Map(rows.map((row) => [row.name, row]))
  const out = ['Bars (issue 14), from the best rounds above:']
  for (const { bar, least, withinUs, rows: judged } of BARS) {
    const parts: string[] = []
    for (const [name, label] of judged) {
      const row = byName.get(name)
      if (!row) continue
      if (withinUs !== undefined) {
        const over = row.cachex - row.raw
        parts.push(
          `${over >= 0 ? '+' : '−'}${Math.abs(over).toFixed(1)} µs (${label}) ${over <= withinUs ? 'holds' : 'fails'}`,
        )
      } else {
        const ratio = row.cachex / row.raw
        const bar = least as number
        // Three decimals where two would print the bar itself for a ratio just below it.
        const digits = Math.abs(ratio - bar) < 0.005 ? 3 : 2
        parts.push(`${ratio.toFixed(digits)}× (${label}) ${ratio >= bar ? 'holds' : 'fails'}`)
      }
    }
    if (parts.length > 0) out.push(`- ${bar}: ${parts.join('; ')}`)
  }
  out.push(
    "- getMany ahead of ioredis's mget, ahead of every peer: `pnpm bench:peers`; get 100 KB ahead of ioredis: `pnpm bench:large`",
  )
  return out.join('\n')
}

await main()
