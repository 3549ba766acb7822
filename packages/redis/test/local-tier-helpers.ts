// What the local-tier topology tests share: raw clients and caches closed after the file, and a
// bounded wait.
import { type Cache, createCache } from '@cachex/redis'
import { commandCalls, delay, uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll } from 'vitest'

/** A plain node-redis client: neither cachex nor Django. */
export type Raw = { sendCommand(args: string[]): Promise<unknown> }

/**
 * Openers whose clients and caches are closed after the file (in reverse order); `name` prefixes
 * the caches' keys. Call at the top of a test file.
 */
export function openers(name: string): {
  closers: Array<() => Promise<unknown>>
  raw(url: string): Promise<Raw>
  localCache(options: object): Cache
} {
  const closers: Array<() => Promise<unknown>> = []
  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined)
  })
  return {
    closers,
    async raw(url) {
      const client = createClient({ url })
      client.on('error', () => undefined)
      await client.connect()
      closers.push(() => client.close())
      return client
    },
    localCache(options) {
      const cache = createCache({ keyPrefix: uniquePrefix(name), local: {}, ...options })
      closers.push(() => cache.close())
      return cache
    },
  }
}

/** Waits until `check` holds; bounded only against hangs. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  ms = 60_000,
): Promise<void> {
  const until = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await delay(20)
  }
}

/**
 * Resolves just after a read rotation's check asked `replica` for `INFO` (`infoCalls` calls: 2
 * on a replica set or Sentinel, `INFO replication` and `INFO server`; 1 on a cluster), besides
 * this helper's own `INFO commandstats`, so that the next check is about a second away.
 */
export async function nextCheck(replica: Raw, infoCalls: number): Promise<void> {
  let last = await commandCalls(replica, 'info')
  await eventually(async () => {
    const now = await commandCalls(replica, 'info')
    // The previous `INFO commandstats` of this helper is counted in `now`.
    const others = now - last - 1
    last = now
    return others >= infoCalls
  })
}
