// The `CLUSTER NODES` reader behind a cluster walk's extra nodes (`_cluster-walk.ts`): what it
// takes from a real reply, and that a reply it cannot use (garbage, huge, hostile) gives nothing
// rather than an error or a slow parse.
import { describe, expect, it } from 'vitest'
import { parseClusterNodes } from '../src/_cluster-walk.ts'

const ID_A = 'a'.repeat(40)
const ID_B = 'b'.repeat(40)
const ID_C = 'c'.repeat(40)
const ID_D = 'd'.repeat(40)

const REPLY = [
  `${ID_A} 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460 [42->-${ID_B}]`,
  `${ID_B} 127.0.0.1:7001@17001,host-b master - 0 1 2 connected 5461-10922 [42-<-${ID_A}]`,
  `${ID_C} 127.0.0.1:7002@17002 master,fail - 0 1 3 disconnected 10923-16383`,
  `${ID_D} 127.0.0.1:7003@17003 master - 0 1 4 connected`,
  `${'e'.repeat(40)} 127.0.0.1:7004@17004 slave ${ID_A} 0 1 1 connected`,
  `${'f'.repeat(40)} :0@0 master,noaddr - 0 1 5 disconnected`,
  '',
].join('\n')

describe('parseClusterNodes', () => {
  it('reads each node: address, primary and usable, a slot it serves, its own migrations', () => {
    const lines = parseClusterNodes(REPLY)
    expect(lines.map((l) => [l.address, l.usable, l.ownedSlot, l.myself])).toEqual([
      ['127.0.0.1:7000', true, 0, true],
      ['127.0.0.1:7001', true, 5461, false],
      ['127.0.0.1:7002', false, 10923, false],
      ['127.0.0.1:7003', true, undefined, false],
      ['127.0.0.1:7004', false, undefined, false],
      [':0', false, undefined, false],
    ])
    expect([...(lines[0]?.migrating ?? [])]).toEqual([[42, ID_B]])
    // An importing marker is not a migration out, nor a slot served.
    expect(lines[1]?.migrating.size).toBe(0)
  })

  it('a Buffer reply reads as its text; anything else, or a reply past 8 MiB, gives no node', () => {
    expect(parseClusterNodes(Buffer.from(REPLY))).toHaveLength(6)
    expect(parseClusterNodes(42)).toEqual([])
    expect(parseClusterNodes(null)).toEqual([])
    expect(parseClusterNodes(['a', 'b'])).toEqual([])
    expect(parseClusterNodes('x'.repeat(8 * 1024 * 1024 + 1))).toEqual([])
  })

  it('lines that are not node lines are skipped, and a hostile reply is read in linear time', () => {
    expect(parseClusterNodes('garbage\n\n1 2 3\n')).toEqual([])
    // 50,000 short lines (only the first 10,000 are read) and a line of 1,000,000 ranges.
    const many = `${ID_D} 127.0.0.1:7003@17003 master - 0 1 4 connected\n`.repeat(50_000)
    expect(parseClusterNodes(many)).toHaveLength(10_000)
    const ranges = `${ID_A} 127.0.0.1:7000@1 master - 0 1 1 connected ${'[1->-zz '.repeat(1_000_000)}`
    const started = performance.now()
    const [line] = parseClusterNodes(ranges)
    expect(line?.migrating.size).toBe(0)
    // Only to prove it ends: a quadratic reader would take minutes here.
    expect(performance.now() - started).toBeLessThan(20_000)
  })
})
