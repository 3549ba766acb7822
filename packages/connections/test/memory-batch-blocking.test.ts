// A blocking command in `connection.batch()` on memory://: a batch is a pipeline, whose commands a
// server runs in order on one connection, so a blocked BLPOP or XREAD BLOCK holds the commands
// behind it until it is served or times out. Each case runs on memory:// and on a real server.
import { memory, standalone } from '@cachex/connections'
import { ClosedError, type Connection } from '@cachex/core'
import { standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let server: { url: string; stop(): Promise<void> }
let real: Connection
let realOther: Connection
let mem: Connection
let memOther: Connection

beforeAll(async () => {
  server = await standaloneServer()
  real = standalone({ location: server.url })
  realOther = standalone({ location: server.url })
  const name = uniquePrefix('mbb')
  mem = memory({ location: `memory://${name}` })
  memOther = memory({ location: `memory://${name}` })
})

afterAll(async () => {
  await Promise.all([real?.close(), realOther?.close(), mem?.close(), memOther?.close()])
  await server?.stop()
})

const TEXT = { text: true }

/** Settles `promise` or fails after a wide bound (it must not hang). */
function within<T>(promise: Promise<T>, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms)
  })
  return Promise.race([promise, hang]).finally(() => clearTimeout(timer))
}

describe.each([
  ['memory://', () => [mem, memOther] as const],
  ['redis', () => [real, realOther] as const],
])('%s: a blocking command in batch()', (_backend, connections) => {
  it('holds the commands behind it until it times out (BLPOP then RPUSH)', async () => {
    const [connection] = connections()
    const key = uniquePrefix('bq')
    const replies = await connection.batch(
      [
        ['BLPOP', key, '0.2'],
        ['RPUSH', key, 'x'],
        ['LLEN', key],
      ],
      TEXT,
    )
    expect(replies).toEqual([null, 1, 1])
  })

  it('XREAD BLOCK does not see the entry an XADD behind it adds', async () => {
    const [connection] = connections()
    const key = uniquePrefix('bs')
    await connection.command(['XADD', key, '1-1', 'f', 'v'])
    const replies = await connection.batch(
      [
        ['XREAD', 'BLOCK', '200', 'STREAMS', key, '$'],
        ['XADD', key, '2-1', 'f', 'w'],
        ['XLEN', key],
      ],
      TEXT,
    )
    expect(replies).toEqual([null, '2-1', 2])
  })

  it('a blocking command served at once holds nothing', async () => {
    const [connection] = connections()
    const key = uniquePrefix('bn')
    await connection.command(['RPUSH', key, 'a'])
    const replies = await connection.batch(
      [
        ['BLPOP', key, '0'],
        ['RPUSH', key, 'b'],
        ['LLEN', key],
      ],
      TEXT,
    )
    expect(replies).toEqual([[key, 'a'], 1, 1])
  })

  it('runs several blocking commands each in its place', async () => {
    const [connection] = connections()
    const a = uniquePrefix('ba')
    const b = uniquePrefix('bb')
    const replies = await connection.batch(
      [
        ['BLPOP', a, '0.1'],
        ['RPUSH', a, 'x'],
        ['BLPOP', a, '0.1'],
        ['BLPOP', b, '0.1'],
        ['RPUSH', b, 'y'],
        ['LLEN', a],
        ['LLEN', b],
      ],
      TEXT,
    )
    expect(replies).toEqual([null, 1, [a, 'x'], null, 1, 0, 1])
  })

  it('a write of another connection serves it, then the commands behind it run', async () => {
    const [connection, other] = connections()
    const key = uniquePrefix('bw')
    const mark = uniquePrefix('bm')
    const batch = connection.batch(
      [
        ['BLPOP', key, '0'],
        ['LLEN', key],
        ['SET', mark, '1'],
      ],
      TEXT,
    )
    // The SET behind the blocked BLPOP has not run.
    expect(await other.command(['GET', mark])).toBeNull()
    await other.command(['RPUSH', key, 'v'])
    expect(await within(batch)).toEqual([[key, 'v'], 0, 'OK'])
    expect(await other.command(['GET', mark], TEXT)).toBe('1')
  })

  it('keeps errors per entry, before and after a blocked command', async () => {
    const [connection] = connections()
    const key = uniquePrefix('be')
    const text = uniquePrefix('bt')
    await connection.command(['SET', text, 's'])
    const replies = await connection.batch(
      [
        ['BLPOP', text, '0.1'],
        ['BLPOP', key, '0.1'],
        ['LPUSH', text, 'x'],
        ['RPUSH', key, 'x'],
      ],
      TEXT,
    )
    expect(replies[0]).toBeInstanceOf(Error)
    expect(String((replies[0] as Error).message)).toMatch(/WRONGTYPE/)
    expect(replies[1]).toBeNull()
    expect(replies[2]).toBeInstanceOf(Error)
    expect(String((replies[2] as Error).message)).toMatch(/WRONGTYPE/)
    expect(replies[3]).toBe(1)
  })

  it('a transaction still runs a blocking command in its non-blocking form', async () => {
    const [connection] = connections()
    const key = uniquePrefix('bx')
    if (connection.transaction === undefined) throw new Error('no transactions')
    const replies = await within(
      connection.transaction(
        [
          ['BLPOP', key, '0'],
          ['RPUSH', key, 'x'],
          ['LLEN', key],
        ],
        TEXT,
      ),
    )
    expect(replies).toEqual([null, 1, 1])
  })
})

describe('memory:// batch() and close()', () => {
  it('close() while a batch waits behind a blocked command settles it at once', async () => {
    const name = uniquePrefix('bc')
    const keeper = memory({ location: `memory://${name}` })
    const closing = memory({ location: `memory://${name}` })
    try {
      const batch = closing.batch([
        ['BLPOP', 'k', '0'],
        ['RPUSH', 'k', 'x'],
        ['XREAD', 'BLOCK', '60000', 'STREAMS', 's', '$'],
        ['SET', 'm', '1'],
      ])
      await closing.close()
      const replies = await within(batch)
      expect(replies).toHaveLength(4)
      for (const reply of replies) expect(reply).toBeInstanceOf(ClosedError)
      // Nothing behind the blocked BLPOP ran.
      expect(await keeper.command(['LLEN', 'k'])).toBe(0)
      expect(await keeper.command(['EXISTS', 'm'])).toBe(0)
    } finally {
      await keeper.close()
    }
  })

  it('close() while a later blocking command of the batch waits settles it at once', async () => {
    const name = uniquePrefix('bd')
    const keeper = memory({ location: `memory://${name}` })
    const closing = memory({ location: `memory://${name}` })
    try {
      const batch = closing.batch(
        [
          ['BLPOP', 'k', '0.05'],
          ['SET', 'a', '1'],
          ['BLPOP', 'k', '60'],
          ['SET', 'b', '1'],
        ],
        TEXT,
      )
      // Once the first BLPOP timed out and the SET behind it ran, the second BLPOP waits.
      const started = Date.now()
      while ((await keeper.command(['EXISTS', 'a'])) === 0) {
        if (Date.now() - started > 10_000) throw new Error('the first BLPOP never timed out')
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      await closing.close()
      const replies = await within(batch)
      expect(replies.slice(0, 2)).toEqual([null, 'OK'])
      expect(replies[2]).toBeInstanceOf(ClosedError)
      expect(replies[3]).toBeInstanceOf(ClosedError)
      expect(await keeper.command(['EXISTS', 'b'])).toBe(0)
    } finally {
      await keeper.close()
    }
  })
})
