// A fresh Sentinel cache whose very first call is a transaction: it waits for the first discovery
// of the primary, as a command and a pipeline do, instead of rejecting with a FailoverError that
// names the primary `undefined` (no failover runs); racing close(), it rejects with ClosedError.
import { ClosedError, createCache } from '@cachex/redis'
import { type SentinelDeployment, startSentinels, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'

let deployment: SentinelDeployment

beforeAll(async () => {
  deployment = await startSentinels({ replicas: 1, sentinels: 1, quorum: 1 })
}, 120_000)

afterAll(async () => {
  await deployment?.stop()
})

function open() {
  return createCache({
    client: 'sentinel',
    location: deployment.location,
    sentinels: deployment.addresses,
    keyPrefix: uniquePrefix('first-tx'),
  })
}

it('a transaction as the very first call runs on the primary', async () => {
  const cache = open()
  try {
    const transaction = cache.transaction()
    transaction.set('a', 1)
    transaction.get('a')
    expect(await transaction.exec()).toEqual([true, 1])
  } finally {
    await cache.close()
  }
})

it('a first transaction racing close() rejects with ClosedError', async () => {
  const cache = open()
  const transaction = cache.transaction()
  transaction.set('a', 1)
  const outcome = transaction.exec().then(
    () => 'resolved',
    (error: unknown) => error,
  )
  await cache.close()
  const result = await outcome
  // Either it ran before the close, or it was refused as closed: never a failover.
  if (result !== 'resolved') expect(result).toBeInstanceOf(ClosedError)
})
