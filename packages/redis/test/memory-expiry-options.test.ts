// memory://: the active expiry of keys nobody reads (Redis's, bounded per run), the checks on
// `memoryOptions` and on a memory:// location, and two replies compared with redis-server 7.0's
// (`-0` is no integer; DECRBY of the lowest integer).
import { memory, standalone } from '@cachex/connections'
import type { Connection } from '@cachex/core'
import { createCache, InvalidArgumentError } from '@cachex/redis'
import { delay, standaloneServer } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

/** Writes `n` keys `key:0…` of 100 bytes expiring in `ms`, 1,000 a batch. */
async function writeExpiring(c: Connection, n: number, ms: number, prefix = 'key'): Promise<void> {
  for (let i = 0; i < n; i += 1000) {
    const batch: string[][] = []
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      batch.push(['SET', `${prefix}:${j}`, 'x'.repeat(100), 'PX', String(ms)])
    }
    await c.batch(batch)
  }
}

/** Polls DBSIZE until it is at most `most`, or `ms` pass; the last DBSIZE. */
async function dbsizeDownTo(c: Connection, most: number, ms: number): Promise<number> {
  const until = Date.now() + ms
  let size = Number(await c.command(['DBSIZE']))
  while (size > most && Date.now() < until) {
    await delay(50)
    size = Number(await c.command(['DBSIZE']))
  }
  return size
}

async function usedMemory(c: Connection): Promise<number> {
  const info = String(await c.command(['INFO', 'memory']))
  return Number(/used_memory:(\d+)/.exec(info)?.[1])
}

describe('memory:// active expiry', () => {
  it('50k keys with a 300 ms TTL, never read, are swept as on redis-server (DBSIZE, used_memory)', async () => {
    const server = await standaloneServer()
    const real = standalone({ location: server.url })
    const mem = memory({ location: 'memory://', memoryOptions: { maxBytes: null } })
    try {
      await mem.command(['SET', 'kept', 'v'])
      const baseline = await usedMemory(mem)
      await writeExpiring(real, 50_000, 300)
      await writeExpiring(mem, 50_000, 300)
      expect(await usedMemory(mem)).toBeGreaterThan(baseline + 50_000 * 100)
      expect(await dbsizeDownTo(real, 100, 10_000)).toBeLessThanOrEqual(100)
      expect(await dbsizeDownTo(mem, 1, 10_000)).toBe(1)
      expect(await usedMemory(mem)).toBe(baseline)
      expect(await mem.command(['GET', 'kept'])).toEqual(Buffer.from('v'))
    } finally {
      await Promise.all([real.close(), mem.close()])
      await server.stop()
    }
  }, 60_000)

  it('INFO keyspace counts the keys with an expiry, as redis-server does', async () => {
    const mem = memory({ location: 'memory://' })
    try {
      await mem.batch([
        ['SET', 'a', 'v', 'PX', '60000'],
        ['SET', 'b', 'v'],
        ['SET', 'c', 'v', 'EX', '60'],
      ])
      await mem.command(['PERSIST', 'c'])
      expect(String(await mem.command(['INFO', 'keyspace']))).toContain('db0:keys=3,expires=1,')
    } finally {
      await mem.close()
    }
  })

  it('sweeps in bounded slices: the event loop stays responsive while 500k keys expire', async () => {
    const mem = memory({ location: 'memory://', memoryOptions: { maxBytes: null } })
    const realNow = Date.now
    try {
      for (let i = 0; i < 500_000; i += 1000) {
        const batch: string[][] = []
        for (let j = i; j < i + 1000; j++) batch.push(['SET', `key:${j}`, 'v', 'PX', '60000'])
        await mem.batch(batch)
      }
      // A minute passes at once: the sweep meets 500k expired keys (a whole sweep of them takes
      // several hundred ms of CPU).
      vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 61_000)
      // The longest time the loop was held between two turns, as this process's CPU time in it
      // (a loaded machine's scheduling delays are no stall of ours).
      let worst = 0
      let lastWall = performance.now()
      let lastCpu = process.cpuUsage()
      let running = true
      const spin = (): void => {
        const wall = performance.now()
        const cpu = process.cpuUsage()
        const busy = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000
        worst = Math.max(worst, Math.min(wall - lastWall, busy))
        lastWall = wall
        lastCpu = cpu
        if (running) setImmediate(spin)
      }
      setImmediate(spin)
      const left = await dbsizeDownTo(mem, 0, 20_000)
      running = false
      expect(left).toBe(0)
      expect(worst).toBeLessThan(200)
    } finally {
      vi.restoreAllMocks()
      await mem.close()
    }
  }, 60_000)

  it('follows EXPIRE, PERSIST, SET and RENAME of a key: drops what expired, keeps the rest', async () => {
    const mem = memory({ location: 'memory://' })
    try {
      for (let i = 0; i < 100; i++) {
        await mem.batch([
          ['SET', `expire:${i}`, 'v'],
          ['PEXPIRE', `expire:${i}`, '100'], // given a TTL after it was set: swept
          ['SET', `persist:${i}`, 'v', 'PX', '100'],
          ['PERSIST', `persist:${i}`], // TTL taken off: kept
          ['SET', `later:${i}`, 'v', 'PX', '100'],
          ['PEXPIRE', `later:${i}`, '60000'], // TTL moved later: kept
          ['SET', `replaced:${i}`, 'v', 'PX', '100'],
          ['SET', `replaced:${i}`, 'w'], // overwritten without a TTL: kept
          ['SET', `renamed:${i}`, 'v', 'PX', '100'],
          ['RENAME', `renamed:${i}`, `moved:${i}`], // the TTL moves with it: swept
          ['HSET', `hash:${i}`, 'f', 'v'],
          ['PEXPIRE', `hash:${i}`, '100'], // any type: swept
        ])
      }
      // Re-expiring one key many times leaves one live place for it.
      await mem.command(['SET', 'busy', 'v'])
      for (let i = 0; i < 20; i++) {
        await mem.batch(
          Array.from({ length: 1000 }, (_, j) => [
            'PEXPIRE',
            'busy',
            String(60_000 + i * 1000 + j),
          ]),
        )
      }
      expect(await dbsizeDownTo(mem, 301, 10_000)).toBe(301)
      const scanned: string[] = []
      let cursor = '0'
      do {
        const [next, keys] = (await mem.command(['SCAN', cursor, 'COUNT', '50'])) as [
          Buffer,
          Buffer[],
        ]
        cursor = String(next)
        scanned.push(...keys.map(String))
      } while (cursor !== '0')
      expect(scanned.sort()).toEqual(
        [
          'busy',
          ...Array.from({ length: 100 }, (_, i) => [
            `persist:${i}`,
            `later:${i}`,
            `replaced:${i}`,
          ]).flat(),
        ].sort(),
      )
      expect(await mem.command(['PTTL', 'persist:0'])).toBe(-1)
      expect(Number(await mem.command(['PTTL', 'busy']))).toBeGreaterThan(70_000)
    } finally {
      await mem.close()
    }
  }, 30_000)

  it('a SCAN walk begun before the sweep meets every key that stays, once', async () => {
    const mem = memory({ location: 'memory://', memoryOptions: { maxBytes: null } })
    try {
      const batch: string[][] = []
      for (let i = 0; i < 20_000; i++) {
        batch.push(
          i % 2 === 0 ? ['SET', `stay:${i}`, 'v'] : ['SET', `go:${i}`, 'v', 'PX', String(200)],
        )
      }
      await mem.batch(batch)
      const seen = new Map<string, number>()
      const step = async (cursor: string): Promise<string> => {
        const [next, keys] = (await mem.command(['SCAN', cursor, 'COUNT', '1000'])) as [
          Buffer,
          Buffer[],
        ]
        for (const key of keys.map(String)) seen.set(key, (seen.get(key) ?? 0) + 1)
        return String(next)
      }
      let cursor = await step('0')
      // The expiring half goes while the walk is under way.
      expect(await dbsizeDownTo(mem, 10_000, 10_000)).toBe(10_000)
      while (cursor !== '0') cursor = await step(cursor)
      for (let i = 0; i < 20_000; i += 2) expect(seen.get(`stay:${i}`)).toBe(1)
      expect([...seen.values()].every((n) => n === 1)).toBe(true)
    } finally {
      await mem.close()
    }
  }, 30_000)

  it('catches up at the same pace with a long sweepInterval; 0 turns the sweep off', async () => {
    const slow = memory({ location: 'memory://', memoryOptions: { sweepInterval: 1500 } })
    const off = memory({ location: 'memory://', memoryOptions: { sweepInterval: 0 } })
    try {
      await writeExpiring(slow, 100_000, 100)
      await writeExpiring(off, 1000, 50)
      expect(await dbsizeDownTo(slow, 0, 10_000)).toBe(0)
      await delay(200)
      expect(await off.command(['DBSIZE'])).toBe(1000)
      // Touched, an expired key still goes.
      expect(await off.command(['GET', 'key:0'])).toBeNull()
      expect(await off.command(['DBSIZE'])).toBe(999)
    } finally {
      await Promise.all([slow.close(), off.close()])
    }
  }, 30_000)

  it('a store shared by name is swept while in use, and its timer stops with the last close', async () => {
    const name = `memory://expiry-shared-${process.pid}`
    const a = memory({ location: name, memoryOptions: { sweepInterval: 20 } })
    const b = memory({ location: name })
    await writeExpiring(a, 2000, 50)
    expect(await dbsizeDownTo(b, 0, 5000)).toBe(0)
    await a.close()
    await writeExpiring(b, 10, 10)
    expect(await dbsizeDownTo(b, 0, 5000)).toBe(0)
    await b.close()
  })
})

describe('memoryOptions and memory:// locations are checked', () => {
  it('sweepInterval past 2^31 - 1 ms is refused, stating the range', async () => {
    for (const sweepInterval of [2 ** 31, 2 ** 32, Number.POSITIVE_INFINITY, -1, Number.NaN]) {
      expect(() => memory({ location: 'memory://', memoryOptions: { sweepInterval } })).toThrow(
        InvalidArgumentError,
      )
    }
    expect(() => memory({ memoryOptions: { sweepInterval: '100' as never } })).toThrow(
      InvalidArgumentError,
    )
    expect(() => memory({ memoryOptions: { sweepInterval: 2 ** 32 } })).toThrow(
      /sweepInterval must be from 0 \(no sweep\) to 2147483647 milliseconds.*got 4294967296/,
    )
    const warnings: string[] = []
    const onWarning = (w: Error): void => {
      warnings.push(w.name)
    }
    process.on('warning', onWarning)
    const longest = memory({ memoryOptions: { sweepInterval: 2 ** 31 - 1 } })
    try {
      await longest.command(['SET', 'k', 'v', 'PX', '10'])
      await delay(50)
      // The longest interval is honoured: no sweep yet, no 1 ms timer.
      expect(warnings).not.toContain('TimeoutOverflowWarning')
      expect(await longest.command(['DBSIZE'])).toBe(1)
    } finally {
      process.off('warning', onWarning)
      await longest.close()
    }
  })

  it('a memory:// location with a malformed %-escape gets InvalidArgumentError, not URIError', () => {
    for (const location of ['memory://%', 'memory://a%E0%A4%A', 'memory://%zz']) {
      expect(() => createCache({ location })).toThrow(InvalidArgumentError)
      expect(() => memory({ location })).toThrow(/invalid memory location .*%-escape/)
    }
    const spaced = memory({ location: 'memory://a%20b' }) as { storeName?: string } & Connection
    expect(spaced.storeName).toBe('a b')
    return spaced.close()
  })

  it("a memory:// location holding a Redis URL's credentials is refused without them", () => {
    for (const location of [
      'memory://u:Xq7#Zr9@x',
      'memory://u:Xq7@Zr9@x,redis://h:1/0',
      'memory://u:Xq7?Zr9@x',
      'memory://u:Xq7%Zr9@x',
      // Accepted before as the store named 'u:Xq7Zr9@x', which the admin showed as its address.
      'memory://u:Xq7Zr9@x',
    ]) {
      const message = (() => {
        try {
          memory({ location })
        } catch (error) {
          return (error as Error).message
        }
        return ''
      })()
      expect(message, location).toMatch(/^invalid memory location "memory:\/\/u:\*\*\*@x/)
      expect(message, location).not.toMatch(/Xq7|Zr9/)
    }
  })

  it('a misspelt memoryOptions name is refused, with the name meant', () => {
    expect(() =>
      createCache({ location: 'memory://', memoryOptions: { maxbytes: 1024 } as never }),
    ).toThrow(/unknown option 'maxbytes': did you mean 'maxBytes'\?/)
    expect(() => memory({ memoryOptions: { sweep_interval: 10 } as never })).toThrow(
      /did you mean 'sweepInterval'\?/,
    )
    expect(() => memory({ memoryOptions: { swepInterval: 10 } as never })).toThrow(
      /did you mean 'sweepInterval'\?/,
    )
    expect(() => memory({ memoryOptions: { ttl: 10 } as never })).toThrow(
      "memoryOptions takes maxBytes and sweepInterval, got an unknown option 'ttl'",
    )
  })

  it('memoryOptions that is not an object is refused', () => {
    for (const value of [5, 'big', [], null, true]) {
      expect(() => createCache({ location: 'memory://', memoryOptions: value as never })).toThrow(
        InvalidArgumentError,
      )
    }
    expect(() => memory({ memoryOptions: 5 as never })).toThrow(
      'memoryOptions takes an object { maxBytes?, sweepInterval? }, got 5',
    )
    expect(() => memory({ memoryOptions: { maxBytes: '1024' as never } })).toThrow(
      'memoryOptions.maxBytes must be a positive integer or null, got a string',
    )
  })

  it('takes {}, undefined and every known name', async () => {
    const caches = [
      createCache({ location: 'memory://' }),
      createCache({ location: 'memory://', memoryOptions: {} }),
      createCache({ location: 'memory://', memoryOptions: undefined }),
      createCache({
        location: 'memory://',
        memoryOptions: { maxBytes: null, sweepInterval: 250 },
      }),
      createCache({ location: 'memory://', memoryOptions: { maxBytes: 1 << 20 } }),
    ]
    for (const cache of caches) {
      await cache.set('k', 1)
      expect(await cache.get('k')).toBe(1)
    }
    await Promise.all(caches.map((c) => c.close()))
  })
})

describe('memory:// replies as redis-server 7.0', () => {
  let server: { url: string; stop(): Promise<void> }
  let real: Connection
  let mem: Connection
  beforeAll(async () => {
    server = await standaloneServer()
    real = standalone({ location: server.url })
    mem = memory({ location: 'memory://' })
  })
  afterAll(async () => {
    await Promise.all([real?.close(), mem?.close()])
    await server?.stop()
  })

  /** Each command's reply (or error message) on both, after FLUSHDB; the ones that differ. */
  async function differences(commands: string[][]): Promise<unknown[]> {
    const norm = (reply: unknown): unknown => {
      if (reply instanceof Error) return { error: reply.message }
      if (Buffer.isBuffer(reply)) return reply.toString('latin1')
      if (Array.isArray(reply)) return reply.map(norm)
      return reply
    }
    await real.command(['FLUSHDB'])
    await mem.command(['FLUSHDB'])
    const out: unknown[] = []
    for (const c of commands) {
      const a = norm(await real.command(c, { key: c[1] }).catch((e: Error) => e))
      const b = norm(await mem.command(c, { key: c[1] }).catch((e: Error) => e))
      if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ command: c, redis: a, memory: b })
    }
    return out
  }

  it("'-0' is not an integer (string2ll refuses it), '0' and '-1' are", async () => {
    const commands = [
      ['SET', 'a', '-0'],
      ['INCR', 'a'],
      ['DECR', 'a'],
      ['INCRBY', 'b', '-0'],
      ['DECRBY', 'b', '-0'],
      ['INCRBY', 'b', '0'],
      ['INCRBY', 'b', '-1'],
      ['HINCRBY', 'h', 'f', '-0'],
      ['HSET', 'h2', 'f', '-0'],
      ['HINCRBY', 'h2', 'f', '1'],
      ['RPUSH', 'l', 'a', 'b'],
      ['LINDEX', 'l', '-0'],
      ['LRANGE', 'l', '-0', '-0'],
      ['LRANGE', 'l', '0', '-1'],
      ['SET', 'e', 'v', 'EX', '-0'],
      ['EXPIRE', 'l', '-0'],
    ]
    expect(await differences(commands)).toEqual([])
    expect(await mem.command(['INCRBY', 'x', '-0']).catch((e: Error) => e.message)).toBe(
      'ERR value is not an integer or out of range',
    )
  })

  it('DECRBY of the lowest integer answers "ERR decrement would overflow", INCRBY past it another', async () => {
    const commands = [
      ['DECRBY', 'f', '-9223372036854775808'],
      ['SET', 'g', '-5'],
      ['DECRBY', 'g', '-9223372036854775808'],
      ['GET', 'g'],
      ['SET', 'w', 'text'],
      ['DECRBY', 'w', '-9223372036854775808'],
      ['HSET', 'hw', 'f', 'v'],
      ['DECRBY', 'hw', '-9223372036854775808'],
      ['SET', 'm', '-9223372036854775807'],
      ['DECRBY', 'm', '2'],
      ['DECR', 'm'],
      ['DECR', 'm'],
      ['SET', 'p', '9223372036854775807'],
      ['INCR', 'p'],
      ['INCRBY', 'p', '1'],
      ['DECRBY', 'p', '-1'],
      ['INCRBY', 'q', '-9223372036854775808'],
      ['DECRBY', 'q', '9223372036854775807'],
    ]
    expect(await differences(commands)).toEqual([])
    expect(
      await mem.command(['DECRBY', 'f', '-9223372036854775808']).catch((e: Error) => e.message),
    ).toBe('ERR decrement would overflow')
  })
})
