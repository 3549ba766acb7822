// `tableChanged` runs on every refresh of a cluster's slot map: comparing two equal maps of one
// primary with 400 replicas must stay cheap (it was quadratic in the replicas, per slot).
import { expect, it } from 'vitest'
import type { NodeHandle } from '../src/_cluster-nodes.ts'
import { buildTable, type Range, tableChanged } from '../src/_slot-map.ts'

const handles = new Map<string, NodeHandle>()
function handle(address: string): NodeHandle {
  let known = handles.get(address)
  if (known === undefined) {
    known = { address } as NodeHandle
    handles.set(address, known)
  }
  return known
}

const replicas = Array.from({ length: 400 }, (_, i) => ({
  host: `10.0.${i >> 8}.${i & 255}`,
  port: 7001,
}))
const master = { host: '127.0.0.1', port: 7000 }

it('two equal maps with 400 replicas compare in well under a second', () => {
  const ranges: Range[] = [{ from: 0, to: 16383, master, replicas }]
  const a = buildTable(ranges, handle, true)
  const b = buildTable(ranges, handle, true)
  const started = performance.now()
  expect(tableChanged(a.table, b.table)).toBe(false)
  // Quadratic, it took 500+ ms; linear, under 10 ms.
  expect(performance.now() - started).toBeLessThan(200)
})

it('a change of replicas, of their order only, or of a slot is seen', () => {
  const base = buildTable([{ from: 0, to: 16383, master, replicas }], handle, true)
  const fewer = buildTable(
    [{ from: 0, to: 16383, master, replicas: replicas.slice(1) }],
    handle,
    true,
  )
  const other = buildTable(
    [
      {
        from: 0,
        to: 16383,
        master,
        replicas: [...replicas.slice(1), { host: '10.9.9.9', port: 1 }],
      },
    ],
    handle,
    true,
  )
  const reordered = buildTable(
    [{ from: 0, to: 16383, master, replicas: [...replicas].reverse() }],
    handle,
    true,
  )
  const split = buildTable(
    [
      { from: 0, to: 100, master, replicas },
      { from: 101, to: 16383, master: { host: '127.0.0.1', port: 7002 }, replicas },
    ],
    handle,
    true,
  )
  const duplicated = buildTable(
    [
      {
        from: 0,
        to: 16383,
        master,
        replicas: [...replicas.slice(1), replicas[2] as (typeof replicas)[0]],
      },
    ],
    handle,
    true,
  )
  expect(tableChanged(base.table, fewer.table)).toBe(true)
  expect(tableChanged(base.table, other.table)).toBe(true)
  expect(tableChanged(base.table, reordered.table)).toBe(false)
  expect(tableChanged(base.table, split.table)).toBe(true)
  expect(tableChanged(base.table, duplicated.table)).toBe(true)
  expect(tableChanged([], base.table)).toBe(true)
})
