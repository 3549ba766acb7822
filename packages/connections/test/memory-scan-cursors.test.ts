// memory:// SCAN, SSCAN, HSCAN and ZSCAN cursors: they hold no copy of what they walk and are
// never forgotten, so a walk ends only where Redis's would (cursor 0), however many walks run at
// once or were given up, and returns every element present from its start to its end.
import v8 from 'node:v8'
import vm from 'node:vm'
import { memory } from '@cachex/connections'
import type { Connection } from '@cachex/core'
import { uniquePrefix } from '@cachex/test-utils'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

let mem: Connection

beforeEach(() => {
  mem = memory({ location: `memory://${uniquePrefix('scancursors')}` })
})

afterEach(async () => {
  await mem.close()
})

type Scan = 'SCAN' | 'SSCAN' | 'HSCAN' | 'ZSCAN'

/** The command of one step: `SCAN cursor COUNT n`, or `xSCAN key cursor COUNT n`. */
function stepArgs(scan: Scan, cursor: string, count: number): string[] {
  const head = scan === 'SCAN' ? ['SCAN', cursor] : [scan, 'coll', cursor]
  return [...head, 'COUNT', String(count)]
}

/** One step: the next cursor and the names (keys, members or fields) it returned. */
async function step(scan: Scan, cursor: string, count: number): Promise<[string, string[]]> {
  const reply = (await mem.command(stepArgs(scan, cursor, count))) as [unknown, unknown[]]
  const items = reply[1].map(String)
  // HSCAN and ZSCAN answer pairs (field, value / member, score).
  const names = scan === 'HSCAN' || scan === 'ZSCAN' ? items.filter((_, i) => i % 2 === 0) : items
  return [String(reply[0]), names]
}

/**
 * A whole walk: every name seen (repeats included) and how many steps it took. `between` runs after
 * each step but the last (the walk's own writes and reads).
 */
async function walk(
  scan: Scan,
  count: number,
  between?: (batch: string[], steps: number) => Promise<void>,
  from = '0',
): Promise<{ seen: string[]; steps: number }> {
  const seen: string[] = []
  const cursors = new Set<string>()
  let cursor = from
  let steps = 0
  do {
    const [next, names] = await step(scan, cursor, count)
    steps++
    seen.push(...names)
    // A cursor handed out twice in one walk would make it endless (scanNode refuses it).
    expect(cursors.has(next) && next !== '0').toBe(false)
    cursors.add(next)
    cursor = next
    if (cursor !== '0' && between !== undefined) await between(names, steps)
    if (steps > 100_000) throw new Error('the walk does not end')
  } while (cursor !== '0')
  return { seen, steps }
}

const names = (n: number, prefix = 'k') => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

/** Fills the keyspace (SCAN) or the collection `coll` (the others) with `items`. */
async function fill(scan: Scan, items: string[]): Promise<void> {
  for (let i = 0; i < items.length; i += 1000) {
    const chunk = items.slice(i, i + 1000)
    if (scan === 'SCAN') await mem.command(['MSET', ...chunk.flatMap((k) => [k, 'v'])])
    else await add(scan, chunk)
  }
}

async function add(scan: Exclude<Scan, 'SCAN'>, items: string[]): Promise<void> {
  if (items.length === 0) return
  if (scan === 'SSCAN') await mem.command(['SADD', 'coll', ...items])
  if (scan === 'HSCAN') await mem.command(['HSET', 'coll', ...items.flatMap((f) => [f, 'v'])])
  if (scan === 'ZSCAN')
    await mem.command(['ZADD', 'coll', ...items.flatMap((m, i) => [String(i), m])])
}

async function remove(scan: Scan, items: string[]): Promise<void> {
  if (items.length === 0) return
  const command = { SCAN: 'DEL', SSCAN: 'SREM', HSCAN: 'HDEL', ZSCAN: 'ZREM' }[scan]
  await mem.command(command === 'DEL' ? ['DEL', ...items] : [command, 'coll', ...items])
}

const sorted = (items: Iterable<string>) => [...items].sort()

/** `global.gc`, exposed for this file if node was not started with `--expose-gc`. */
function collector(): () => void {
  v8.setFlagsFromString('--expose-gc')
  return vm.runInNewContext('gc') as () => void
}

function heapAfterGc(gc: () => void): number {
  for (let i = 0; i < 3; i++) gc()
  return process.memoryUsage().heapUsed
}

describe.each<Scan>(['SCAN', 'SSCAN', 'HSCAN', 'ZSCAN'])('%s cursors', (scan) => {
  it('1,100 concurrent walks (COUNT 10) over 500 elements each return all 500', async () => {
    const all = names(500)
    await fill(scan, all)
    const walks = await Promise.all(Array.from({ length: 1100 }, () => walk(scan, 10)))
    const short = walks.filter((w) => new Set(w.seen).size !== 500).length
    expect(short).toBe(0)
    for (const w of walks) expect(sorted(new Set(w.seen))).toEqual(sorted(all))
  })

  it('a walk resumed after 2,000 walks were given up after their first batch returns everything', async () => {
    const all = names(20_000)
    await fill(scan, all)
    const [cursor, first] = await step(scan, '0', 10)
    expect(cursor).not.toBe('0')
    for (let i = 0; i < 2000; i++) await step(scan, '0', 10)
    const rest = await walk(scan, 10, undefined, cursor)
    expect(new Set([...first, ...rest.seen]).size).toBe(20_000)
  })

  it('2,000 walks given up after their first batch hold no copy of the 20,000 elements', async () => {
    const gc = collector()
    await fill(scan, names(20_000))
    await step(scan, '0', 10) // any index built once per keyspace or collection is counted here
    const before = heapAfterGc(gc)
    for (let i = 0; i < 2000; i++) await step(scan, '0', 10)
    const grown = heapAfterGc(gc) - before
    // A copy of the element list per cursor held 1,024 × 20,000 references (~160 MB).
    expect(grown).toBeLessThan(16 * 1024 * 1024)
  })

  it('elements deleted, added, rewritten and read during a walk: every one present throughout is returned, and the walk ends', async () => {
    const all = names(2000)
    await fill(scan, all)
    const deleted = new Set<string>()
    let added = 0
    const { seen } = await walk(scan, 10, async (batch, steps) => {
      // Delete some elements not yet returned and some already returned.
      const victims = [
        `k${(steps * 7) % 2000}`,
        `k${(steps * 13 + 1) % 2000}`,
        ...batch.slice(0, 1),
      ]
      for (const v of victims) if (v.startsWith('k')) deleted.add(v)
      await remove(scan, victims)
      // Add new elements, and delete then add back some.
      const fresh = names(3, `n${added}-`)
      added++
      if (scan === 'SCAN') {
        await mem.command(['MSET', ...fresh.flatMap((k) => [k, 'v'])])
        // Rewrite and read elements (SET replaces the entry; GET moves it in the LRU order).
        const kept = `k${(steps * 31 + 5) % 2000}`
        await mem.command(['SET', kept, 'rewritten'])
        await mem.command(['GET', `k${(steps * 17 + 3) % 2000}`])
        await mem.command(['EXPIRE', `k${(steps * 19 + 2) % 2000}`, '1000'])
      } else {
        await add(scan, fresh)
        const kept = `k${(steps * 31 + 5) % 2000}`
        if (!deleted.has(kept)) await add(scan, [kept]) // rewritten: HSET/ZADD of an existing one
      }
    })
    const present = all.filter((k) => !deleted.has(k))
    expect(present.length).toBeGreaterThan(1000)
    const got = new Set(seen)
    expect(present.filter((k) => !got.has(k))).toEqual([])
  })

  it('most elements deleted (some added back) during a walk: none that stayed is skipped', async () => {
    const all = names(6000)
    await fill(scan, all)
    const stays = (k: string) => Number(k.slice(1)) % 5 === 0
    const doomed = all.filter((k) => !stays(k))
    const { seen } = await walk(scan, 10, async (_batch, steps) => {
      // Deletes 4,800 elements over the first 48 steps, adding back a few of them each time.
      const victims = doomed.slice((steps - 1) * 100, steps * 100)
      await remove(scan, victims)
      if (scan === 'SCAN') {
        if (victims.length > 0)
          await mem.command(['MSET', ...victims.slice(0, 5).flatMap((k) => [k, 'v'])])
      } else await add(scan, victims.slice(0, 5))
    })
    const got = new Set(seen)
    expect(all.filter((k) => stays(k) && !got.has(k))).toEqual([])
  })

  it('reading every element as it is returned neither repeats nor loses any', async () => {
    const all = names(1000)
    await fill(scan, all)
    const read = async (batch: string[]) => {
      for (const name of batch) {
        if (scan === 'SCAN') await mem.command(['GET', name])
        if (scan === 'SSCAN') await mem.command(['SISMEMBER', 'coll', name])
        if (scan === 'HSCAN') await mem.command(['HGET', 'coll', name])
        if (scan === 'ZSCAN') await mem.command(['ZSCORE', 'coll', name])
      }
    }
    const { seen } = await walk(scan, 10, read)
    expect(seen).toHaveLength(1000)
    expect(sorted(seen)).toEqual(sorted(all))
  })

  it('a walk ends while elements are added faster than it goes', async () => {
    await fill(scan, names(1000))
    let round = 0
    const { seen, steps } = await walk(scan, 10, async () => {
      const fresh = names(50, `g${round++}-`)
      if (scan === 'SCAN') await mem.command(['MSET', ...fresh.flatMap((k) => [k, 'v'])])
      else await add(scan, fresh)
    })
    expect(new Set(seen.filter((k) => k.startsWith('k'))).size).toBe(1000)
    // 1,000 elements at 10 a step, plus at most a little of what was added on the way.
    expect(steps).toBeLessThan(200)
  })

  it('a cursor from a collection or keyspace that was emptied ends the walk', async () => {
    await fill(scan, names(1000))
    const [cursor] = await step(scan, '0', 10)
    await mem.command(scan === 'SCAN' ? ['FLUSHDB'] : ['DEL', 'coll'])
    await fill(scan, names(5, 'other'))
    const { seen } = await walk(scan, 10, undefined, cursor)
    // The new elements were added during the walk: it may or may not return them.
    for (const name of seen) expect(name.startsWith('other')).toBe(true)
  })
})

describe('SCAN cursor syntax', () => {
  it('takes any unsigned 64-bit cursor and refuses others with ERR invalid cursor', async () => {
    await fill('SCAN', names(20))
    for (const cursor of ['18446744073709551615', '12345678901', '7']) {
      const reply = (await mem.command(['SCAN', cursor])) as [unknown, unknown[]]
      expect(Array.isArray(reply[1])).toBe(true)
    }
    for (const cursor of ['18446744073709551616', '-1', 'x', '1.5', '']) {
      await expect(mem.command(['SCAN', cursor])).rejects.toThrow('ERR invalid cursor')
    }
  })

  it('small collections come back whole in one step, in their own order, as a listpack does', async () => {
    const text = (reply: unknown): unknown =>
      Array.isArray(reply) ? reply.map(text) : String(reply)
    await mem.command(['ZADD', 'coll', '3', 'c', '1', 'a', '2', 'b'])
    expect(text(await mem.command(['ZSCAN', 'coll', '0', 'COUNT', '1']))).toEqual([
      '0',
      ['a', '1', 'b', '2', 'c', '3'],
    ])
    await mem.command(['HSET', 'h', 'y', '1', 'x', '2'])
    expect(text(await mem.command(['HSCAN', 'h', '0', 'COUNT', '1']))).toEqual([
      '0',
      ['y', '1', 'x', '2'],
    ])
  })
})
