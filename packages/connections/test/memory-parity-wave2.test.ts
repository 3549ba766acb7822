// memory:// against a real redis-server, command by command, where Redis parses numbers its own
// way: score bounds read with C's `strtod` (spaces, hexadecimal, `''` as 0), INCRBYFLOAT and
// HINCRBYFLOAT computed in long doubles and printed with `%.17Lf`, blocking timeouts whose
// milliseconds overflow, and XADD's `ms-*` past the last sequence. Replies are compared as text,
// errors by message.

import { standalone } from '@cachex/connections'
import { describe, expect, it, vi } from 'vitest'
import { bothBackends, send } from './_both-backends.ts'

const backends = bothBackends()
const both = backends.both

describe('score bounds, as strtod reads them', () => {
  const bounds = [
    '',
    '(',
    ' 1',
    '\t1',
    '\n1',
    '0x10',
    '0X10',
    '-0x10',
    '0x1p4',
    '0x1.8p1',
    '0x',
    '1 ',
    ' ',
    '+',
    '.',
    '1e',
    '+.5',
    '5.',
    'infinity',
    'INF',
    '-Infinity',
    'infinit',
    'nan',
    '(inf',
    '(-inf',
    '( 5',
    '((1',
    '1e400',
    '-1e400',
    '1e-400',
    '1_0',
    '0b1',
    '2.5e0',
  ]

  it.each(bounds)('ZCOUNT, ZRANGEBYSCORE and ZREMRANGEBYSCORE with %j', async (text) => {
    await both('ZADD', 'z', '0', 'a', '1', 'b', '3', 'c', '16', 'd', '20', 'e')
    await both('ZCOUNT', 'z', text, '+inf')
    await both('ZCOUNT', 'z', '-inf', text)
    await both('ZRANGEBYSCORE', 'z', text, '+inf')
    await both('ZREVRANGEBYSCORE', 'z', '+inf', text)
    await both('ZRANGE', 'z', text, '+inf', 'BYSCORE')
    await both('ZREMRANGEBYSCORE', 'z', text, text)
    await both('ZRANGE', 'z', '0', '-1', 'WITHSCORES')
  })
})

describe('INCRBYFLOAT and HINCRBYFLOAT, in long doubles', () => {
  // Each sequence runs on a fresh key: the replies (the text stored) and the errors must agree.
  const sequences: string[][] = [
    ['123456789.123456789'],
    ['1e21'],
    ['1e-20'],
    ['-1e-20'],
    ['0.1', '0.2', '0.3', '-0.6'],
    ['1.5', '2.25', '-3.75'],
    ['1e308', '1e308'],
    ['1e400'],
    ['1e4932', '1e4932'],
    ['1.2e4932'],
    ['1e-4940', '1e-4960'],
    ['5e-324'],
    ['0.000003814697265625'],
    ['0.000011444091796875'],
    ['9007199254740993', '1'],
    ['18446744073709551616', '-1'],
    ['0x10', '0x1.8p1', '0X1P-3'],
    ['inf'],
    ['-inf'],
    ['infinity'],
    ['nan'],
    [' 1'],
    ['1 '],
    [''],
    ['.5', '5.', '+2', '-0', '3e+2', '3E-2'],
    ['1e', 'e1', '.', '1..2', '--1', '0x', '1_000'],
    ['3.0e-5', '5.0e3', '7'],
  ]

  it.each(sequences)('INCRBYFLOAT %j…', async (...deltas) => {
    for (const delta of deltas) {
      await both('INCRBYFLOAT', 'n', delta)
      await both('GET', 'n')
    }
  })

  it.each(sequences)('HINCRBYFLOAT %j…', async (...deltas) => {
    for (const delta of deltas) {
      await both('HINCRBYFLOAT', 'h', 'f', delta)
      await both('HGET', 'h', 'f')
    }
  })

  it('random doubles and their sums print as Redis prints them', async () => {
    let seed = 12345
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed / 2147483648
    }
    for (let i = 0; i < 300; i++) {
      const magnitude = 10 ** Math.floor(rand() * 40 - 20)
      const delta = String((rand() - 0.5) * magnitude)
      await both('INCRBYFLOAT', `n${i % 7}`, delta)
      await both('HINCRBYFLOAT', 'h', `f${i % 5}`, delta)
    }
  })

  it('stored values: what a previous write left, and the checks before the sum', async () => {
    for (const stored of ['abc', '', ' 1', '0x10', '1e4932', '-0', '7', '1.5e3', 'inf']) {
      await both('SET', 's', stored)
      await both('INCRBYFLOAT', 's', '1')
      await both('INCRBYFLOAT', 's', 'inf')
      await both('HSET', 'h', 'f', stored)
      await both('HINCRBYFLOAT', 'h', 'f', '1')
      await both('HINCRBYFLOAT', 'h', 'f', 'inf')
    }
    // An infinite increment is refused before the key's type is looked at, for HINCRBYFLOAT.
    await both('HINCRBYFLOAT', 's', 'f', 'inf')
    await both('HINCRBYFLOAT', 's', 'f', '-inf')
    await both('HINCRBYFLOAT', 's', 'f', '1')
    await both('RPUSH', 'l', 'x')
    await both('INCRBYFLOAT', 'l', 'inf')
  })
})

describe('blocking timeouts past what Redis holds', () => {
  // Each is parsed before the lists are looked at: these answer at once, data or not.
  const refused = ['1e16', '9.3e15', '1e20', '9.2233720368548e15', 'inf', '-inf', '1e400', '-1']
  const malformed = ['nan', ' 1', '1 ', '', 'abc', '1e5000']

  it.each([...refused, ...malformed])('BLPOP, BRPOP and BLMOVE with %j', async (timeout) => {
    await both('BLPOP', 'missing', timeout)
    await both('BRPOP', 'missing', 'other', timeout)
    await both('BLMOVE', 'missing', 'dst', 'LEFT', 'RIGHT', timeout)
    await both('RPUSH', 'l', 'a')
    await both('BLPOP', 'l', timeout)
    await both('BLMOVE', 'l', 'dst', 'LEFT', 'RIGHT', timeout)
    await both('LRANGE', 'l', '0', '-1')
  })

  it('a timeout under a millisecond is one millisecond, not forever', async () => {
    for (const timeout of ['0.0001', '1e-300', '0.0015', '0x1p-12']) {
      await both('BLPOP', 'missing', timeout)
    }
    await both('RPUSH', 'l', 'a')
    await both('BLPOP', 'l', '0.0001')
  }, 20_000)
})

describe('XADD ms-* on a full sequence', () => {
  it('answers as Redis 7.0 does', async () => {
    await both('XADD', 's', '5-18446744073709551615', 'f', 'v')
    await both('XADD', 's', '5-*', 'f', 'v')
    await both('XADD', 's', '4-*', 'f', 'v')
    await both('XADD', 's', '6-*', 'f', 'v')
    await both('XLEN', 's')
    await both('XADD', 't', '18446744073709551615-18446744073709551615', 'f', 'v')
    await both('XADD', 't', '18446744073709551615-*', 'f', 'v')
    await both('XADD', 't', '*', 'f', 'v')
  })
})

describe('GETRANGE (the admin reads the head of a string too large to fetch with it)', () => {
  it('answers as Redis, its index rules and errors included', async () => {
    await both('SET', 's', 'abcdef')
    await both('SET', 'e', '')
    await both('HSET', 'h', 'f', 'v')
    const ranges = [
      ['0', '3'],
      ['-3', '-1'],
      ['-1', '-3'],
      ['5', '2'],
      ['0', '100'],
      ['-100', '2'],
      ['-100', '-50'],
      ['2', '-100'],
      ['10', '20'],
      ['0', '-1'],
      ['-9223372036854775808', '9223372036854775807'],
      ['x', '1'],
      ['1', '9223372036854775808'],
    ]
    for (const [start, end] of ranges) {
      for (const key of ['s', 'e', 'missing', 'h']) {
        await both('GETRANGE', key, start as string, end as string)
      }
    }
    await both('GETRANGE', 's', '1')
  })
})

describe('a command of more arguments than 2^20', () => {
  it('is taken, as Redis takes up to 2^31 - 1', async () => {
    const del = ['DEL', ...Array.from({ length: 1_048_577 }, (_, i) => `k${i}`)]
    await both('SET', 'k7', 'v')
    // Writing 1M arguments and Redis parsing them can outlast the 5 s socket timeout when every
    // core is busy: this connection waits as long as the test may.
    const patient = standalone({ location: backends.url, socketTimeout: 55 })
    try {
      const [want, got] = await Promise.all([send(patient, del), send(backends.mem, del)])
      expect(want).toBe(1)
      expect(got).toBe(want)
    } finally {
      await patient.close()
    }
  }, 60_000)
})

describe('the millisecond a key expires at', () => {
  it("the key is alive during it and PTTL answers 0, as Redis's keyIsExpired (now > when)", async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      const t = 1_900_000_000_000
      vi.setSystemTime(t)
      await backends.mem.command(['SET', 'k', 'v', 'PX', '5'])
      await backends.mem.command(['SET', 'other', 'v', 'PXAT', String(t + 5)])
      vi.setSystemTime(t + 5)
      expect(await send(backends.mem, ['PTTL', 'k'])).toBe(0)
      expect(await send(backends.mem, ['TTL', 'k'])).toBe(0)
      expect(await send(backends.mem, ['GET', 'k'])).toBe('v')
      expect(await send(backends.mem, ['EXISTS', 'other'])).toBe(1)
      expect(await send(backends.mem, ['SCAN', '0', 'COUNT', '100'])).toEqual(['0', ['k', 'other']])
      expect(await send(backends.mem, ['MEMORY', 'USAGE', 'k'])).not.toBeNull()
      // KEEPTTL keeps an expiry that is now: the key lives to its end, as on Redis.
      expect(await send(backends.mem, ['SET', 'k', 'w', 'KEEPTTL'])).toBe('OK')
      expect(await send(backends.mem, ['GET', 'k'])).toBe('w')
      vi.setSystemTime(t + 6)
      expect(await send(backends.mem, ['PTTL', 'k'])).toBe(-2)
      expect(await send(backends.mem, ['GET', 'other'])).toBeNull()
    } finally {
      vi.useRealTimers()
    }
  })
})
