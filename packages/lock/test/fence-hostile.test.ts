// A fencing counter another client set below zero: the script INCRs it to a token that is not
// positive. The lock must then be refused as for a counter past 2^53 − 65 — the key it just set
// deleted again — and never left set with no one able to release it (a 0 read as "held by
// someone", a negative as an unexpected reply).
import { type Connection, ResponseError } from '@cachex/core'
import { uniquePrefix } from '@cachex/test-utils'
import { describe, expect, it } from 'vitest'
import { fenceKey } from '../src/_fence-key.ts'
import { Lock } from '../src/index.ts'
import { BACKENDS, useBackend } from './helpers.ts'

describe.each(BACKENDS)('%s', (backend) => {
  let connection: Connection

  useBackend(backend, (_, connected) => {
    connection = connected
  })

  /** A lock of a fresh name whose fencing counter holds `counter`. */
  async function lockWithCounter(counter: string, timeout?: number): Promise<Lock> {
    const lock = new Lock(connection, uniquePrefix('fence-hostile'), { timeout })
    await connection.command(['SET', fenceKey(lock.name), counter])
    return lock
  }

  async function cleanUp(lock: Lock): Promise<void> {
    await connection.command(['DEL', fenceKey(lock.name)])
    await connection.command(['DEL', lock.name])
  }

  for (const counter of ['-1', '-2', '-10', '-9223372036854775808']) {
    it(`a counter at ${counter}: acquire() rejects with a ResponseError and takes no lock`, async () => {
      const lock = await lockWithCounter(counter)
      try {
        const error = await lock.acquire({ blocking: false }).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(ResponseError)
        expect((error as Error).message).toMatch(
          /fencing counter .* must hold a non-negative integer/,
        )
        expect(await connection.command(['EXISTS', lock.name])).toBe(0)
        expect(lock.token).toBeNull()
        expect(lock.fencingToken).toBeNull()
      } finally {
        await cleanUp(lock)
      }
    })
  }

  it('a counter at -1: a blocking acquire() without blockingTimeout rejects, not spins', async () => {
    const lock = await lockWithCounter('-1')
    try {
      // Only a bound to prove nothing hangs: the rejection comes from the first try.
      const outcome = await Promise.race([
        lock.acquire({ blockingTimeout: null }).then(
          (held) => `resolved ${held}`,
          (error: unknown) => (error as Error).constructor.name,
        ),
        new Promise((resolve) => setTimeout(() => resolve('still waiting after 20 s'), 20_000)),
      ])
      expect(outcome).toBe('ResponseError')
      expect(await connection.command(['EXISTS', lock.name])).toBe(0)
    } finally {
      await cleanUp(lock)
    }
  })

  it('after a refusal the name is free: once the counter is fixed, anyone takes the lock', async () => {
    const lock = await lockWithCounter('-5')
    try {
      await expect(lock.acquire({ blocking: false })).rejects.toBeInstanceOf(ResponseError)
      await connection.command(['SET', fenceKey(lock.name), '41'])
      const other = new Lock(connection, lock.name)
      expect(await other.acquire({ blocking: false })).toBe(true)
      expect(other.fencingToken).toBe(42)
      await other.release()
    } finally {
      await cleanUp(lock)
    }
  })

  it('a counter at 0 is a fresh count: the first token is 1', async () => {
    const lock = await lockWithCounter('0', 5)
    try {
      expect(await lock.acquire({ blocking: false })).toBe(true)
      expect(lock.fencingToken).toBe(1)
      await lock.release()
    } finally {
      await cleanUp(lock)
    }
  })
})
