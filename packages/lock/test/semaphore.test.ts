import {
  type CommandRoute,
  type Connection,
  InvalidArgumentError,
  type RedisArgument,
  ResponseError,
  type SemaphoreOptions,
} from '@cachex/core'
import { delay, uniquePrefix } from '@cachex/test-utils'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_SEMAPHORE_TIMEOUT,
  LockError,
  LockNotOwnedError,
  Semaphore,
  semaphoreFactory,
} from '../src/index.ts'
import { BACKENDS, type BackendServer, useBackend } from './helpers.ts'

describe.each(BACKENDS)('%s', (backend) => {
  let server: BackendServer
  let connection: Connection

  useBackend(backend, (opened, connected) => {
    server = opened
    connection = connected
  })

  function semName(): string {
    return uniquePrefix('sem')
  }

  function sem(name: string, options: SemaphoreOptions, on: Connection = connection): Semaphore {
    return new Semaphore(on, name, options)
  }

  async function holders(name: string): Promise<Array<[string, string]>> {
    const members = (await connection.command(['ZRANGE', name, '0', '-1'])) as unknown[]
    return Promise.all(
      members.map(async (m): Promise<[string, string]> => {
        const score = await connection.command(['ZSCORE', name, String(m)])
        // RESP3 answers a double (Infinity), RESP2 a string ('inf')
        return [String(m), score === Number.POSITIVE_INFINITY ? 'inf' : String(score)]
      }),
    )
  }

  /** A real connection that counts the commands sent through it, by command name. */
  function counting(inner: Connection): { connection: Connection; count(name?: string): number } {
    const counts = new Map<string, number>()
    const wrapped: Connection = {
      command(args: RedisArgument[], route?: CommandRoute) {
        const name = String(args[0]).toUpperCase()
        counts.set(name, (counts.get(name) ?? 0) + 1)
        return inner.command(args, route)
      },
      batch: (commands, route) => inner.batch(commands, route),
      scan: (pattern, count) => inner.scan(pattern, count),
      flush: () => inner.flush(),
      client: (options) => inner.client(options),
      close: () => inner.close(),
    }
    return {
      connection: wrapped,
      count: (name) =>
        name === undefined
          ? [...counts.values()].reduce((a, b) => a + b, 0)
          : (counts.get(name) ?? 0),
    }
  }

  describe('acquire and release', () => {
    it('admits up to limit holders, refuses the next, and admits it after a release', async () => {
      const name = semName()
      const [a, b, c] = [sem(name, { limit: 2 }), sem(name, { limit: 2 }), sem(name, { limit: 2 })]
      expect(a.token).toBeNull()
      expect(await a.acquire()).toBe(true)
      expect(a.token).toMatch(/^[0-9a-f]{32}$/)
      expect(await b.acquire({ blocking: false })).toBe(true)
      expect(await c.acquire({ blocking: false })).toBe(false)
      expect(c.token).toBeNull()
      // one member per holder: `<weight>:<token>`, scored by its expiry in server milliseconds
      const members = await holders(name)
      expect(members.map(([m]) => m).sort()).toEqual([`1:${a.token}`, `1:${b.token}`].sort())
      const now = Date.now()
      for (const [, score] of members) {
        expect(Number(score)).toBeGreaterThan(now + (DEFAULT_SEMAPHORE_TIMEOUT - 10) * 1000)
        expect(Number(score)).toBeLessThan(now + (DEFAULT_SEMAPHORE_TIMEOUT + 10) * 1000)
      }
      await a.release()
      expect(a.token).toBeNull()
      expect(await c.acquire({ blocking: false })).toBe(true)
      await b.release()
      await c.release()
      // the last release leaves no key behind
      expect(await connection.command(['EXISTS', name])).toBe(0)
    })

    it('weights: a holder takes weight permits, and the sum never passes the limit', async () => {
      const name = semName()
      const heavy = sem(name, { limit: 5, weight: 3 })
      const medium = sem(name, { limit: 5, weight: 2 })
      const light = sem(name, { limit: 5 })
      expect(await heavy.acquire({ blocking: false })).toBe(true)
      expect(await medium.acquire({ blocking: false })).toBe(true)
      expect(await light.acquire({ blocking: false })).toBe(false)
      await medium.release()
      expect(await light.acquire({ blocking: false })).toBe(true)
      // 3 + 1 held: 2 more do not fit
      expect(await medium.acquire({ blocking: false })).toBe(false)
      expect((await holders(name)).map(([m]) => m.split(':')[0]).sort()).toEqual(['1', '3'])
      await heavy.release()
      expect(await medium.acquire({ blocking: false })).toBe(true)
      await light.release()
      await medium.release()
    })

    it('the key expires with its last holder, and timeout: null never expires', async () => {
      const name = semName()
      const short = sem(name, { limit: 3, timeout: 5 })
      await short.acquire()
      const pttl = (await connection.command(['PTTL', name])) as number
      expect(pttl).toBeGreaterThan(3000)
      expect(pttl).toBeLessThanOrEqual(5001)
      const forever = sem(name, { limit: 3, timeout: null })
      await forever.acquire()
      expect(forever.timeout).toBeNull()
      expect(await connection.command(['PTTL', name])).toBe(-1)
      expect((await holders(name)).find(([m]) => m.endsWith(forever.token as string))?.[1]).toBe(
        'inf',
      )
      await forever.release()
      // back to the remaining holder's expiry
      expect(await connection.command(['PTTL', name])).toBeGreaterThan(3000)
      await short.release()
      expect(await connection.command(['EXISTS', name])).toBe(0)
    })

    it('the options are kept on the semaphore, with the documented defaults', () => {
      const s = sem(semName(), { limit: 4 })
      expect([s.limit, s.weight, s.timeout, s.sleep, s.blocking, s.blockingTimeout]).toEqual([
        4,
        1,
        60,
        0.1,
        true,
        null,
      ])
      const t = semaphoreFactory(connection, 'x', {
        limit: 4,
        weight: 4,
        timeout: 1.5,
        sleep: 0.01,
        blocking: false,
        blockingTimeout: 2,
      }) as Semaphore
      expect([t.limit, t.weight, t.timeout, t.sleep, t.blocking, t.blockingTimeout]).toEqual([
        4,
        4,
        1.5,
        0.01,
        false,
        2,
      ])
    })
  })

  describe('a holder that dies', () => {
    it('frees its permits after timeout, judged by the server; its late release rejects', async () => {
      const name = semName()
      const dead = sem(name, { limit: 1, timeout: 0.3 })
      expect(await dead.acquire()).toBe(true)
      const next = sem(name, { limit: 1, sleep: 0.02 })
      expect(await next.acquire({ blocking: false })).toBe(false)
      const started = performance.now()
      // the wait ends once the dead holder's 300 ms are up (wide margin on a loaded machine)
      expect(await next.acquire({ blockingTimeout: 30 })).toBe(true)
      expect(performance.now() - started).toBeLessThan(20_000)
      // the dead holder was dropped: its release says so, and the new holder keeps its permit
      await expect(dead.release()).rejects.toBeInstanceOf(LockNotOwnedError)
      expect(dead.token).toBeNull()
      expect((await holders(name)).map(([m]) => m)).toEqual([`1:${next.token}`])
      await next.release()
    })

    it('a holder past its time that nobody counted out still releases cleanly', async () => {
      const name = semName()
      // a long-lived holder keeps the key alive
      const other = sem(name, { limit: 2, timeout: 60 })
      await other.acquire()
      const slow = sem(name, { limit: 2, timeout: 0.05 })
      await slow.acquire()
      await delay(150)
      // no acquisition ran meanwhile: nobody was admitted in its place
      await slow.release()
      await other.release()
      expect(await connection.command(['EXISTS', name])).toBe(0)
    })

    it('alone, a holder past its time goes with the key (its expiry is the last holder’s)', async () => {
      const name = semName()
      const slow = sem(name, { limit: 2, timeout: 0.05 })
      await slow.acquire()
      await delay(150)
      expect(await connection.command(['EXISTS', name])).toBe(0)
      await expect(slow.release()).rejects.toBeInstanceOf(LockNotOwnedError)
    })
  })

  describe('blocking', () => {
    it('waits for a release', async () => {
      const name = semName()
      const holder = sem(name, { limit: 1 })
      await holder.acquire()
      const waiter = sem(name, { limit: 1, sleep: 0.02, blockingTimeout: 30 })
      const acquired = waiter.acquire()
      await delay(100)
      await holder.release()
      expect(await acquired).toBe(true)
      await waiter.release()
    })

    it('gives up after blockingTimeout, trying once per sleep', async () => {
      const name = semName()
      const holder = sem(name, { limit: 1 })
      await holder.acquire()
      const { connection: counted, count } = counting(connection)
      const waiter = sem(name, { limit: 1, sleep: 0.2, blockingTimeout: 1 }, counted)
      const started = performance.now()
      expect(await waiter.acquire()).toBe(false)
      const elapsed = performance.now() - started
      expect(elapsed).toBeGreaterThanOrEqual(800)
      expect(elapsed).toBeLessThan(20_000)
      // about 1 + 1 s / 0.2 s tries (EVALSHA; one EVAL the first time the server sees the script)
      const tries = count('EVALSHA')
      expect(tries).toBeGreaterThanOrEqual(3)
      expect(tries).toBeLessThanOrEqual(7)
      // blocking: false overrides the semaphore's own
      expect(await waiter.acquire({ blocking: false })).toBe(false)
      expect(await waiter.acquire({ blockingTimeout: 0 })).toBe(false)
      await holder.release()
    })

    it('withPermit releases however fn ends, and rejects with LockError when nothing is free', async () => {
      const name = semName()
      const s = sem(name, { limit: 1, blocking: false })
      expect(await s.withPermit(() => 'done')).toBe('done')
      expect(s.token).toBeNull()
      await expect(
        s.withPermit(() => {
          throw new Error('boom')
        }),
      ).rejects.toThrow('boom')
      expect(await connection.command(['EXISTS', name])).toBe(0)
      const holder = sem(name, { limit: 1 })
      await holder.acquire()
      await expect(s.withPermit(() => 'never')).rejects.toThrow(
        new LockError(`could not acquire permits of the semaphore '${name}'`),
      )
      await holder.release()
    })
    it('withPermit keeps the error of fn when the permits were lost meanwhile', async () => {
      const name = semName()
      const s = sem(name, { limit: 1, timeout: 0.2 })
      const thief = sem(name, { limit: 1, timeout: 10 })
      const boom = new Error('boom')
      const error = await s
        .withPermit(async () => {
          await delay(400) // the permit expires
          expect(await thief.acquire()).toBe(true)
          throw boom
        })
        .catch((e: unknown) => e)
      expect((error as Error).name).toBe('SuppressedError')
      expect((error as { suppressed: unknown }).suppressed).toBe(boom)
      expect((error as { error: unknown }).error).toBeInstanceOf(LockNotOwnedError)
      await thief.release()
    })
  })

  describe('misuse', () => {
    it('release without permits rejects with LockError; a second acquire too', async () => {
      const s = sem(semName(), { limit: 2 })
      await expect(s.release()).rejects.toBeInstanceOf(LockError)
      await s.acquire()
      await expect(s.acquire()).rejects.toBeInstanceOf(LockError)
      await s.release()
      // concurrent acquires on one object: the second is refused, not given a second set of permits
      const [first, second] = await Promise.allSettled([s.acquire(), s.acquire()])
      expect(first).toEqual({ status: 'fulfilled', value: true })
      expect(second.status).toBe('rejected')
      await s.release()
    })

    it('bad arguments throw InvalidArgumentError before anything is sent', async () => {
      const { connection: counted, count } = counting(connection)
      const bad: unknown[] = [
        undefined,
        null,
        {},
        { limit: 0 },
        { limit: -1 },
        { limit: 1.5 },
        { limit: '3' },
        { limit: Number.NaN },
        { limit: Number.POSITIVE_INFINITY },
        { limit: 2 ** 53 },
        { limit: 2, weight: 0 },
        { limit: 2, weight: 3 },
        { limit: 2, weight: 1.5 },
        { limit: 2, weight: '1' },
        { limit: 2, timeout: 0 },
        { limit: 2, timeout: -1 },
        { limit: 2, timeout: Number.NaN },
        { limit: 2, sleep: 0 },
        { limit: 2, blockingTimeout: -1 },
        { limit: 2, blocking: 'yes' },
      ]
      for (const options of bad) {
        expect(
          () => new Semaphore(counted, 'x', options as SemaphoreOptions),
          String(options),
        ).toThrow(InvalidArgumentError)
      }
      expect(() => new Semaphore(counted, '', { limit: 1 })).toThrow(InvalidArgumentError)
      const ok = new Semaphore(counted, semName(), { limit: 1 })
      await expect(ok.acquire({ blockingTimeout: -1 })).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(ok.acquire({ blocking: 1 as unknown as boolean })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
      expect(count()).toBe(0)
      expect(() => new Semaphore(counted, 'x', { limit: 3, weight: 4 })).toThrow(
        /weight \(4\) cannot exceed the semaphore's limit \(3\)/,
      )
    })

    it('a key that is not a semaphore rejects with ResponseError, and is left as it was', async () => {
      const name = semName()
      await connection.command(['SET', name, 'a value'])
      await expect(sem(name, { limit: 1 }).acquire()).rejects.toBeInstanceOf(ResponseError)
      expect(String(await connection.command(['GET', name]))).toBe('a value')
      const zset = semName()
      await connection.command(['ZADD', zset, '+inf', 'not-ours'])
      await expect(sem(zset, { limit: 5 }).acquire()).rejects.toThrow(/not a cachex semaphore/)
      expect(await connection.command(['ZCARD', zset])).toBe(1)
    })

    it('a sorted set of other members with past scores (a leaderboard) is refused, not emptied', async () => {
      // Scores below the server's time in milliseconds read as holders whose time is up: they were
      // dropped as such, the newcomer admitted and the key given an expiry.
      const board = semName()
      await connection.command(['ZADD', board, '10', 'alice', '250', 'bob', '1733500000', 'carol'])
      for (const limit of [3, 1]) {
        await expect(sem(board, { limit }).acquire({ blocking: false })).rejects.toThrow(
          /not a cachex semaphore/,
        )
      }
      const members = await connection.command(['ZRANGE', board, '0', '-1'])
      expect((members as unknown[]).map(String)).toEqual(['alice', 'bob', 'carol'])
      expect(await connection.command(['PTTL', board])).toBe(-1)
    })
  })

  describe('concurrency', () => {
    it('40 holders on 4 connections never exceed the limit (weights 1–2, limit 3)', async () => {
      const name = semName()
      const connections = Array.from({ length: 4 }, () => server.connect())
      let inside = 0
      let most = 0
      const run = async (i: number) => {
        const weight = (i % 2) + 1
        const s = sem(
          name,
          { limit: 3, weight, sleep: 0.005, blockingTimeout: 60 },
          connections[i % 4],
        )
        for (let round = 0; round < 3; round++) {
          expect(await s.acquire()).toBe(true)
          inside += weight
          most = Math.max(most, inside)
          expect(inside).toBeLessThanOrEqual(3)
          await delay(Math.random() * 5)
          inside -= weight
          await s.release()
        }
      }
      try {
        await Promise.all(Array.from({ length: 40 }, (_, i) => run(i)))
      } finally {
        await Promise.all(connections.map((c) => c.close()))
      }
      expect(most).toBeGreaterThanOrEqual(2)
      expect(await connection.command(['EXISTS', name])).toBe(0)
    })
  })
})
