// The pieces of a cluster walk's rounds (`_cluster-view.ts`): the slots a `CLUSTER NODES` line
// serves, the order a round walks its nodes in (each migration's source before its target), and
// which nodes a round may have missed keys on and walks again.
import { describe, expect, it } from 'vitest'
import type { NodeHandle } from '../src/_cluster-nodes.ts'
import { missed, steps, type View } from '../src/_cluster-view.ts'
import { parseClusterNodes } from '../src/_nodes-reply.ts'

const ID = 'a'.repeat(40)

function node(port: number): NodeHandle {
  return { address: `127.0.0.1:${port}`, host: '127.0.0.1', port } as NodeHandle
}

const [A, B, C] = [node(7000), node(7001), node(7002)] as [NodeHandle, NodeHandle, NodeHandle]

/** A view where A serves 0-99, B 100-199, C 200-299, with `change` applied. */
function view(change: (owners: Array<NodeHandle | undefined>) => void = () => undefined): View {
  const owners = new Array<NodeHandle | undefined>(16_384)
  for (let slot = 0; slot < 300; slot++) owners[slot] = [A, B, C][Math.floor(slot / 100)]
  change(owners)
  return { owners, moves: [] }
}

describe('parseClusterNodes: the slots a node serves', () => {
  it('reads its ranges and single slots; ranges past the keyspace give none', () => {
    const [line] = parseClusterNodes(
      `${ID} 127.0.0.1:7000@1 myself,master - 0 0 1 connected 0-10 42 100-200`,
    )
    expect(line?.ranges).toEqual([
      [0, 10],
      [42, 42],
      [100, 200],
    ])
    const [bad] = parseClusterNodes(
      `${ID} 127.0.0.1:7000@1 master - 0 0 1 connected 0-16383 0-16383`,
    )
    expect(bad?.ranges).toEqual([])
    const [odd] = parseClusterNodes(`${ID} 127.0.0.1:7000@1 master - 0 0 1 connected 9-3 x 16384 7`)
    expect(odd?.ranges).toEqual([[7, 7]])
  })
})

describe('steps', () => {
  it('walks a migration’s source before its target, the rest in the given order', () => {
    const moves = [{ slot: 1, from: C, to: A }]
    expect(steps([A, B, C], moves, true)).toEqual([[B], [C], [A]])
    expect(steps([A, B, C], moves, false)).toEqual([[B, C], [A]])
    expect(steps([A, B, C], [], false)).toEqual([[A, B, C]])
  })

  it('cuts a cycle of migrations rather than loop', () => {
    const moves = [
      { slot: 1, from: A, to: B },
      { slot: 2, from: B, to: A },
    ]
    expect(steps([A, B, C], moves, true)).toEqual([[C], [A], [B]])
  })
})

describe('missed', () => {
  const walks = new Map([
    [A, 1],
    [B, 2],
    [C, 3],
  ])

  it('nothing when no slot moved', () => {
    expect(missed(view(), view(), walks, undefined)).toEqual([])
  })

  it('the target of a slot moved from a node walked later: walked again', () => {
    const after = view((owners) => {
      owners[250] = A
    })
    expect(missed(view(), after, walks, undefined)).toEqual([A])
    // Moved the other way (from A, walked first, to C): every key was seen on A.
    const forth = view((owners) => {
      owners[50] = C
    })
    expect(missed(view(), forth, walks, undefined)).toEqual([])
  })

  it('a migration from a node walked later, and a new owner never walked', () => {
    const D = node(7003)
    const after = view((owners) => {
      owners[150] = D
    })
    after.moves.push({ slot: 260, from: C, to: B })
    expect(missed(view(), after, walks, undefined)).toEqual([D, B])
  })

  it('a pinned walk looks at its own slot only', () => {
    const after = view((owners) => {
      owners[250] = A
    })
    expect(missed(view(), after, walks, 10)).toEqual([])
    expect(missed(view(), after, walks, 250)).toEqual([A])
  })
})
