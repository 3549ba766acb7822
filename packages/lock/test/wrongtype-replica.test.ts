// A lock read from replicas (the `replica` topology) asks what its key holds of the primary, where
// its scripts ran: a replica behind the primary may still hold the lock's own string there, and a
// blocking acquire() would then wait out its blockingTimeout on a key no release deletes, not
// reject at once naming what the key holds.

import { replica } from '@cachex/connections'
import type { Connection } from '@cachex/core'
import { ResponseError } from '@cachex/core'
import {
  type RedisServer,
  type ReplicaSet,
  redisCall,
  startReplicaSet,
  uniquePrefix,
} from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { Lock } from '../src/index.ts'

let set: ReplicaSet
let connection: Connection

beforeAll(async () => {
  set = await startReplicaSet({ replicas: 1 })
  await set.waitForSync()
  connection = replica({ location: set.urls })
}, 60_000)

afterAll(async () => {
  await connection?.close()
  await set?.stop()
})

it("a blocking acquire() rejects at once when the primary's key holds a hash, whatever a replica still holds", async () => {
  const name = uniquePrefix('lock-replica-wt')
  await redisCall(set.primary.url, ['HSET', name, 'field', 'value'])
  // The replica behind: it still holds a string at the key (written on it directly, as if the
  // hash had not reached it yet).
  const stale = (set.replicas[0] as RedisServer).url
  await redisCall(stale, ['CONFIG', 'SET', 'replica-read-only', 'no'])
  await redisCall(stale, ['DEL', name])
  await redisCall(stale, ['SET', name, 'a-token'])
  expect(await redisCall(stale, ['TYPE', name])).toBe('string')
  // The connection reads from the replica by now: a read of a key only the replica holds finds it.
  const marker = `${name}:marker`
  await redisCall(stale, ['SET', marker, 'on-the-replica'])
  const deadline = performance.now() + 10_000
  while ((await connection.command(['GET', marker], { key: marker, readonly: true })) === null) {
    expect(performance.now()).toBeLessThan(deadline)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }

  const lock = new Lock(connection, name, { timeout: 10, blockingTimeout: 3 })
  const started = performance.now()
  const error = await lock.acquire().then(
    (acquired) => new Error(`resolved with ${acquired}`),
    (e: unknown) => e as Error,
  )
  expect(error).toBeInstanceOf(ResponseError)
  expect(error.message).toContain('holds a hash')
  // Rejected at its first refusal, not after the blockingTimeout.
  expect(performance.now() - started).toBeLessThan(2_500)
}, 30_000)
