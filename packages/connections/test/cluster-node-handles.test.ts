// The handles of cluster nodes cachex keeps: one for every address ever named (CLUSTER SLOTS,
// MOVED, ASK) used to be kept for ever, and `bySocket` scans them all. Those out of the map with
// no client open and no recent failure are forgotten where idle clients are closed.
import { expect, it } from 'vitest'
import { NodeClients, type NodeRedisNodeClientLike } from '../src/_cluster-nodes.ts'

function nodeClients(): NodeClients {
  return new NodeClients({
    cluster: {} as never,
    nodeDefaults: undefined,
    nodeAddressMap: undefined,
    readFromReplicas: false,
    closeTimeoutMs: 1000,
    connectTimeoutMs: 1000,
    where: 'the test cluster',
    onTrouble: () => undefined,
    onReady: () => undefined,
    onClientChange: () => undefined,
  })
}

it('forgets the nodes out of the map with no client open', () => {
  const nodes = nodeClients()
  const inMap = nodes.handle('127.0.0.1:7000')
  // Named once by a redirection, never connected to (or their clients closed since).
  for (let i = 0; i < 1000; i++) nodes.handle(`10.0.${i >> 8}.${i & 255}:7001`)
  // node-redis's own client, open: kept while it is.
  const open = nodes.handle('127.0.0.1:7001')
  nodes.set(open, {
    isOpen: true,
    sendCommand: async () => null,
  } as unknown as NodeRedisNodeClientLike)
  // Failed a moment ago: what that taught (down, quarantined) is kept a while.
  const failed = nodes.handle('127.0.0.1:7002')
  failed.down = true
  failed.failedAt = performance.now()

  nodes.closeIdle(new Set([inMap]), 60_000)

  expect([...nodes.all()].map((node) => node.address).sort()).toEqual([
    '127.0.0.1:7000',
    '127.0.0.1:7001',
    '127.0.0.1:7002',
  ])
  expect(nodes.bySocket({ host: '10.0.0.5', port: 7001 })).toBeUndefined()
  // Named again: a new handle.
  expect(nodes.handle('10.0.0.5:7001').down).toBe(false)
  expect(nodes.handle('127.0.0.1:7000')).toBe(inMap)
})
