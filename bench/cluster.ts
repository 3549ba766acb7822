// cachex against raw node-redis on a local 3-primary Redis Cluster: getMany / setMany of 100 keys
// spread over the slots, and small get / set, with 100 operations in flight.
//
// The raw baseline is what a careful user writes by hand: a node-redis 6 cluster with the
// per-command timeout off (`commandOptions: { timeout: 0 }`) and JSON around each value, using
// `cluster.mGet` / `cluster.mSet`, which node-redis 6 splits by slot itself (one command per slot,
// replies put back in key order). cachex runs with its defaults, hang protection included. Each
// case alternates raw and cachex rounds and keeps the best round of each.
//
// Alone, on the build (as `pnpm bench` measures it): pnpm build && node --import tsx -e "import('./bench/cluster.ts').then(m => m.runClusterBench())"
import { createCache, keySlot } from '@cachex/redis'
import { startCluster } from '@cachex/test-utils'
import { createCluster } from '@redis/client'
import { IN_FLIGHT, throughput } from './_measure.ts'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)

/** One measured case: operations per second of raw node-redis and of cachex. */
export interface ClusterBenchRow {
  name: string
  raw: number
  cachex: number
}

/** Starts a cluster, runs the cases, prints a table and returns the rows. */
export async function runClusterBench(): Promise<ClusterBenchRow[]> {
  const cluster = await startCluster({ primaries: 3, replicasPerPrimary: 1 })
  const raw = createCluster({
    rootNodes: cluster.seeds.map((url) => ({ url })),
    commandOptions: { timeout: 0 },
  })
  raw.on('error', () => {})
  await raw.connect()
  const cache = createCache({
    client: 'cluster',
    location: [...cluster.seeds],
    keyPrefix: 'bench',
    timeout: null,
  })
  const rows: ClusterBenchRow[] = []
  try {
    const value = { id: 12345, name: 'cachex benchmark value', tags: ['a', 'b', 'c'], ok: true }
    const text = JSON.stringify(value)
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`)
    const rawKeys = keys.map((k) => `bench:raw:${k}`)
    const entries = Object.fromEntries(keys.map((k) => [k, value]))
    await raw.mSet(rawKeys.map((k) => [k, text] as [string, string]))
    await cache.setMany(entries)
    const slots = new Set(keys.map((k) => keySlot(cache.makeKey(k))))
    console.log(
      `3 primaries + 3 replicas on loopback; 100 keys over ${slots.size} slots; ${Buffer.byteLength(text)} bytes of JSON per value; ${IN_FLIGHT} operations in flight`,
    )

    rows.push(
      await compare('getMany 100 keys', 3_000, {
        raw: () => raw.mGet(rawKeys).then((r) => r.map((x) => (x === null ? null : JSON.parse(x)))),
        cachex: () => cache.getMany(keys),
      }),
    )
    rows.push(
      await compare('setMany 100 keys', 3_000, {
        raw: () => raw.mSet(rawKeys.map((k) => [k, JSON.stringify(value)] as [string, string])),
        cachex: () => cache.setMany(entries),
      }),
    )
    rows.push(
      await compare('get, 100 in flight', 50_000, {
        raw: () => raw.get('bench:raw:k1').then((r) => JSON.parse(r as string)),
        cachex: () => cache.get('k1'),
      }),
    )
    rows.push(
      await compare('set, 100 in flight', 50_000, {
        raw: () => raw.set('bench:raw:k1', JSON.stringify(value)),
        cachex: () => cache.set('k1', value),
      }),
    )
    print(rows)
    return rows
  } finally {
    await cache.close()
    raw.destroy()
    await cluster.stop()
  }
}

async function compare(
  name: string,
  ops: number,
  fns: { raw: () => Promise<unknown>; cachex: () => Promise<unknown> },
): Promise<ClusterBenchRow> {
  // Warm up both paths (JIT, connections) before measuring.
  await throughput(Math.ceil(ops / 3), fns.raw)
  await throughput(Math.ceil(ops / 3), fns.cachex)
  let raw = 0
  let cachex = 0
  for (let round = 0; round < ROUNDS; round++) {
    raw = Math.max(raw, await throughput(ops, fns.raw))
    cachex = Math.max(cachex, await throughput(ops, fns.cachex))
  }
  return { name, raw, cachex }
}

function print(rows: ClusterBenchRow[]) {
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
  console.log('')
  console.log('| cluster case | raw node-redis | cachex | cachex / raw |')
  console.log('|---|---:|---:|---:|')
  for (const row of rows) {
    console.log(
      `| ${row.name} | ${fmt(row.raw)} ops/s | ${fmt(row.cachex)} ops/s | ${(row.cachex / row.raw).toFixed(2)}× |`,
    )
  }
  console.log('')
}
