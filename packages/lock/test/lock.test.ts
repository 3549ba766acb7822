import {
  Cache,
  type CommandRoute,
  type Connection,
  InvalidArgumentError,
  type RedisArgument,
} from '@cachex/core'
import { delay, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Lock, LockError, LockNotOwnedError, lockFactory } from '../src/index.ts'
import { BACKENDS, type BackendServer, backendServer } from './helpers.ts'

describe.each(BACKENDS)('%s', (backend) => {
  let server: BackendServer
  let connection: Connection
  const extraConnections: Connection[] = []

  beforeAll(async () => {
    server = await backendServer(backend)
    connection = server.connect()
  })

  afterAll(async () => {
    for (const c of extraConnections.splice(0)) await c.close()
    await connection?.close()
    await server?.stop()
  })

  function newConnection(): Connection {
    const c = server.connect()
    extraConnections.push(c)
    return c
  }

  function lockName(): string {
    return uniquePrefix('lock')
  }

  async function get(key: string): Promise<string | null> {
    const reply = await connection.command(['GET', key])
    return reply === null ? null : String(reply)
  }

  async function pttl(key: string): Promise<number> {
    return (await connection.command(['PTTL', key])) as number
  }

  /** A real connection that counts the commands sent through it, by command name. */
  function counting(inner: Connection): { connection: Connection; count(name: string): number } {
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
    return { connection: wrapped, count: (name) => counts.get(name) ?? 0 }
  }

  describe('acquire and release', () => {
    it('acquires, stores the token raw, and releases', async () => {
      const name = lockName()
      const lock = new Lock(connection, name)
      expect(lock.token).toBeNull()
      expect(await lock.acquire()).toBe(true)
      expect(lock.token).toMatch(/^[0-9a-f]{32}$/)
      expect(await get(name)).toBe(lock.token)
      // no timeout: the key never expires
      expect(await pttl(name)).toBe(-1)
      await lock.release()
      expect(lock.token).toBeNull()
      expect(await get(name)).toBeNull()
    })

    it('uses a fresh token on each acquire', async () => {
      const lock = new Lock(connection, lockName())
      await lock.acquire()
      const first = lock.token
      await lock.release()
      await lock.acquire()
      expect(lock.token).not.toBe(first)
      await lock.release()
    })

    it('stores a given token', async () => {
      const name = lockName()
      const lock = new Lock(connection, name)
      expect(await lock.acquire({ token: 'my-own-token' })).toBe(true)
      expect(lock.token).toBe('my-own-token')
      expect(await get(name)).toBe('my-own-token')
      expect(await lock.owned()).toBe(true)
      await lock.release()
      expect(await get(name)).toBeNull()
    })

    it('sets a PX TTL from timeout, and the lock expires by itself', async () => {
      const name = lockName()
      const lock = new Lock(connection, name, { timeout: 0.3 })
      expect(await lock.acquire()).toBe(true)
      const ttl = await pttl(name)
      expect(ttl).toBeGreaterThan(0)
      expect(ttl).toBeLessThanOrEqual(300)
      await delay(450)
      expect(await lock.locked()).toBe(false)
      expect(await get(name)).toBeNull()
      // another lock can take it now without waiting
      const other = new Lock(connection, name)
      expect(await other.acquire({ blocking: false })).toBe(true)
      await other.release()
    })

    it('sends the timeout in milliseconds for fractional seconds', async () => {
      const name = lockName()
      const lock = new Lock(connection, name, { timeout: 12.5 })
      await lock.acquire()
      const ttl = await pttl(name)
      expect(ttl).toBeGreaterThan(12_000)
      expect(ttl).toBeLessThanOrEqual(12_500)
      await lock.release()
    })

    it('non-blocking acquire on a held lock resolves false at once', async () => {
      const name = lockName()
      const holder = new Lock(connection, name)
      await holder.acquire()
      const other = new Lock(connection, name)
      const started = performance.now()
      expect(await other.acquire({ blocking: false })).toBe(false)
      expect(performance.now() - started).toBeLessThan(1000)
      expect(other.token).toBeNull()
      const nonBlocking = new Lock(connection, name, { blocking: false })
      expect(await nonBlocking.acquire()).toBe(false)
      // the holder's lock is untouched
      expect(await get(name)).toBe(holder.token)
      await holder.release()
    })

    it('blocking acquire gives up after blockingTimeout', async () => {
      const name = lockName()
      const holder = new Lock(connection, name)
      await holder.acquire()
      const other = new Lock(connection, name, { sleep: 0.05, blockingTimeout: 0.5 })
      let started = performance.now()
      expect(await other.acquire()).toBe(false)
      let elapsed = performance.now() - started
      expect(elapsed).toBeGreaterThanOrEqual(0.8 * 500)
      expect(elapsed).toBeLessThan(5 * 500)
      // per-call override
      started = performance.now()
      expect(await other.acquire({ blockingTimeout: 0.3 })).toBe(false)
      elapsed = performance.now() - started
      expect(elapsed).toBeGreaterThanOrEqual(0.8 * 300)
      expect(elapsed).toBeLessThan(5 * 300)
      // blockingTimeout 0: one try
      started = performance.now()
      expect(await other.acquire({ blockingTimeout: 0 })).toBe(false)
      expect(performance.now() - started).toBeLessThan(1000)
      expect(await get(name)).toBe(holder.token)
      await holder.release()
    })

    it('blocking acquire gets the lock once it is released', async () => {
      const name = lockName()
      const holder = new Lock(connection, name)
      await holder.acquire()
      const waiter = new Lock(connection, name, { sleep: 0.02, blockingTimeout: 5 })
      const acquired = waiter.acquire()
      await delay(150)
      await holder.release()
      expect(await acquired).toBe(true)
      expect(await get(name)).toBe(waiter.token)
      await waiter.release()
    })

    it('respects sleep between tries', async () => {
      const name = lockName()
      const holder = new Lock(connection, name)
      await holder.acquire()
      const { connection: counted, count } = counting(connection)
      const waiter = new Lock(counted, name, { sleep: 0.2, blockingTimeout: 1 })
      const started = performance.now()
      expect(await waiter.acquire()).toBe(false)
      const elapsed = performance.now() - started
      // about 1 + 1 s / 0.2 s tries; never more than one try per sleep (each try is the acquire
      // script: SET NX PX and the fencing token's INCR)
      expect(count('EVALSHA')).toBeGreaterThanOrEqual(3)
      expect(count('EVALSHA')).toBeLessThanOrEqual(7)
      expect(elapsed).toBeGreaterThanOrEqual(800)

      // a long sleep: a release right after the first try is noticed only after the sleep
      const slow = new Lock(connection, name, { sleep: 0.5, blockingTimeout: 5 })
      const slowStarted = performance.now()
      const acquired = slow.acquire()
      await delay(50)
      await holder.release()
      expect(await acquired).toBe(true)
      expect(performance.now() - slowStarted).toBeGreaterThanOrEqual(0.8 * 500)
      await slow.release()
    })

    it('an aborted signal ends a wait between tries at once, with its reason, and clears its timer', async () => {
      const name = lockName()
      const holder = new Lock(connection, name, { timeout: 30 })
      expect(await holder.acquire()).toBe(true)
      const controller = new AbortController()
      const waiter = new Lock(connection, name, { sleep: 60, signal: controller.signal })
      // Its 60 s sleep's timer, told apart from the connection's own timers (which come and go
      // with the calls in flight, so that a count of the process's timers can be off by one).
      const armed = vi.spyOn(globalThis, 'setTimeout')
      const cleared = vi.spyOn(globalThis, 'clearTimeout')
      const reason = new Error('stop waiting')
      try {
        const sleeping = () =>
          armed.mock.results[armed.mock.calls.findIndex((c) => c[1] === 60_000)]
        const waiting = waiter.acquire().catch((e: unknown) => e)
        // Until its first try was refused and it sleeps (its 60 s timer is armed).
        const until = performance.now() + 10_000
        while (sleeping() === undefined && performance.now() < until) await delay(10)
        const timer = sleeping()?.value
        expect(timer).toBeDefined()
        const start = performance.now()
        controller.abort(reason)
        expect(await waiting).toBe(reason)
        expect(performance.now() - start).toBeLessThan(1000)
        // Its timer is gone: nothing holds the process open for the rest of the 60 s.
        expect(cleared).toHaveBeenCalledWith(timer)
      } finally {
        armed.mockRestore()
        cleared.mockRestore()
      }
      // Aborted before it starts, it makes no try.
      await expect(waiter.acquire()).rejects.toBe(reason)
      expect(waiter.token).toBeNull()
      await holder.release()
    })

    it('release of an unheld lock rejects with LockError', async () => {
      const lock = new Lock(connection, lockName())
      const error = await lock.release().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(LockError)
      expect(error).not.toBeInstanceOf(LockNotOwnedError)
      await lock.acquire()
      await lock.release()
      await expect(lock.release()).rejects.toBeInstanceOf(LockError)
    })

    it('release by a non-owner rejects with LockNotOwnedError and leaves the new holder alone', async () => {
      const name = lockName()
      const first = new Lock(connection, name, { timeout: 0.1 })
      await first.acquire()
      await delay(250)
      const second = new Lock(connection, name, { timeout: 10 })
      expect(await second.acquire({ blocking: false })).toBe(true)
      await expect(first.release()).rejects.toBeInstanceOf(LockNotOwnedError)
      expect(first.token).toBeNull()
      expect(await get(name)).toBe(second.token)
      expect(await second.owned()).toBe(true)
      expect(await pttl(name)).toBeGreaterThan(9000)
      await second.release()
    })

    it('release after the lock expired (nobody else took it) rejects with LockNotOwnedError', async () => {
      const lock = new Lock(connection, lockName(), { timeout: 0.1 })
      await lock.acquire()
      await delay(250)
      await expect(lock.release()).rejects.toBeInstanceOf(LockNotOwnedError)
    })

    it('release of a lock whose key was overwritten rejects with LockNotOwnedError', async () => {
      const name = lockName()
      const lock = new Lock(connection, name)
      await lock.acquire()
      await connection.command(['SET', name, 'someone-else'])
      await expect(lock.release()).rejects.toBeInstanceOf(LockNotOwnedError)
      expect(await get(name)).toBe('someone-else')
    })

    it('a lock no longer owned says which, and how it may have been lost', async () => {
      const name = lockName()
      const expiring = new Lock(connection, name, { timeout: 30 })
      await expiring.acquire()
      await connection.command(['DEL', name])
      for (const [action, call] of [
        ['extend', () => expiring.extend(1)],
        ['reacquire', () => expiring.reacquire()],
        ['release', () => expiring.release()],
      ] as const) {
        await expect(call()).rejects.toThrow(
          new LockNotOwnedError(
            `cannot ${action} a lock that's no longer owned: the lock '${name}' is not held by this token — it expired (its timeout: 30 s, or what extend() gave it), or its key was deleted (a delete, a clear, an eviction), and another holder may have taken it since`,
          ),
        )
      }
      const forever = new Lock(connection, name)
      await forever.acquire()
      await connection.command(['DEL', name])
      await expect(forever.release()).rejects.toThrow(
        /^cannot release a lock that's no longer owned: the lock '.*' is not held by this token — its key was deleted \(a delete, a clear, an eviction\), and another/,
      )
    })
  })

  describe('contention', () => {
    it('lets exactly one of 6 holders into the critical section at a time', async () => {
      const name = lockName()
      const counter = `${name}:counter`
      const holders = 6
      const rounds = 15
      let inside = 0
      let maxInside = 0
      let sections = 0
      const worker = async (index: number) => {
        const own = newConnection()
        const lock = new Lock(own, name, { timeout: 10, sleep: 0.005, blockingTimeout: 20 })
        for (let round = 0; round < rounds; round++) {
          expect(await lock.acquire()).toBe(true)
          inside++
          maxInside = Math.max(maxInside, inside)
          try {
            const current = Number(String((await own.command(['GET', counter])) ?? '0'))
            await delay((index + round) % 3)
            await own.command(['SET', counter, String(current + 1)])
            sections++
          } finally {
            inside--
            await lock.release()
          }
        }
      }
      await Promise.all(Array.from({ length: holders }, (_, i) => worker(i)))
      expect(maxInside).toBe(1)
      expect(sections).toBe(holders * rounds)
      expect(await get(counter)).toBe(String(holders * rounds))
      expect(await get(name)).toBeNull()
    })

    it('without the lock the same workload loses updates (the test can fail)', async () => {
      const counter = `${lockName()}:counter`
      const worker = async () => {
        for (let round = 0; round < 5; round++) {
          const current = Number(String((await connection.command(['GET', counter])) ?? '0'))
          await delay(1)
          await connection.command(['SET', counter, String(current + 1)])
        }
      }
      await Promise.all(Array.from({ length: 6 }, () => worker()))
      expect(Number(await get(counter))).toBeLessThan(30)
    })
  })

  describe('extend and reacquire', () => {
    it('extend adds time', async () => {
      const name = lockName()
      const lock = new Lock(connection, name, { timeout: 1 })
      await lock.acquire()
      const before = await pttl(name)
      expect(await lock.extend(2)).toBe(true)
      const after = await pttl(name)
      expect(after).toBeGreaterThan(before)
      expect(after).toBeGreaterThan(2000)
      expect(after).toBeLessThanOrEqual(3000)
      await lock.release()
    })

    it('extend with replaceTtl sets the remaining time', async () => {
      const name = lockName()
      const lock = new Lock(connection, name, { timeout: 10 })
      await lock.acquire()
      expect(await lock.extend(2, { replaceTtl: true })).toBe(true)
      const ttl = await pttl(name)
      expect(ttl).toBeGreaterThan(1500)
      expect(ttl).toBeLessThanOrEqual(2000)
      await lock.release()
    })

    it('extend by less than 1 ms sets the smallest expiry Redis takes (1 ms), never 0, which deletes the lock', async () => {
      const name = lockName()
      // A real connection that keeps the arguments of the scripts sent through it.
      const scripts: RedisArgument[][] = []
      const recording: Connection = {
        command(args: RedisArgument[], route?: CommandRoute) {
          if (/^EVAL/i.test(String(args[0]))) scripts.push(args)
          return connection.command(args, route)
        },
        batch: (commands, route) => connection.batch(commands, route),
        scan: (pattern, count) => connection.scan(pattern, count),
        flush: () => connection.flush(),
        client: (options) => connection.client(options),
        close: () => connection.close(),
      }
      const lock = new Lock(recording, name, { timeout: 10 })
      expect(await lock.acquire()).toBe(true)
      scripts.length = 0
      expect(await lock.extend(0.0001, { replaceTtl: true })).toBe(true)
      // EVAL(SHA) script 1 key token milliseconds replace: PEXPIRE 0 would delete the key at once.
      expect(scripts.map((args) => String(args[5]))).toEqual(['1'])
      scripts.length = 0
      // Added to the remaining time, it adds at least nothing, never less.
      const held = new Lock(recording, lockName(), { timeout: 10 })
      expect(await held.acquire()).toBe(true)
      scripts.length = 0
      expect(await held.extend(0.0004)).toBe(true)
      expect(scripts.map((args) => String(args[5]))).toEqual(['1'])
      expect(await pttl(held.name)).toBeGreaterThan(9000)
      await held.release()
    })

    it('extend on a lock without timeout rejects with LockError', async () => {
      const lock = new Lock(connection, lockName())
      await lock.acquire()
      await expect(lock.extend(1)).rejects.toBeInstanceOf(LockError)
      await lock.release()
    })

    it('extend of an unheld lock rejects with LockError', async () => {
      const lock = new Lock(connection, lockName(), { timeout: 1 })
      const error = await lock.extend(1).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(LockError)
      expect(error).not.toBeInstanceOf(LockNotOwnedError)
    })

    it('extend after losing the lock rejects with LockNotOwnedError', async () => {
      const name = lockName()
      const lock = new Lock(connection, name, { timeout: 0.1 })
      await lock.acquire()
      await delay(250)
      // expired, nobody holds it
      await expect(lock.extend(1)).rejects.toBeInstanceOf(LockNotOwnedError)
      // someone else holds it
      const other = new Lock(connection, name, { timeout: 5 })
      await other.acquire()
      await expect(lock.extend(1)).rejects.toBeInstanceOf(LockNotOwnedError)
      const ttl = await pttl(name)
      expect(ttl).toBeGreaterThan(4000)
      expect(ttl).toBeLessThanOrEqual(5000)
      await other.release()
    })

    it('reacquire resets the TTL to the timeout', async () => {
      const name = lockName()
      const lock = new Lock(connection, name, { timeout: 1 })
      await lock.acquire()
      await delay(350)
      expect(await pttl(name)).toBeLessThan(800)
      expect(await lock.reacquire()).toBe(true)
      expect(await pttl(name)).toBeGreaterThan(900)
      await lock.release()
    })

    it('reacquire after losing the lock rejects with LockNotOwnedError', async () => {
      const name = lockName()
      const lock = new Lock(connection, name, { timeout: 0.1 })
      await lock.acquire()
      await delay(250)
      await expect(lock.reacquire()).rejects.toBeInstanceOf(LockNotOwnedError)
      const noTimeout = new Lock(connection, lockName())
      await noTimeout.acquire()
      await expect(noTimeout.reacquire()).rejects.toBeInstanceOf(LockError)
      await noTimeout.release()
    })
  })

  describe('locked and owned', () => {
    it('tell whether anyone holds the lock and whether it is ours', async () => {
      const name = lockName()
      const mine = new Lock(connection, name)
      const theirs = new Lock(connection, name)
      expect(await mine.locked()).toBe(false)
      expect(await mine.owned()).toBe(false)
      await mine.acquire()
      expect(await mine.locked()).toBe(true)
      expect(await mine.owned()).toBe(true)
      expect(await theirs.locked()).toBe(true)
      expect(await theirs.owned()).toBe(false)
      await mine.release()
      expect(await mine.locked()).toBe(false)
      expect(await mine.owned()).toBe(false)
    })

    it('owned is false once the key holds another token', async () => {
      const name = lockName()
      const lock = new Lock(connection, name)
      await lock.acquire()
      await connection.command(['SET', name, 'other'])
      expect(await lock.owned()).toBe(false)
      expect(await lock.locked()).toBe(true)
      await connection.command(['DEL', name])
    })
  })

  describe('withLock and async dispose', () => {
    it('withLock returns the value of fn and releases', async () => {
      const name = lockName()
      const lock = new Lock(connection, name)
      const result = await lock.withLock(async () => {
        expect(await get(name)).toBe(lock.token)
        return 42
      })
      expect(result).toBe(42)
      expect(await lock.locked()).toBe(false)
      expect(lock.token).toBeNull()
      expect(await lock.withLock(() => 'sync')).toBe('sync')
    })

    it('withLock releases when fn throws, and rejects with its error', async () => {
      const name = lockName()
      const lock = new Lock(connection, name)
      const boom = new Error('boom')
      await expect(
        lock.withLock(async () => {
          expect(await lock.owned()).toBe(true)
          throw boom
        }),
      ).rejects.toBe(boom)
      expect(await lock.locked()).toBe(false)
      expect(lock.token).toBeNull()
    })

    it('withLock keeps the error of fn when the lock was lost meanwhile (a SuppressedError, as await using)', async () => {
      const name = lockName()
      const lock = new Lock(connection, name, { timeout: 0.2 })
      const thief = new Lock(newConnection(), name, { timeout: 10 })
      const boom = new Error('boom')
      const error = await lock
        .withLock(async () => {
          await delay(400) // the lock expires on the server
          expect(await thief.acquire()).toBe(true)
          throw boom
        })
        .catch((e: unknown) => e)
      expect((error as Error).name).toBe('SuppressedError')
      expect((error as { suppressed: unknown }).suppressed).toBe(boom)
      expect((error as { error: unknown }).error).toBeInstanceOf(LockNotOwnedError)
      expect((error as Error).message).toMatch(/no longer owned.*boom/)
      // the thief's lock is untouched
      expect(await get(name)).toBe(thief.token)
      await thief.release()
    })

    it('withLock resolves what fn returned when the connection closed while it ran', async () => {
      const name = lockName()
      const own = newConnection()
      const lock = new Lock(own, name, { timeout: 10 })
      expect(
        await lock.withLock(async () => {
          await own.close()
          return 'done'
        }),
      ).toBe('done')
      await connection.command(['DEL', name])
    })

    it('withLock rejects with LockError when the lock cannot be had', async () => {
      const name = lockName()
      const holder = new Lock(connection, name)
      await holder.acquire()
      let ran = false
      const other = new Lock(connection, name, { blocking: false })
      await expect(
        other.withLock(() => {
          ran = true
        }),
      ).rejects.toBeInstanceOf(LockError)
      expect(ran).toBe(false)
      expect(await get(name)).toBe(holder.token)
      await holder.release()
    })

    it('is not disposable: `await using` on a lock that was never taken does not compile', async () => {
      const name = lockName()
      const lock = new Lock(connection, name)
      expect(Symbol.asyncDispose in lock).toBe(false)
      const misuse = async () => {
        // @ts-expect-error a Lock is not AsyncDisposable: cache.acquireLock() gives a held lock for that
        await using unheld = new Lock(connection, name)
        void unheld
      }
      // At run time too, `await using` refuses it (TypeError), instead of running the block unlocked.
      await expect(misuse()).rejects.toBeInstanceOf(TypeError)
      expect(await get(name)).toBeNull()
    })
  })

  describe('options', () => {
    it('rejects invalid options with InvalidArgumentError', () => {
      const name = lockName()
      const bad = [
        { sleep: -1 },
        { sleep: 0 },
        { sleep: Number.NaN },
        { timeout: 0 },
        { timeout: -1 },
        { timeout: Number.NaN },
        { timeout: Number.POSITIVE_INFINITY },
        { blockingTimeout: -1 },
        { blockingTimeout: Number.NaN },
        { timeout: '5' as unknown as number },
      ]
      for (const options of bad) {
        expect(() => new Lock(connection, name, options), JSON.stringify(options)).toThrow(
          InvalidArgumentError,
        )
      }
      expect(() => new Lock(connection, '')).toThrow(InvalidArgumentError)
      expect(() => new Lock(connection, name, { blocking: 'no' as never })).toThrow(
        InvalidArgumentError,
      )
      expect(() => new Lock(connection, name, { signal: {} as never })).toThrow(
        /signal must be an AbortSignal/,
      )
    })

    it('rejects invalid per-call options with InvalidArgumentError', async () => {
      const lock = new Lock(connection, lockName(), { timeout: 1 })
      await expect(lock.acquire({ blockingTimeout: -1 })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
      await expect(lock.acquire({ blockingTimeout: Number.NaN })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
      expect(lock.token).toBeNull()
      await lock.acquire()
      await expect(lock.extend(-1)).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(lock.extend(Number.NaN)).rejects.toBeInstanceOf(InvalidArgumentError)
      await lock.release()
    })

    it('refuses per-call options that are not a plain object (a Date, a Map: no keys to check)', async () => {
      const lock = new Lock(connection, lockName(), { timeout: 1 })
      await expect(lock.acquire(new Date() as never)).rejects.toThrow(/got a Date/)
      await expect(lock.acquire(new Map() as never)).rejects.toThrow(/got a Map/)
      expect(lock.token).toBeNull()
    })

    it('keeps redis-py defaults', () => {
      const lock = new Lock(connection, lockName())
      expect(lock.timeout).toBeNull()
      expect(lock.sleep).toBe(0.1)
      expect(lock.blocking).toBe(true)
      expect(lock.blockingTimeout).toBeNull()
    })
  })

  describe('through a Cache', () => {
    it('cache.lock() puts the name through the key function', async () => {
      const prefix = uniquePrefix('p')
      const cache = new Cache({ connection, keyPrefix: prefix, lockFactory })
      const lock = cache.lock('k', { timeout: 5 })
      expect(lock.name).toBe(`${prefix}:1:k`)
      expect(await lock.acquire()).toBe(true)
      expect(await get(`${prefix}:1:k`)).toBe(lock.token)
      expect(await pttl(`${prefix}:1:k`)).toBeGreaterThan(4000)
      await lock.release()
      expect(await get(`${prefix}:1:k`)).toBeNull()
    })
  })
})
