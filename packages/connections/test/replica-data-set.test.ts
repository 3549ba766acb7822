// A listed read replica re-pointed (`REPLICAOF`) at another primary stays `role:slave` with
// `master_link_status:up`, but holds another data set: it must leave the read rotation (its
// `master_replid` is not the configured primary's), and come back once it replicates the
// configured primary again.
import type { Connection } from '@cachex/core'
import {
  commandCalls,
  delay,
  type RedisServer,
  type ReplicaSet,
  replicated,
  replyText,
  startRedis,
  startReplicaSet,
  trackUnhandledRejections,
  uniquePrefix,
} from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { replicaState, verdict } from '../src/_rotation.ts'
import { replica } from '../src/index.ts'

const newClient = (url: string) => createClient({ url })
type Raw = ReturnType<typeof newClient>

let set: ReplicaSet
let other: RedisServer
const opened: Connection[] = []
const raws: Raw[] = []
let unhandled: () => unknown[]

beforeAll(async () => {
  ;[set, other] = await Promise.all([startReplicaSet({ replicas: 2 }), startRedis()])
})

beforeEach(() => {
  unhandled = trackUnhandledRejections()
})

afterEach(async () => {
  await delay(20)
  expect(unhandled()).toEqual([])
})

afterAll(async () => {
  for (const c of opened.splice(0)) await c.close()
  for (const r of raws.splice(0)) r.destroy()
  await set?.stop()
  await other?.stop()
})

async function raw(server: RedisServer): Promise<Raw> {
  const client = newClient(server.url)
  client.on('error', () => {})
  await client.connect()
  raws.push(client)
  return client
}

async function field(client: Raw, name: string): Promise<string> {
  const text = String(await client.sendCommand(['INFO', 'replication']))
  return new RegExp(`^${name}:(.*)$`, 'm').exec(text)?.[1]?.trim() ?? ''
}

async function until(fn: () => Promise<boolean>, ms: number): Promise<void> {
  const end = performance.now() + ms
  while (!(await fn())) {
    if (performance.now() > end) throw new Error(`not true within ${ms} ms`)
    await delay(50)
  }
}

describe('a replica of another data set', () => {
  it('leaves the rotation once re-pointed at another primary, and comes back once it replicates the configured one again', async () => {
    const c = replica({ location: set.urls, socketConnectTimeout: 1, socketTimeout: 1 })
    opened.push(c)
    const key = uniquePrefix('data-set')
    await c.command(['SET', key, 'ours'])
    await replicated(c, 2)
    const [moved, kept] = (await Promise.all(set.replicas.map(raw))) as [Raw, Raw]
    const elsewhere = await raw(other)
    await elsewhere.sendCommand(['SET', key, 'theirs'])
    // Both replicas serve reads first.
    await until(async () => {
      for (let i = 0; i < 10; i++) await c.command(['GET', key], { readonly: true })
      return (await commandCalls(moved, 'get')) > 0 && (await commandCalls(kept, 'get')) > 0
    }, 10_000)

    await moved.sendCommand(['REPLICAOF', '127.0.0.1', String(other.port)])
    try {
      await until(
        async () =>
          (await field(moved, 'master_port')) === String(other.port) &&
          (await field(moved, 'master_link_status')) === 'up' &&
          replyText(await moved.get(key)) === 'theirs',
        10_000,
      )
      // A few checks (one a second) later, no read sees the other data set.
      await delay(2500)
      await moved.sendCommand(['CONFIG', 'RESETSTAT'])
      const seen = new Set<string>()
      for (let i = 0; i < 50; i++) {
        seen.add(String(replyText(await c.command(['GET', key], { readonly: true }))))
      }
      expect([...seen]).toEqual(['ours'])
      expect(await commandCalls(moved, 'get')).toBe(0)
    } finally {
      await moved.sendCommand(['REPLICAOF', '127.0.0.1', String(set.primary.port)])
    }
    await set.waitForSync()
    // Replicating the configured primary again: back in the rotation.
    await until(async () => {
      for (let i = 0; i < 10; i++) await c.command(['GET', key], { readonly: true })
      return (await commandCalls(moved, 'get')) > 0
    }, 10_000)
    expect(replyText(await moved.get(key))).toBe('ours')
  }, 40_000)
})

describe('an ACL user that may not run INFO on the primary', () => {
  it('judges the replicas as before (they serve reads), and asks the primary once', async () => {
    const user = uniquePrefix('acl').replace(/[^a-z0-9]/gi, '')
    const rules = (info: string) => ['ACL', 'SETUSER', user, 'on', '>pw', '~*', '&*', '+@all', info]
    const primary = await raw(set.primary)
    await primary.sendCommand(['ACL', 'LOG', 'RESET'])
    await primary.sendCommand(rules('-info'))
    const replicas = await Promise.all(set.replicas.map(raw))
    for (const r of replicas) await r.sendCommand(rules('+info'))
    const urls = set.urls.map((url) => url.replace('redis://', `redis://${user}:pw@`))
    const c = replica({ location: urls, socketConnectTimeout: 1, socketTimeout: 1 })
    opened.push(c)
    const key = uniquePrefix('acl-info')
    await c.command(['SET', key, 'v'])
    for (const r of replicas) await r.sendCommand(['CONFIG', 'RESETSTAT'])
    await until(async () => {
      for (let i = 0; i < 10; i++) await c.command(['GET', key], { readonly: true })
      for (const r of replicas) if ((await commandCalls(r, 'get')) === 0) return false
      return true
    }, 10_000)
    await delay(2500) // a few checks: the refusal is not asked again
    const log = (await primary.sendCommand(['ACL', 'LOG'])) as Array<Record<string, unknown>>
    const refusals = log
      .filter((entry) => entry.username === user && entry.object === 'info')
      .reduce((sum, entry) => sum + Number(entry.count), 0)
    expect(refusals).toBe(1)
  }, 20_000)
})

describe('verdict', () => {
  const replication = (replid: string) =>
    `role:slave\r\nmaster_link_status:up\r\nmaster_sync_in_progress:0\r\nmaster_replid:${replid}\r\n`
  const state = (replid: string) => replicaState(replication(replid), 'run_id:r1\r\n')

  it('reads master_replid', () => {
    expect(state('abc').replid).toBe('abc')
  })

  it('a replica in sync is healthy unless it replicates another data set than the primary', () => {
    expect(verdict(state('abc'), undefined, true)).toBe('healthy')
    expect(verdict(state('abc'), undefined, true, 'abc')).toBe('healthy')
    expect(verdict(state('abc'), undefined, true, 'xyz')).toBe('out')
    // Nothing to compare: today's rules.
    expect(verdict(state(''), undefined, true, 'xyz')).toBe('healthy')
    expect(verdict(state('abc'), undefined, true, undefined)).toBe('healthy')
  })
})
