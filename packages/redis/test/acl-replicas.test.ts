// Read replicas for an ACL user who may not run `INFO` (the common `+@all -@dangerous`): the
// replicas cannot be checked, so reads stay on the primary; that is said once, and `INFO` is not
// sent again and again to be refused.
import {
  commandCalls,
  delay,
  type ReplicaSet,
  replicated,
  startCluster,
  startReplicaSet,
  type TestCluster,
} from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createCache } from '../src/index.ts'

const RULES = {
  safe: ['~*', '&*', '+@all', '-@dangerous'],
  full: ['~*', '&*', '+@all'],
}

async function addUsers(url: string): Promise<void> {
  const admin = createClient({ url })
  await admin.connect()
  for (const [user, rules] of Object.entries(RULES)) {
    await admin.sendCommand(['ACL', 'SETUSER', user, 'on', '>pw', ...rules])
  }
  await admin.close()
}

async function onEach<T>(
  urls: readonly string[],
  ask: (c: { sendCommand(args: string[]): Promise<unknown> }) => Promise<T>,
) {
  const out: T[] = []
  for (const url of urls) {
    const c = createClient({ url })
    await c.connect()
    out.push(await ask(c))
    await c.close()
  }
  return out
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)

/** The `INFO` calls the servers at `urls` refused so far (an ACL refusal is a rejected call). */
const infoRefused = async (urls: readonly string[]) =>
  sum(
    await onEach(urls, async (c) => {
      const stats = String(await c.sendCommand(['INFO', 'commandstats']))
      return Number(/cmdstat_info:[^\r\n]*rejected_calls=(\d+)/.exec(stats)?.[1] ?? 0)
    }),
  )

/**
 * The refused `INFO` calls once each server at `urls` has refused one (polled, for up to 20 s: a
 * busy machine checks its replicas later than any fixed delay, one after another), and half a
 * second more for any sent with them.
 */
async function firstRefusals(urls: readonly string[]): Promise<number> {
  for (let i = 0; i < 200 && (await infoRefused(urls)) < urls.length; i++) await delay(100)
  await delay(500)
  return infoRefused(urls)
}

const getsOn = async (urls: readonly string[]) =>
  sum(await onEach(urls, (c) => commandCalls(c, 'get')))

/** The warnings the cache gave, through its logger or Node's `process.emitWarning`. */
let warnings: string[] = []
const onWarning = (warning: Error) => warnings.push(warning.message)
const logger = {
  error: (message: string) => warnings.push(message),
  warn: (message: string) => warnings.push(message),
}
beforeEach(() => {
  warnings = []
  process.on('warning', onWarning)
})
afterEach(() => {
  process.off('warning', onWarning)
})

describe('primary and read replicas', () => {
  let set: ReplicaSet
  beforeAll(async () => {
    set = await startReplicaSet({ replicas: 2 })
    for (const url of set.urls) await addUsers(url)
  }, 60_000)
  afterAll(async () => set?.stop())

  const cacheAs = (user: string) =>
    createCache({
      location: set.urls.map((u) => u.replace('redis://', `redis://${user}:pw@`)),
      keyPrefix: `p-${user}`,
      logger,
    })

  it('a user who may run INFO reads from the replicas, without a warning', async () => {
    const cache = cacheAs('full')
    try {
      await cache.set('k', 1)
      await replicated(cache.connection as never, 2)
      await delay(1200)
      const before = await getsOn(set.urls.slice(1))
      for (let i = 0; i < 20; i++) expect(await cache.get('k')).toBe(1)
      expect((await getsOn(set.urls.slice(1))) - before).toBeGreaterThan(0)
      expect(warnings.filter((w) => /INFO/.test(w))).toEqual([])
    } finally {
      await cache.close()
    }
  }, 30_000)

  it('a user without INFO reads from the primary, is warned once, and INFO is not sent again', async () => {
    const cache = cacheAs('safe')
    try {
      await cache.set('k', 1)
      await replicated(cache.connection as never, 2)
      for (let i = 0; i < 20; i++) expect(await cache.get('k')).toBe(1)
      const refused = await firstRefusals(set.urls.slice(1))
      const gets = await getsOn(set.urls.slice(1))
      for (let round = 0; round < 3; round++) {
        await delay(1000)
        for (let i = 0; i < 20; i++) expect(await cache.get('k')).toBe(1)
      }
      // Before: asked every second (and on every read), refused each time.
      expect(await infoRefused(set.urls.slice(1))).toBe(refused)
      expect(await getsOn(set.urls.slice(1))).toBe(gets)
      const said = warnings.filter((w) => /\bINFO\b/.test(w))
      expect(said).toHaveLength(1)
      expect(said[0]).toMatch(/primary/)
    } finally {
      await cache.close()
    }
  }, 30_000)
})

describe('cluster with readFromReplicas', () => {
  let cluster: TestCluster
  beforeAll(async () => {
    cluster = await startCluster({ primaries: 3, replicasPerPrimary: 1 })
    await cluster.waitUntilHealthy()
    for (const node of cluster.nodes) await addUsers(node.url)
  }, 120_000)
  afterAll(async () => cluster?.stop())

  it('a user without INFO reads from the primaries, is warned once, and INFO is not sent again', async () => {
    const cache = createCache({
      location: cluster.seeds.map((u) => u.replace('redis://', 'redis://safe:pw@')),
      client: 'cluster',
      readFromReplicas: true,
      keyPrefix: 'c-safe',
      logger,
    })
    const primaries = new Set((await cluster.primaries()).map((n) => n.port))
    const replicas = cluster.nodes.filter((n) => !primaries.has(n.port)).map((n) => n.url)
    try {
      await cache.set('k', 1)
      for (let i = 0; i < 20; i++) expect(await cache.get('k')).toBe(1)
      const refused = await firstRefusals(replicas)
      for (let round = 0; round < 3; round++) {
        await delay(1000)
        for (let i = 0; i < 20; i++) expect(await cache.get('k')).toBe(1)
      }
      expect(await infoRefused(replicas)).toBe(refused)
      const said = warnings.filter((w) => /\bINFO\b/.test(w))
      expect(said).toHaveLength(1)
      expect(said[0]).toMatch(/primar/)
    } finally {
      await cache.close()
    }
  }, 60_000)
})
