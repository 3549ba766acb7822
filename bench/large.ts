// `pnpm bench:large`: get and set of large values (100 KB, 1 MB, 10 MB of JSON) through raw
// node-redis 6 (`timeout: 0`, JSON.parse / JSON.stringify by hand), ioredis 5 (the same by hand)
// and cachex (defaults: JSON; and with the zlib and lz4 compressors, beside raw node-redis and
// ioredis doing zlib by hand), on one private redis-server, in one process.
//
// Rounds are interleaved (every client once per round, in turn) and each result is the median
// of the rounds, with the spread (min–max) beside it. Every value read is checked (its row count
// and last row) and a wrong one aborts the run. The raw get rows check the value in the
// client's callback; the "value returned" rows return it through a promise first, as a helper
// of the application's (and cachex's `get`) does, which costs V8's young-generation collector
// more (docs/configuration.md, "Large values"). Operations in flight: 100 for 100 KB, 10 for
// 1 MB, 2 for 10 MB (100 × 10 MB in flight would be a gigabyte of replies). Each size ends with
// a line on issue 14's bar: cachex against ioredis doing the same by hand, value returned.
//
// BENCH_ROUNDS (default 5), BENCH_SIZES (e.g. "100k,1m"), BENCH_REDIS_CPU / BENCH_CLIENT_CPU pin
// redis-server (through taskset) and this process to a core, e.g. BENCH_REDIS_CPU=0
// BENCH_CLIENT_CPU=1.
import { execFileSync } from 'node:child_process'
import { deflateSync, inflateSync } from 'node:zlib'
import { createCache } from '@cachex/redis'
import { startRedis } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { Redis } from 'ioredis'
import { measuredBuild } from './_measure.ts'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)

interface Size {
  label: string
  rows: number
  ops: number
  inFlight: number
}

// ~42 bytes of JSON a row.
const SIZES: Size[] = [
  { label: '100k', rows: 2_400, ops: 600, inFlight: 100 },
  { label: '1m', rows: 24_000, ops: 60, inFlight: 10 },
  { label: '10m', rows: 240_000, ops: 8, inFlight: 2 },
]

interface Big {
  rows: { i: number; name: string; v: number }[]
}

function bigValue(rows: number): Big {
  return {
    rows: Array.from({ length: rows }, (_, i) => ({ i, name: `row number ${i}`, v: i * 1.5 })),
  }
}

/** Throws unless `value` is the big value of `rows` rows. */
function check(value: unknown, rows: number): void {
  const got = (value as Big | null)?.rows
  const last = got?.[rows - 1]
  if (got?.length !== rows || last?.i !== rows - 1 || last.name !== `row number ${rows - 1}`) {
    throw new Error(`wrong value read back (${got?.length} rows, expected ${rows})`)
  }
}

/**
 * Runs `ops` calls of `fn` with `inFlight` in flight; returns the elapsed seconds and this
 * process's CPU time per call in µs (steadier than wall time on a loaded machine).
 */
async function run(
  ops: number,
  inFlight: number,
  fn: () => Promise<unknown>,
): Promise<[number, number]> {
  let started = 0
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const worker = async () => {
    while (started < ops) {
      started++
      await fn()
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(c0)
  return [seconds, (cpu.user + cpu.system) / ops]
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

async function main() {
  if (process.env.BENCH_CLIENT_CPU !== undefined) {
    execFileSync('taskset', ['-cp', process.env.BENCH_CLIENT_CPU, String(process.pid)])
  }
  const server = await startRedis()
  const url = server.url
  const raw = createClient({ url, commandOptions: { timeout: 0 } })
  raw.on('error', () => {})
  await raw.connect()
  if (process.env.BENCH_REDIS_CPU !== undefined) {
    const pid = /process_id:(\d+)/.exec(await raw.info('server'))?.[1] as string
    execFileSync('taskset', ['-cp', process.env.BENCH_REDIS_CPU, pid])
  }
  console.log(measuredBuild())
  const rawBytes = raw.withTypeMapping({ [RESP_BLOB]: Buffer })
  const io = new Redis(url, { lazyConnect: true })
  io.on('error', () => {})
  await io.connect()
  const cache = createCache({ location: url, keyPrefix: 'large', timeout: null })
  const zcache = createCache({
    location: url,
    keyPrefix: 'largez',
    timeout: null,
    compressor: 'zlib',
  })
  const lcache = createCache({
    location: url,
    keyPrefix: 'largel',
    timeout: null,
    compressor: 'lz4',
  })
  const wanted = (process.env.BENCH_SIZES ?? '100k,1m,10m').split(',')
  const lines: string[] = []
  try {
    for (const size of SIZES.filter((s) => wanted.includes(s.label))) {
      const value = bigValue(size.rows)
      const text = JSON.stringify(value)
      const bytes = Buffer.byteLength(text)
      const zipped = deflateSync(text)
      await raw.set('raw', text)
      await raw.set('rawz', zipped)
      await cache.set('v', value)
      await zcache.set('v', value)
      await lcache.set('v', value)
      const n = size.rows
      const cases: [string, () => Promise<unknown>][] = [
        [
          'get: raw node-redis',
          () => raw.get('raw').then((r) => check(JSON.parse(r as string), n)),
        ],
        ['get: ioredis', () => io.get('raw').then((r) => check(JSON.parse(r as string), n))],
        // What an application's own helper does (`async (k) => JSON.parse(await raw.get(k))`):
        // the parsed value is returned through a promise, as cachex's `get` returns it.
        [
          'get: raw node-redis, value returned',
          () =>
            raw
              .get('raw')
              .then((r) => JSON.parse(r as string))
              .then((v) => check(v, n)),
        ],
        [
          'get: ioredis, value returned',
          () =>
            io
              .get('raw')
              .then((r) => JSON.parse(r as string))
              .then((v) => check(v, n)),
        ],
        ['get: cachex', () => cache.get('v').then((r) => check(r, n))],
        [
          'get zlib: raw node-redis',
          () =>
            rawBytes
              .get('rawz')
              .then((r) => check(JSON.parse(inflateSync(r as unknown as Buffer).toString()), n)),
        ],
        [
          'get zlib: ioredis',
          () =>
            io
              .getBuffer('rawz')
              .then((r) => check(JSON.parse(inflateSync(r as Buffer).toString()), n)),
        ],
        [
          'get zlib: raw node-redis, value returned',
          () =>
            rawBytes
              .get('rawz')
              .then((r) => JSON.parse(inflateSync(r as unknown as Buffer).toString()))
              .then((v) => check(v, n)),
        ],
        [
          'get zlib: ioredis, value returned',
          () =>
            io
              .getBuffer('rawz')
              .then((r) => JSON.parse(inflateSync(r as Buffer).toString()))
              .then((v) => check(v, n)),
        ],
        ['get zlib: cachex', () => zcache.get('v').then((r) => check(r, n))],
        ['get lz4: cachex', () => lcache.get('v').then((r) => check(r, n))],
        ['set: raw node-redis', () => raw.set('raw', JSON.stringify(value))],
        ['set: ioredis', () => io.set('raw', JSON.stringify(value))],
        ['set: cachex', () => cache.set('v', value)],
        ['set zlib: raw node-redis', () => raw.set('rawz', deflateSync(JSON.stringify(value)))],
        ['set zlib: ioredis', () => io.set('rawz', deflateSync(JSON.stringify(value)))],
        ['set zlib: cachex', () => zcache.set('v', value)],
        ['set lz4: cachex', () => lcache.set('v', value)],
      ]
      const only = process.env.BENCH_CASES
      const chosen = only
        ? cases.filter(([name]) => only.split(',').some((o) => name.includes(o)))
        : cases
      // Warm up every path.
      for (const [, fn] of chosen) await run(Math.max(4, size.ops >> 2), size.inFlight, fn)
      const seconds = new Map<string, number[]>(chosen.map(([name]) => [name, []]))
      const cpus = new Map<string, number[]>(chosen.map(([name]) => [name, []]))
      for (let round = 0; round < ROUNDS; round++) {
        for (const [name, fn] of chosen) {
          const [s, cpu] = await run(size.ops, size.inFlight, fn)
          seconds.get(name)?.push(s)
          cpus.get(name)?.push(cpu)
        }
      }
      const mbs = (s: number) => (size.ops * bytes) / s / 1024 / 1024
      lines.push(
        `\n${size.label}: ${bytes.toLocaleString('en-US')} bytes of JSON (zlib ${zipped.length.toLocaleString('en-US')}), ${size.inFlight} in flight, ${size.ops} ops a round, ${ROUNDS} rounds`,
        '| case | ops/s (median) | MB/s of JSON | spread (ops/s) | vs raw node-redis | client CPU µs/op (median) | CPU vs raw |',
        '|---|---:|---:|---:|---:|---:|---:|',
      )
      const base = new Map<string, number>()
      const cpuBase = new Map<string, number>()
      const rates = new Map<string, { ops: number; lo: number; hi: number }>()
      for (const [name] of chosen) {
        const ss = seconds.get(name) as number[]
        const ops = size.ops / median(ss)
        const [kind] = name.split(':') as [string]
        const cpu = median(cpus.get(name) as number[])
        if (name.endsWith('raw node-redis')) {
          base.set(kind, ops)
          cpuBase.set(kind, cpu)
        }
        const ref = base.get(kind)
        const cpuRef = cpuBase.get(kind)
        const lo = size.ops / Math.max(...ss)
        const hi = size.ops / Math.min(...ss)
        rates.set(name, { ops, lo, hi })
        lines.push(
          `| ${name} | ${ops.toFixed(1)} | ${mbs(median(ss)).toFixed(0)} | ${lo.toFixed(1)}–${hi.toFixed(1)} | ${ref ? `${(ops / ref).toFixed(2)}×` : '—'} | ${cpu.toFixed(0)} | ${cpuRef ? `${(cpu / cpuRef).toFixed(2)}×` : '—'} |`,
        )
      }
      lines.push(aheadOfIoredis(rates))
      console.log(lines.splice(0).join('\n'))
    }
  } finally {
    await cache.close()
    await zcache.close()
    await lcache.close()
    io.disconnect()
    raw.destroy()
    await server.stop()
  }
}

const RESP_BLOB = 36 // RESP_TYPES.BLOB_STRING

/** Issue 14's large-value bar: cachex ahead of ioredis on get and set, with and without zlib. */
const AGAINST_IOREDIS: [string, string][] = [
  ['get: cachex', 'get: ioredis, value returned'],
  ['set: cachex', 'set: ioredis'],
  ['get zlib: cachex', 'get zlib: ioredis, value returned'],
  ['set zlib: cachex', 'set zlib: ioredis'],
]

/**
 * One line on the bar: each of cachex's rows against ioredis doing the same by hand (a get's
 * value returned through a promise, as cachex's is), by medians, with "within the spread" where
 * their rounds overlap. Pairs whose rows did not run are left out.
 */
function aheadOfIoredis(rates: Map<string, { ops: number; lo: number; hi: number }>): string {
  const parts: string[] = []
  for (const [mine, theirs] of AGAINST_IOREDIS) {
    const m = rates.get(mine)
    const t = rates.get(theirs)
    if (!m || !t) continue
    const overlap = t.lo <= m.hi && m.lo <= t.hi
    parts.push(
      `${mine.replace(': cachex', '')} ${(m.ops / t.ops).toFixed(2)}× ${m.ops >= t.ops ? 'ahead' : 'behind'}${overlap ? ' (within the spread)' : ''}`,
    )
  }
  return parts.length === 0
    ? ''
    : `\nAhead of ioredis (issue 14), cachex / ioredis: ${parts.join('; ')}`
}

await main()
