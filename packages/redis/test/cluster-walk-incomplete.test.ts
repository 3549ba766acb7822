// A walk whose nodes keep telling of migrations it cannot get ahead of (here two primaries each
// claiming, on their own line of CLUSTER NODES, to migrate a slot to the other, round after
// round): after its last round the walk fails with a ConnectionError saying it is incomplete,
// rather than resolve as if it had seen or deleted every key.
import { ConnectionError } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { expect, it } from 'vitest'
import { cmd } from './_cluster-proxies.ts'
import { type HoldTamper, useHoldCluster } from './_hold-proxy.ts'

const env = useHoldCluster(0)

/**
 * The CLUSTER NODES reply `reply` (a RESP2 bulk string or a RESP3 verbatim one) with a migration
 * of its first slot to `to` added to its own line; anything else as it is.
 */
function claimMigration(reply: Buffer, to: string): string | undefined {
  const text = reply.toString('utf8')
  const head = text.indexOf('\r\n')
  if (text[0] !== '$' && text[0] !== '=') return undefined
  const verbatim = text[0] === '='
  const body = text.slice(head + 2 + (verbatim ? 4 : 0), text.length - 2)
  const lines = body.split('\n').map((line) => {
    const fields = line.split(' ')
    if (!fields[2]?.includes('myself') || fields[8] === undefined) return line
    return `${line} [${fields[8].split('-')[0]}->-${to}]`
  })
  const out = (verbatim ? 'txt:' : '') + lines.join('\n')
  return `${verbatim ? '=' : '$'}${Buffer.byteLength(out)}\r\n${out}\r\n`
}

it('keys() and deletePattern() while two primaries migrate to each other forever: a typed failure', async () => {
  const cache = env.newCache({ keyPrefix: uniquePrefix('inc') })
  const names = Array.from({ length: 50 }, (_, i) => `k${i}`)
  await cache.setMany(Object.fromEntries(names.map((k) => [k, 1])), null)
  const [a, b] = await env.cluster.primaries()
  if (a === undefined || b === undefined) throw new Error('fewer than 2 primaries')
  let scans = 0
  const tamper: HoldTamper = (args, reply, node) => {
    if (cmd(args) === 'SCAN') scans++
    if (cmd(args) !== 'CLUSTER NODES') return undefined
    if (node === a.port) return claimMigration(reply, b.id)
    if (node === b.port) return claimMigration(reply, a.id)
    return undefined
  }
  env.tamper = tamper
  try {
    const keys = cache.keys('*')
    await expect(keys).rejects.toBeInstanceOf(ConnectionError)
    await expect(keys).rejects.toThrow(/incomplete/)
    // The first round, then 3 more (of a node each, at least).
    expect(scans).toBeGreaterThanOrEqual(6)
    // Once the nodes stop telling of the migrations, the walk completes.
    env.tamper = undefined
    expect((await cache.keys('*')).sort()).toEqual([...names].sort())
    env.tamper = tamper
    await expect(cache.deletePattern('*')).rejects.toThrow(/incomplete/)
  } finally {
    env.tamper = undefined
  }
}, 60_000)
