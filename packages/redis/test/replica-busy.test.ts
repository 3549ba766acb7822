// A read replica that answers `-BUSY` (another client's long read-only Lua script runs on it) is a
// replica that cannot serve reads for now, as one answering `LOADING`: the read runs again on the
// primary instead of failing with `ResponseError: BUSY …` until the next check of the rotation
// takes the replica out. Both forms: a replica list (`location: [primary, replica]`) and Sentinel.
import { type Cache, createCache } from '@cachex/redis'
import {
  type ReplicaSet,
  redisCall,
  replicated,
  type SentinelDeployment,
  startReplicaSet,
  startSentinels,
  uniquePrefix,
} from '@cachex/test-utils'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { eventually } from './local-tier-helpers.ts'

/** A read-only script that keeps the server busy for `seconds` (its clients get `-BUSY`). */
const SPIN = (seconds: number) =>
  `local s = tonumber(redis.call('TIME')[1]); while tonumber(redis.call('TIME')[1]) - s < ${seconds} do end return 1`

const closers: Array<() => Promise<unknown>> = []
let set: ReplicaSet | undefined
let sentinels: SentinelDeployment | undefined
afterEach(async () => {
  for (const close of closers.splice(0)) await close().catch(() => undefined)
})
afterAll(async () => {
  await set?.stop()
  await sentinels?.stop()
})

function cacheOn(location: string | string[], options: Record<string, unknown> = {}): Cache {
  const cache = createCache({
    location,
    keyPrefix: uniquePrefix('rb'),
    socketTimeout: 2,
    socketConnectTimeout: 2,
    ...options,
  })
  closers.push(() => cache.close())
  return cache
}

/** Resolves once the cache's reads of `key` are served by `replicaUrl` (it is in the rotation). */
async function readingFrom(cache: Cache, key: string, replicaUrl: string): Promise<void> {
  await eventually(async () => {
    await cache.get(key)
    const stats = String(await redisCall(replicaUrl, ['INFO', 'commandstats'], 5000))
    return /cmdstat_get:calls=[1-9]/.test(stats)
  }, 30_000)
}

/**
 * Runs `reads` while `replicaUrl` is busy with another client's script, then ends the script.
 * Resolves the reads' failures.
 */
async function whileBusy(replicaUrl: string, reads: () => Promise<unknown[]>): Promise<unknown[]> {
  const running = redisCall(replicaUrl, ['EVAL', SPIN(4), '0'], 15_000).catch((e: unknown) => e)
  try {
    await eventually(async () => {
      const reply = await redisCall(replicaUrl, ['GET', 'x'], 2000).then(
        () => '',
        (e: Error) => e.message,
      )
      return reply.includes('BUSY')
    }, 3000)
    return await reads()
  } finally {
    await redisCall(replicaUrl, ['SCRIPT', 'KILL'], 5000).catch(() => undefined)
    await running
  }
}

/** `count` reads of `key` in a row, `gapMs` apart: the errors of those that failed. */
async function readsOf(cache: Cache, key: string, count: number, gapMs = 0): Promise<unknown[]> {
  const failures: unknown[] = []
  for (let i = 0; i < count; i++) {
    await cache.get(key).then(
      (value) => {
        if (value !== 'v') failures.push(new Error(`read ${String(value)}`))
      },
      (error: unknown) => failures.push(error),
    )
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs))
  }
  return failures
}

describe('a replica answering BUSY', () => {
  it('replica list: the reads run on the primary instead of failing', async () => {
    set = await startReplicaSet({ replicas: 1, args: ['--busy-reply-threshold', '100'] })
    const primaryUrl = set.primary.url
    const cache = cacheOn(set.urls as string[])
    await cache.set('k', 'v')
    await replicated({ command: (args) => redisCall(primaryUrl, args, 5000) }, 1)
    const replicaUrl = set.replicas[0]?.url as string
    await readingFrom(cache, 'k', replicaUrl)
    const failures = await whileBusy(replicaUrl, () => readsOf(cache, 'k', 10))
    expect(failures.map(String)).toEqual([])
  }, 90_000)

  it('sentinel: the reads run on the primary instead of failing', async () => {
    sentinels = await startSentinels({ replicas: 1, sentinels: 1, quorum: 1, downAfterMs: 10_000 })
    const cache = cacheOn(sentinels.location, {
      client: 'sentinel',
      sentinels: sentinels.addresses,
    })
    await cache.set('k', 'v')
    const replicaUrl = sentinels.replicas[0]?.url as string
    await readingFrom(cache, 'k', replicaUrl)
    await redisCall(replicaUrl, ['CONFIG', 'SET', 'busy-reply-threshold', '100'], 5000)
    const failures = await whileBusy(replicaUrl, () => readsOf(cache, 'k', 15, 100))
    expect(failures.map(String)).toEqual([])
  }, 120_000)
})
