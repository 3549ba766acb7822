import { fileURLToPath } from 'node:url'
import { ConnectionError, createCache } from '@cachex/redis'
import { delay, type RedisServer, startCluster, startRedis } from '@cachex/test-utils'
import { createClient, createCluster } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runChild } from './helpers.ts'

const child = fileURLToPath(new URL('./_owner-closed-child.ts', import.meta.url))

let server: RedisServer

beforeAll(async () => {
  server = await startRedis()
})

afterAll(async () => {
  await server?.stop()
})

describe('a client of yours that you closed', () => {
  for (const how of ['close', 'destroy'] as const) {
    it(`(${how}()) is not opened again: calls reject with a ConnectionError saying so`, async () => {
      const client = createClient({ url: server.url })
      await client.connect()
      const cache = createCache({ location: client, keyPrefix: 'owner' })
      try {
        await cache.set('a', 1)
        if (how === 'close') await client.close()
        else client.destroy()
        for (let i = 0; i < 3; i++) {
          const error = await cache.get('a').catch((e: unknown) => e)
          expect(error).toBeInstanceOf(ConnectionError)
          expect((error as Error).message).toMatch(/closed by its owner/)
          await delay(100)
        }
        expect(client.isOpen).toBe(false)
        await cache.close()
        expect(client.isOpen).toBe(false)
      } finally {
        await cache.close()
      }
    })
  }

  it('works again once its owner opens it again', async () => {
    const client = createClient({ url: server.url })
    await client.connect()
    const cache = createCache({ location: client, keyPrefix: 'owner' })
    try {
      await cache.set('b', 2)
      await client.close()
      await expect(cache.get('b')).rejects.toThrow(/closed by its owner/)
      await client.connect()
      expect(await cache.get('b')).toBe(2)
    } finally {
      await cache.close()
      if (client.isOpen) await client.close()
    }
  })

  it('a process that closes its client, then the cache, exits by itself', async () => {
    const proc = runChild(child, [server.url])
    // Generous bounds, for a busy machine: it used to run on for good.
    const ended = await proc.exitsWithin(30_000)
    const out = proc.out + proc.err
    expect(out).toContain('closed ConnectionError false')
    expect(ended, out).toBe(true)
  })
})

describe('a cluster of yours that you closed', () => {
  it('is not opened again', async () => {
    const cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
    const given = createCluster({ rootNodes: cluster.seeds.map((url) => ({ url })) })
    await given.connect()
    const cache = createCache({ client: 'cluster', location: given, keyPrefix: 'owner' })
    try {
      await cache.set('a', 1)
      await given.close()
      // The cache's own connections to the nodes may still answer; the cluster of yours is not
      // opened again.
      for (let i = 0; i < 3; i++) {
        const outcome = await cache.get('a').catch((e: unknown) => e)
        if (outcome instanceof Error) {
          expect(outcome).toBeInstanceOf(ConnectionError)
          expect(outcome.message).toMatch(/closed by its owner/)
        } else {
          expect(outcome).toBe(1)
        }
        await delay(300)
      }
      expect(given.isOpen).toBe(false)
      await cache.close()
      expect(given.isOpen).toBe(false)
    } finally {
      await cache.close()
      await cluster.stop()
    }
  })
})
