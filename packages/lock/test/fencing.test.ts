import { keySlot as connectionsKeySlot } from '@cachex/connections'
import { type Connection, ResponseError } from '@cachex/core'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fenceKey, keySlot } from '../src/_fence-key.ts'
import { Lock } from '../src/index.ts'
import { BACKENDS, type BackendServer, backendServer } from './helpers.ts'

describe.each(BACKENDS)('%s', (backend) => {
  let server: BackendServer
  let connection: Connection
  let other: Connection

  beforeAll(async () => {
    server = await backendServer(backend)
    connection = server.connect()
    other = server.connect()
  })

  afterAll(async () => {
    await connection?.close()
    await other?.close()
    await server?.stop()
  })

  function lockName(): string {
    return uniquePrefix('fence')
  }

  describe('lock.fencingToken', () => {
    it('is null before acquire and after release, a positive integer while held', async () => {
      const lock = new Lock(connection, lockName(), { timeout: 5 })
      expect(lock.fencingToken).toBeNull()
      expect(await lock.acquire()).toBe(true)
      expect(Number.isSafeInteger(lock.fencingToken)).toBe(true)
      expect(lock.fencingToken).toBeGreaterThan(0)
      await lock.release()
      expect(lock.fencingToken).toBeNull()
    })

    it('strictly increases across two connections taking the lock in turn', async () => {
      const name = lockName()
      const tokens: number[] = []
      for (let i = 0; i < 10; i++) {
        const lock = new Lock(i % 2 === 0 ? connection : other, name, { timeout: 5 })
        expect(await lock.acquire()).toBe(true)
        tokens.push(lock.fencingToken as number)
        await lock.release()
      }
      for (let i = 1; i < tokens.length; i++) {
        expect(tokens[i]).toBeGreaterThan(tokens[i - 1] as number)
      }
    })

    it('strictly increases in the order of the holds when 20 holders contend', async () => {
      const name = lockName()
      const order: number[] = []
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const lock = new Lock(i % 2 === 0 ? connection : other, name, {
            timeout: 10,
            sleep: 0.005,
            blockingTimeout: 60,
          })
          expect(await lock.acquire()).toBe(true)
          // exclusive: holds are serialized, so `order` is the order of the holds
          order.push(lock.fencingToken as number)
          await lock.release()
        }),
      )
      expect(order).toHaveLength(20)
      expect([...order].sort((a, b) => a - b)).toEqual(order)
      expect(new Set(order).size).toBe(20)
    })

    it('a failed try takes no token; a lock that expired gets a higher one for its successor', async () => {
      const name = lockName()
      const first = new Lock(connection, name, { timeout: 0.1 })
      await first.acquire()
      const before = first.fencingToken as number
      const second = new Lock(other, name, { sleep: 0.01, blockingTimeout: 30 })
      expect(await second.acquire({ blocking: false })).toBe(false)
      expect(await second.acquire({ blocking: false })).toBe(false)
      // first stalls past its timeout: second takes over with a higher token, which the resource
      // uses to refuse first's late write
      expect(await second.acquire()).toBe(true)
      expect(second.fencingToken).toBe(before + 1)
      await second.release()
    })

    it('leaves the lock key as redis-py writes it: the raw token, with PX', async () => {
      const name = lockName()
      const lock = new Lock(connection, name, { timeout: 5 })
      await lock.acquire()
      expect(String(await connection.command(['GET', name]))).toBe(lock.token)
      expect(await connection.command(['TYPE', name])).toBe('string')
      const pttl = (await connection.command(['PTTL', name])) as number
      expect(pttl).toBeGreaterThan(3000)
      // a Python process's SET NX fails while we hold it, and ours fails while Python holds it
      expect(await connection.command(['SET', name, 'python-token', 'NX', 'PX', '5000'])).toBeNull()
      await lock.release()
      expect(await connection.command(['SET', name, 'python-token', 'NX', 'PX', '5000'])).toBe('OK')
      expect(await new Lock(other, name).acquire({ blocking: false })).toBe(false)
      await connection.command(['DEL', name])
    })

    it('the counter never expires and lives outside the cache keyspace, in the lock key’s slot', async () => {
      const name = `app:1:${lockName()}`
      const lock = new Lock(connection, name)
      await lock.acquire()
      const counter = fenceKey(name)
      expect(counter).toMatch(/^__cachex:fence:\{[0-9a-z]+\}$/)
      expect(Number(String(await connection.command(['GET', counter])))).toBe(lock.fencingToken)
      expect(await connection.command(['PTTL', counter])).toBe(-1)
      expect(keySlot(counter)).toBe(keySlot(name))
      await lock.release()
    })

    it('a counter that holds no integer rejects the acquisition and leaves no lock behind', async () => {
      const name = lockName()
      const counter = fenceKey(name)
      const saved = await connection.command(['GET', counter])
      try {
        await connection.command(['SET', counter, 'not a number'])
        await expect(new Lock(connection, name).acquire()).rejects.toBeInstanceOf(ResponseError)
        expect(await connection.command(['EXISTS', name])).toBe(0)
        await connection.command(['SET', counter, String(2 ** 53 - 1)])
        await expect(new Lock(connection, name).acquire()).rejects.toThrow(/below 2\^53 - 64/)
        expect(await connection.command(['EXISTS', name])).toBe(0)
        // Within 64 of 2^53, node-redis reads two tokens as one (…947 and …949 as …948): refused.
        await connection.command(['SET', counter, String(2 ** 53 - 50)])
        await expect(new Lock(connection, name).acquire()).rejects.toThrow(/below 2\^53 - 64/)
        // The last token handed out, read exactly.
        await connection.command(['SET', counter, String(2 ** 53 - 66)])
        const last = new Lock(connection, name)
        expect(await last.acquire()).toBe(true)
        expect(last.fencingToken).toBe(2 ** 53 - 65)
        await last.release()
      } finally {
        if (saved === null) await connection.command(['DEL', counter])
        else await connection.command(['SET', counter, String(saved)])
      }
    })
  })
})

describe('the counter key shares the lock key’s hash slot', () => {
  it('for names with and without hash tags, odd braces and non-ASCII text', () => {
    const names = [
      'foo',
      'p:1:job',
      'p:1:{user42}:job',
      'p:1:{}:job',
      'p:1:a}b',
      'p:1:}{',
      'p:1:{a',
      '{',
      '}',
      'p:1:é{ü}',
      'p:1:日本',
    ]
    for (let i = 0; i < 500; i++) {
      names.push(
        Array.from({ length: 1 + (i % 12) }, () => 'ab{}:é'[Math.floor(Math.random() * 6)]).join(
          '',
        ),
      )
    }
    for (const name of names) {
      // the counter in the lock key's slot, by the hashing the cluster router uses
      expect(connectionsKeySlot(fenceKey(name)), name).toBe(connectionsKeySlot(name))
    }
    // at most one counter per slot, the same one in every process
    expect(fenceKey('p:1:{user42}:a')).toBe(fenceKey('p:1:{user42}:b'))
    // `foo` is in slot 12182 (Redis Cluster's own example)
    expect(keySlot('foo')).toBe(12182)
    expect(keySlot(fenceKey('foo'))).toBe(12182)
  })
})
