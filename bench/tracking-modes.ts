// `pnpm bench:tracking`: the two modes of RESP3 CLIENT TRACKING the local tier could use, measured
// on one private redis-server, to choose between them:
// - BCAST PREFIX <prefix>: the server pushes the name of every key written under the prefix, held
//   by this process or not; it keeps no per-key state.
// - default mode: the server remembers every key this connection read and pushes only those
//   (once per read); it keeps a table of keys × clients.
// A reader holds HOT keys (reads them once), then a writer sets WRITES keys under the prefix
// (the hot ones among them) with 100 in flight. Printed per mode: the writer's rate, the
// invalidations the reader received, the server's tracking table and memory; then the table and
// memory after the reader has read KEYS distinct keys (what default mode costs the server).
import { startRedis } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { IN_FLIGHT } from './_measure.ts'

const HOT = Number(process.env.TRACKING_HOT ?? 1_000)
const WRITES = Number(process.env.TRACKING_WRITES ?? 200_000)
const KEYS = Number(process.env.TRACKING_KEYS ?? 200_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)

type Mode = 'none' | 'bcast' | 'default'

function info(text: string, field: string): number {
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(text)
  return match === null ? Number.NaN : Number(match[1])
}

async function main() {
  const server = await startRedis()
  const writer = createClient({ url: server.url, commandOptions: { timeout: 0 } })
  writer.on('error', () => {})
  await writer.connect()
  try {
    const rows: string[] = []
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of ['none', 'bcast', 'default'] as Mode[]) {
        await writer.flushDb()
        let invalidations = 0
        const reader = createClient({ url: server.url, RESP: 3, emitInvalidate: true })
        reader.on('error', () => {})
        reader.on('invalidate', () => {
          invalidations++
        })
        await reader.connect()
        await reader.sendCommand(['CLIENT', 'TRACKING', 'OFF'])
        if (mode === 'bcast') {
          await reader.sendCommand(['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'bench:'])
        } else if (mode === 'default') {
          await reader.sendCommand(['CLIENT', 'TRACKING', 'ON'])
        }
        for (let i = 0; i < HOT; i++) await writer.set(`bench:${i}`, 'v')
        await Promise.all(Array.from({ length: HOT }, (_, i) => reader.get(`bench:${i}`)))
        const before = await writer.info('memory')
        let next = 0
        const t0 = performance.now()
        await Promise.all(
          Array.from({ length: IN_FLIGHT }, async () => {
            while (next < WRITES) {
              const i = next++
              await writer.set(`bench:${(i * 7919) % WRITES}`, 'w')
            }
          }),
        )
        const rate = WRITES / ((performance.now() - t0) / 1000)
        await reader.ping() // every push sent before the PING's reply has arrived
        const stats = await writer.info('stats')
        rows.push(
          `| ${round + 1} | ${mode} | ${Math.round(rate).toLocaleString('en-US')} | ${invalidations.toLocaleString('en-US')} | ${info(stats, 'tracking_total_keys')} | ${info(before, 'used_memory')} |`,
        )
        reader.destroy()
      }
    }
    console.log(
      `\n${HOT} hot keys held by the reader, ${WRITES.toLocaleString('en-US')} writes under the prefix (${IN_FLIGHT} in flight)\n`,
    )
    console.log(
      '| round | tracking | writer SET/s | invalidations received | server tracking_total_keys | used_memory |',
    )
    console.log('|---|---|---:|---:|---:|---:|')
    for (const row of rows) console.log(row)

    // What default mode costs the server: a table entry per key read, per client.
    for (const mode of ['bcast', 'default'] as const) {
      await writer.flushDb()
      const reader = createClient({ url: server.url, RESP: 3, emitInvalidate: true })
      reader.on('error', () => {})
      await reader.connect()
      await reader.sendCommand(['CLIENT', 'TRACKING', 'OFF'])
      await reader.sendCommand(
        mode === 'bcast'
          ? ['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'bench:']
          : ['CLIENT', 'TRACKING', 'ON'],
      )
      const memory0 = info(await writer.info('memory'), 'used_memory')
      for (let i = 0; i < KEYS; i += 1_000) {
        await Promise.all(Array.from({ length: 1_000 }, (_, j) => reader.get(`bench:${i + j}`)))
      }
      const memory1 = info(await writer.info('memory'), 'used_memory')
      const keys = info(await writer.info('stats'), 'tracking_total_keys')
      console.log(
        `${mode}: after reading ${KEYS.toLocaleString('en-US')} distinct (missing) keys: tracking_total_keys ${keys}, used_memory +${((memory1 - memory0) / 1e6).toFixed(1)} MB`,
      )
      reader.destroy()
    }
  } finally {
    writer.destroy()
    await server.stop()
  }
}

await main()
