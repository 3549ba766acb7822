// One child process of `pnpm bench:peers` (bench/peers.ts): connects one library, writes the
// values the workloads read, then runs each order of the parent and reports. Every result is
// checked: a miss, a wrong value or an error is counted apart and left out of the rate.
import { type Adapter, connect, type Library } from './_peers-libs.ts'

/** The workloads of the table and of the plots. */
export type Workload =
  | 'get'
  | 'set'
  | 'sequential get'
  | 'getMany 100'
  | 'getMany 100 (other keys)'
  | 'setMany 100'
  | 'get 100 KB'
  | 'incr'
  | 'size'
  | 'batch'
  | 'in flight'

/** Parent → child. `ms`: how long to run; `calls`: run exactly that many instead (not timed). */
export type Order =
  | {
      kind: 'run'
      workload: Workload
      ms: number
      inFlight: number
      param?: number
      /** Write the keys the workload reads first (values may have expired since the last time). */
      prepare?: boolean
    }
  | { kind: 'count'; workload: Workload; calls: number; inFlight: number; param?: number }
  | { kind: 'exit' }

/** Child → parent. */
export type Report =
  | { kind: 'ready'; has: Workload[] }
  | { kind: 'failed'; message: string }
  | {
      kind: 'result'
      /** Calls that returned the right value. */
      ok: number
      /** Calls that resolved a miss or a wrong value. */
      invalid: number
      /** Calls that threw. */
      errors: number
      /** The first error thrown, if any. */
      firstError?: string
      seconds: number
      /** Sequential latency percentiles, µs (sequential get only). */
      p50?: number
      p99?: number
      /**
       * Minor page faults of the child during the run: memory handed back to the kernel and
       * taken again (see the sweeps, where a 100 KB point can drop for it).
       */
      faults: number
    }

/** The ~100-byte value of the small workloads. */
export const SMALL = {
  id: 12345,
  name: 'cachex benchmark value',
  tags: ['a', 'b', 'c'],
  ok: true,
  score: 9.5,
}
const okSmall = (v: unknown) => {
  const o = v as typeof SMALL | null | undefined
  return o?.id === 12345 && o.name === SMALL.name && o.tags?.length === 3
}

/** A value of about `bytes` bytes of JSON: rows of ~40 bytes. Returns it and its row count. */
export function sized(bytes: number): { rows: { i: number; name: string; v: number }[] } {
  const rows: { i: number; name: string; v: number }[] = []
  let size = 10
  for (let i = 0; size < bytes; i++) {
    const row = { i, name: `row number ${i}`, v: i * 1.5 }
    rows.push(row)
    size += JSON.stringify(row).length + 1
  }
  return { rows }
}
const BIG = sized(100 * 1024)
const okRows = (n: number) => (v: unknown) =>
  (v as { rows?: unknown[] } | null | undefined)?.rows?.length === n

const M = Array.from({ length: 100 }, (_, i) => `m${i}`)
const N = Array.from({ length: 100 }, (_, i) => `n${i}`)

async function setAll(lib: Adapter, keys: string[], value: unknown) {
  if (lib.setMany) {
    for (let i = 0; i < keys.length; i += 1000)
      await lib.setMany(keys.slice(i, i + 1000).map((k) => [k, value] as [string, unknown]))
  } else {
    for (let i = 0; i < keys.length; i += 100)
      await Promise.all(keys.slice(i, i + 100).map((k) => lib.set(k, value)))
  }
}

interface Counts {
  firstError?: string
  ok: number
  invalid: number
  errors: number
  seconds: number
  latencies: number[]
}

/**
 * Keeps `inFlight` calls of `call` going until `ms` have passed (or `limit` calls started);
 * `call` resolves whether the result was right.
 */
async function drive(
  call: () => Promise<boolean>,
  inFlight: number,
  ms: number,
  limit = Number.POSITIVE_INFINITY,
  sample = false,
): Promise<Counts> {
  const counts: Counts = { ok: 0, invalid: 0, errors: 0, seconds: 0, latencies: [] }
  let started = 0
  const t0 = performance.now()
  const end = t0 + ms
  const worker = async () => {
    while (started < limit && performance.now() < end) {
      started++
      const c0 = sample ? performance.now() : 0
      try {
        if (await call()) counts.ok++
        else counts.invalid++
      } catch (error) {
        counts.errors++
        counts.firstError ??= String((error as Error)?.message ?? error).slice(0, 300)
      }
      if (sample) counts.latencies.push((performance.now() - c0) * 1000)
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  counts.seconds = (performance.now() - t0) / 1000
  return counts
}

const prepared = new Set<string>()
const sizedValues = new Map<number, unknown>()

/** Writes the keys `name` reads, afresh (cachex's default timeout expires them after 300 s). */
async function write(lib: Adapter, name: Workload, param: number): Promise<void> {
  if (name === 'get' || name === 'sequential get' || name === 'in flight')
    await lib.set('small', SMALL)
  if (name === 'getMany 100' || name === 'getMany 100 (other keys)') await setAll(lib, M, SMALL)
  if (name === 'get 100 KB') await lib.set('big', BIG)
  if (name === 'incr' && lib.incr) await lib.set('counter', 0)
  if (name === 'size') {
    const value = sizedValues.get(param)
    if (value) await lib.set(`s${param}`, value)
  }
  if (name === 'batch' && prepared.has(`b${param}`) && lib.setMany)
    await setAll(
      lib,
      Array.from({ length: param }, (_, i) => `b${i}`),
      SMALL,
    )
}

/** The call of one workload, and a check to run after the calls (for writes: read back). */
async function workload(
  lib: Adapter,
  name: Workload,
  param = 0,
  prepare = false,
): Promise<{ call: () => Promise<boolean>; after?: () => Promise<boolean> } | undefined> {
  if (prepare) await write(lib, name, param)
  switch (name) {
    case 'get':
    case 'sequential get':
    case 'in flight':
      return { call: async () => okSmall(await lib.get('small')) }
    case 'set':
      return {
        call: async () => {
          await lib.set('w', SMALL)
          return true
        },
        after: async () => okSmall(await lib.get('w')),
      }
    case 'getMany 100': {
      const { getMany, found } = lib
      if (!getMany || !found) return undefined
      return { call: async () => found(await getMany(M), M, okSmall) === 100 }
    }
    case 'getMany 100 (other keys)': {
      // The keys of M in another order each call (M rotated by one more): a library that shares
      // one MGET among calls of the same keys (cachex) has nothing to share.
      const { getMany, found } = lib
      if (!getMany || !found) return undefined
      const lists = M.map((_, j) => M.map((_, i) => M[(i + j) % M.length] as string))
      let next = 0
      return {
        call: async () => {
          const list = lists[next++ % lists.length] as string[]
          return found(await getMany(list), list, okSmall) === 100
        },
      }
    }
    case 'setMany 100': {
      const { setMany, getMany, found } = lib
      if (!setMany) return undefined
      const entries = N.map((k) => [k, SMALL] as [string, unknown])
      return {
        call: async () => {
          await setMany(entries)
          return true
        },
        after: async () =>
          getMany && found
            ? found(await getMany(N), N, okSmall) === 100
            : (await Promise.all(N.map((k) => lib.get(k)))).every(okSmall),
      }
    }
    case 'get 100 KB': {
      const ok = okRows(BIG.rows.length)
      return { call: async () => ok(await lib.get('big')) }
    }
    case 'incr': {
      const { incr } = lib
      if (!incr) return undefined
      return {
        call: async () => {
          const n = Number(await incr('counter'))
          return Number.isInteger(n) && n > 0
        },
      }
    }
    case 'size': {
      const value = sized(param)
      const key = `s${param}`
      if (!prepared.has(key)) await lib.set(key, value)
      prepared.add(key)
      sizedValues.set(param, value)
      const ok = okRows(value.rows.length)
      return { call: async () => ok(await lib.get(key)) }
    }
    case 'batch': {
      const { getMany, found } = lib
      if (!getMany || !found) return undefined
      const keys = Array.from({ length: param }, (_, i) => `b${i}`)
      if (!prepared.has(`b${param}`)) await setAll(lib, keys, SMALL)
      prepared.add(`b${param}`)
      return { call: async () => found(await getMany(keys), keys, okSmall) === param }
    }
  }
}

const ALL: Workload[] = [
  'get',
  'set',
  'sequential get',
  'getMany 100',
  'getMany 100 (other keys)',
  'setMany 100',
  'get 100 KB',
  'incr',
  'size',
  'batch',
  'in flight',
]

async function main(library: Library, url: string) {
  const send = (report: Report) => process.send?.(report)
  let lib: Adapter
  try {
    lib = await connect(library, url)
    await lib.set('small', SMALL)
    await lib.set('big', BIG)
    await setAll(lib, M, SMALL)
    if (lib.incr) await lib.set('counter', 0)
    await lib.get('small')
  } catch (error) {
    send({ kind: 'failed', message: String((error as Error)?.stack ?? error) })
    return
  }
  const has: Workload[] = []
  for (const w of ALL)
    if (w === 'size' || w === 'batch' ? true : await workload(lib, w, 1)) has.push(w)
  if (!lib.getMany) has.splice(has.indexOf('batch'), 1)

  process.on('message', async (order: Order) => {
    if (order.kind === 'exit') {
      await lib.close().catch(() => {})
      process.disconnect()
      return
    }
    const w = await workload(
      lib,
      order.workload,
      order.param,
      order.kind === 'run' && order.prepare === true,
    )
    if (!w) {
      send({ kind: 'failed', message: `${library} has no ${order.workload}` })
      return
    }
    const sequential = order.workload === 'sequential get'
    const faultsBefore = process.resourceUsage().minorPageFault
    const counts =
      order.kind === 'count'
        ? await drive(w.call, order.inFlight, Number.POSITIVE_INFINITY, order.calls)
        : await drive(w.call, order.inFlight, order.ms, Number.POSITIVE_INFINITY, sequential)
    if (order.kind === 'run' && w.after && !(await w.after().catch(() => false))) {
      // A write that cannot be read back counts every call of the round as wrong.
      counts.invalid += counts.ok
      counts.ok = 0
    }
    const { latencies, ...rest } = counts
    let p50: number | undefined
    let p99: number | undefined
    if (sequential && latencies.length > 0) {
      latencies.sort((a, b) => a - b)
      const at = (p: number) =>
        latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] as number
      p50 = at(0.5)
      p99 = at(0.99)
    }
    const faults = process.resourceUsage().minorPageFault - faultsBefore
    send({ kind: 'result', ...rest, p50, p99, faults })
  })
  send({ kind: 'ready', has })
}

const [library, url] = process.argv.slice(2)
await main(library as Library, url as string)
