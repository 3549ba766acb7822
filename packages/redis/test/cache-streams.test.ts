import {
  type Cache,
  createCache,
  InvalidArgumentError,
  ResponseError,
  SerializationError,
  TimeoutError,
} from '@cachex/redis'
import { standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer, raw, untilBlocked } from './helpers.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.each(BACKENDS)('%s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache
  let prefix: string

  beforeAll(async () => {
    server = await backendServer(backend)
    prefix = uniquePrefix('streams')
    cache = createCache({ location: server.url, keyPrefix: prefix })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  beforeEach(async () => {
    await cache.clear()
  })

  describe('streams', () => {
    it('xadd / xlen / xrange / xrevrange: field values through the codec, names raw', async () => {
      const values = {
        obj: { a: 1, nested: [1, 'x'] },
        n: 42,
        numeric: '42',
        float: 1.5,
        yes: true,
        nil: null,
        text: 'hello',
      }
      const id = await cache.xadd('s', values)
      expect(id).toMatch(/^\d+-\d+$/)
      expect(await cache.xlen('s')).toBe(1)
      const [entry] = await cache.xrange('s')
      expect(entry).toEqual({ id, fields: values })
      expect(typeof entry?.fields.n).toBe('number')
      expect(typeof entry?.fields.numeric).toBe('string')

      // On the wire: the integer as digits, the string that looks like one serialized.
      const stored = (await raw(cache, 'XRANGE', cache.makeKey('s'), '-', '+')) as unknown[][]
      const flat = ((stored[0] ?? [])[1] as Buffer[]).map(String)
      expect(flat.slice(0, 6)).toEqual([
        'obj',
        '{"a":1,"nested":[1,"x"]}',
        'n',
        '42',
        'numeric',
        '"42"',
      ])

      const ids = [id as string]
      for (let i = 1; i <= 4; i++) ids.push((await cache.xadd('s', { i })) as string)
      expect(await cache.xlen('s')).toBe(5)
      expect((await cache.xrange('s', '-', '+', { count: 2 })).map((e) => e.id)).toEqual(
        ids.slice(0, 2),
      )
      expect((await cache.xrange('s', ids[1], ids[3])).map((e) => e.fields.i)).toEqual([1, 2, 3])
      expect((await cache.xrange('s', `(${ids[1]}`, '+')).map((e) => e.fields.i)).toEqual([2, 3, 4])
      expect((await cache.xrevrange('s')).map((e) => e.id)).toEqual([...ids].reverse())
      expect((await cache.xrevrange('s', '+', '-', { count: 1 }))[0]?.fields).toEqual({ i: 4 })
      expect(await cache.xrange('missing')).toEqual([])
      expect(await cache.xlen('missing')).toBe(0)
    })

    it('a Map of fields, an explicit id, nomkstream; a field named __proto__ stays a field', async () => {
      expect(
        await cache.xadd(
          'm',
          new Map<string, unknown>([
            ['__proto__', { admin: true }],
            ['b', 2],
          ]),
          { id: '5-1' },
        ),
      ).toBe('5-1')
      const [entry] = await cache.xrange('m')
      const fields = entry?.fields as Record<string, unknown>
      expect(Object.keys(fields)).toEqual(['__proto__', 'b'])
      expect(Object.getPrototypeOf(fields)).toBe(Object.prototype)
      expect((fields as { admin?: unknown }).admin).toBeUndefined()
      expect(Object.getOwnPropertyDescriptor(fields, '__proto__')?.value).toEqual({ admin: true })

      expect(await cache.xadd('none', { a: 1 }, { nomkstream: true })).toBeNull()
      expect(await cache.hasKey('none')).toBe(false)
      expect(await cache.xadd('m', { c: 3 }, { nomkstream: true })).toMatch(/-/)
    })

    it('xadd trims with maxlen / minid; xtrim; xdel', async () => {
      for (let i = 1; i <= 10; i++) await cache.xadd('t', { i }, { id: `${i}-0`, maxlen: 5 })
      expect(await cache.xlen('t')).toBe(5)
      expect((await cache.xrange('t'))[0]?.id).toBe('6-0')
      expect(await cache.xtrim('t', { maxlen: 3 })).toBe(2)
      expect(await cache.xtrim('t', { minid: '10-0' })).toBe(2)
      expect(
        await cache.xtrim('t', { maxlen: 0, approximate: true, limit: 10 }),
      ).toBeGreaterThanOrEqual(0)
      await cache.xadd('t', { i: 11 }, { id: '11-0', minid: '11-0' })
      expect((await cache.xrange('t')).map((e) => e.id)).toContain('11-0')

      await cache.xadd('d', { a: 1 }, { id: '1-0' })
      await cache.xadd('d', { a: 2 }, { id: '2-0' })
      expect(await cache.xdel('d', '1-0', '9-9')).toBe(1)
      expect(await cache.xdel('d')).toBe(0)
      expect((await cache.xrange('d')).map((e) => e.id)).toEqual(['2-0'])
    })

    it('versions: every method takes { version }; xread applies it to every key', async () => {
      const v2 = { version: 2 }
      await cache.xadd('v', { a: 'two' }, { id: '1-0', version: 2 })
      await cache.xadd('w', { b: 'two' }, { id: '1-0', version: 2 })
      expect(await cache.xlen('v')).toBe(0)
      expect(await cache.xlen('v', v2)).toBe(1)
      expect(await raw(cache, 'XLEN', cache.makeKey('v', 2))).toBe(1)
      expect((await cache.xrange('v', '-', '+', v2))[0]?.fields).toEqual({ a: 'two' })
      expect((await cache.xrevrange('v', '+', '-', v2))[0]?.fields).toEqual({ a: 'two' })
      expect(await cache.xread({ v: '0', w: '0' })).toEqual([])
      expect(await cache.xread({ v: '0', w: '0' }, v2)).toEqual([
        { key: 'v', entries: [{ id: '1-0', fields: { a: 'two' } }] },
        { key: 'w', entries: [{ id: '1-0', fields: { b: 'two' } }] },
      ])
      expect(await cache.xgroupCreate('v', 'g', { id: '0', ...v2 })).toBe(true)
      const read = await cache.xreadgroup('g', 'c', new Map([['v', '>']]), v2)
      expect(read).toEqual([{ key: 'v', entries: [{ id: '1-0', fields: { a: 'two' } }] }])
      expect((await cache.xpending('v', 'g', v2)).count).toBe(1)
      expect(await cache.xack('v', 'g', '1-0', v2)).toBe(1)
      expect((await cache.xinfoStream('v', v2))?.length).toBe(1)
      expect(await cache.xinfoStream('v')).toBeNull()
      expect(await cache.xtrim('v', { maxlen: 0, ...v2 })).toBe(1)
      expect(await cache.xdel('w', '1-0', v2)).toBe(1)
      expect(await cache.xgroupDestroy('v', 'g', v2)).toBe(true)
    })

    it('xread: several streams, count, the user keys back, in the order given', async () => {
      await cache.xadd('a', { n: 1 }, { id: '1-0' })
      await cache.xadd('a', { n: 2 }, { id: '2-0' })
      await cache.xadd('b', { n: 3 }, { id: '1-0' })
      expect(await cache.xread({ b: '0', a: '1-0', c: '0' })).toEqual([
        { key: 'b', entries: [{ id: '1-0', fields: { n: 3 } }] },
        { key: 'a', entries: [{ id: '2-0', fields: { n: 2 } }] },
      ])
      const counted = await cache.xread({ a: '0' }, { count: 1 })
      expect(counted[0]?.entries.map((e) => e.id)).toEqual(['1-0'])
      // Nothing new and no block: at once, empty.
      expect(await cache.xread({ a: '$' })).toEqual([])
    })

    it('consumer groups: create, readgroup, pending, claim, autoclaim, ack, destroy', async () => {
      expect(await cache.xgroupCreate('q', 'workers', { mkstream: true })).toBe(true)
      expect(await cache.xlen('q')).toBe(0)
      const busy = await cache.xgroupCreate('q', 'workers').catch((e: unknown) => e)
      expect(busy).toBeInstanceOf(ResponseError)
      expect((busy as Error).message).toMatch(/BUSYGROUP/)
      await expect(cache.xgroupCreate('nostream', 'g')).rejects.toBeInstanceOf(ResponseError)

      const ids: string[] = []
      for (const job of [{ job: 'a' }, { job: 'b' }, { job: 'c' }]) {
        ids.push((await cache.xadd('q', job)) as string)
      }
      const first = await cache.xreadgroup<string>('workers', 'alice', { q: '>' }, { count: 2 })
      expect(first).toEqual([
        {
          key: 'q',
          entries: [
            { id: ids[0], fields: { job: 'a' } },
            { id: ids[1], fields: { job: 'b' } },
          ],
        },
      ])
      const second = await cache.xreadgroup('workers', 'bob', { q: '>' })
      expect(second[0]?.entries.map((e) => e.id)).toEqual([ids[2]])
      expect(await cache.xreadgroup('workers', 'bob', { q: '>' })).toEqual([])

      const summary = await cache.xpending('q', 'workers')
      expect(summary.count).toBe(3)
      expect(summary.smallest).toBe(ids[0])
      expect(summary.largest).toBe(ids[2])
      expect(summary.consumers).toEqual([
        { name: 'alice', pending: 2 },
        { name: 'bob', pending: 1 },
      ])
      const detail = await cache.xpending('q', 'workers', { count: 10, consumer: 'alice' })
      expect(detail.map((p) => [p.id, p.consumer, p.deliveries])).toEqual([
        [ids[0], 'alice', 1],
        [ids[1], 'alice', 1],
      ])
      expect(detail[0]?.idle).toBeGreaterThanOrEqual(0)
      expect(await cache.xpending('q', 'workers', { count: 10, idle: 3_600_000 })).toEqual([])

      // bob takes alice's first entry; then carol takes every pending entry with autoclaim.
      const claimed = await cache.xclaim('q', 'workers', 'bob', 0, [ids[0] as string])
      expect(claimed).toEqual([{ id: ids[0], fields: { job: 'a' } }])
      expect(
        await cache.xclaim('q', 'workers', 'bob', 0, [ids[1] as string], { justid: true }),
      ).toEqual([ids[1]])
      expect(await cache.xclaim('q', 'workers', 'bob', 3_600_000, [ids[2] as string])).toEqual([])
      const auto = await cache.xautoclaim('q', 'workers', 'carol', 0, { count: 2 })
      expect(auto.entries.map((e) => e.fields)).toEqual([{ job: 'a' }, { job: 'b' }])
      expect(auto.deletedIds).toEqual([])
      const rest = await cache.xautoclaim('q', 'workers', 'carol', 0, {
        start: auto.nextId,
        justid: true,
      })
      expect(rest.ids).toEqual([ids[2]])
      expect(rest.nextId).toBe('0-0')
      expect((await cache.xpending('q', 'workers')).consumers).toEqual([
        { name: 'carol', pending: 3 },
      ])

      // A pending entry deleted from the stream: readgroup of the history lists it in deletedIds.
      await cache.xdel('q', ids[1] as string)
      const history = await cache.xreadgroup('workers', 'carol', { q: '0' })
      expect(history).toEqual([
        {
          key: 'q',
          entries: [
            { id: ids[0], fields: { job: 'a' } },
            { id: ids[2], fields: { job: 'c' } },
          ],
          deletedIds: [ids[1]],
        },
      ])
      const swept = await cache.xautoclaim('q', 'workers', 'dave', 0)
      expect(swept.deletedIds).toEqual([ids[1]])
      expect(swept.entries.map((e) => e.id)).toEqual([ids[0], ids[2]])

      expect(await cache.xack('q', 'workers', ids[0] as string, ids[2] as string, '9-9')).toBe(2)
      expect(await cache.xack('q', 'workers')).toBe(0)
      expect((await cache.xpending('q', 'workers')).count).toBe(0)
      expect(await cache.xpending('q', 'workers')).toEqual({
        count: 0,
        smallest: null,
        largest: null,
        consumers: [],
      })

      const info = await cache.xinfoStream('q')
      expect(info?.groups).toBe(1)
      expect(await cache.xgroupDestroy('q', 'workers')).toBe(true)
      expect(await cache.xgroupDestroy('q', 'workers')).toBe(false)
      expect((await cache.xinfoStream('q'))?.groups).toBe(0)
    })

    it('noack: entries read are not pending', async () => {
      await cache.xgroupCreate('n', 'g', { id: '0', mkstream: true })
      await cache.xadd('n', { a: 1 })
      expect(
        (await cache.xreadgroup('g', 'c', { n: '>' }, { noack: true }))[0]?.entries,
      ).toHaveLength(1)
      expect((await cache.xpending('n', 'g')).count).toBe(0)
    })

    it('xinfoStream: camelCase fields, first and last entries decoded; null for a missing key', async () => {
      await cache.xadd('i', { v: { deep: [1] } }, { id: '1-0' })
      await cache.xadd('i', { v: 'last' }, { id: '2-0' })
      const info = await cache.xinfoStream('i')
      expect(info).toMatchObject({
        length: 2,
        lastGeneratedId: '2-0',
        groups: 0,
        firstEntry: { id: '1-0', fields: { v: { deep: [1] } } },
        lastEntry: { id: '2-0', fields: { v: 'last' } },
      })
      expect(typeof info?.radixTreeKeys).toBe('number')
      expect(Object.keys(info as object).every((name) => /^[a-zA-Z]+$/.test(name))).toBe(true)
      expect(await cache.xinfoStream('missing')).toBeNull()
    })

    it("a blocking xread of '$' gets only what is added after the call started", async () => {
      const other = createCache({ location: server.url, keyPrefix: prefix })
      try {
        await cache.xadd('dollar', { n: 0 }, { id: '1-0' })
        const reading = cache.xread<number>({ dollar: '$', none: '$' }, { block: 20_000 })
        // Blocked on the server before the write ('$' is resolved when the read arrives: a write
        // first, under load, was before it, and the read waited out its block).
        await untilBlocked(other)
        await other.xadd('dollar', { n: 1 }, { id: '2-0' })
        expect(await reading).toEqual([
          { key: 'dollar', entries: [{ id: '2-0', fields: { n: 1 } }] },
        ])
        // A stream created while the read waits is read from its start.
        const later = cache.xread<number>({ none: '$' }, { block: 20_000 })
        await untilBlocked(other)
        await other.xadd('none', { n: 2 }, { id: '1-0' })
        expect((await later)[0]?.entries).toEqual([{ id: '1-0', fields: { n: 2 } }])
      } finally {
        await other.close()
      }
    })

    it('a blocked xreadgroup fails when its group or its stream goes away', async () => {
      const other = createCache({ location: server.url, keyPrefix: prefix })
      try {
        await cache.xgroupCreate('gone', 'g', { mkstream: true })
        const waiting = cache
          .xreadgroup('g', 'c', { gone: '>' }, { block: 20_000 })
          .catch((e: unknown) => e)
        await untilBlocked(other)
        expect(await other.xgroupDestroy('gone', 'g')).toBe(true)
        const error = await waiting
        expect(error).toBeInstanceOf(ResponseError)
        expect((error as Error).message).toMatch(
          /NOGROUP the consumer group this client was blocked on no longer exists/,
        )

        await cache.xgroupCreate('gone', 'g')
        const deleted = cache
          .xreadgroup('g', 'c', { gone: '>' }, { block: 20_000 })
          .catch((e: unknown) => e)
        await untilBlocked(other)
        expect(await other.delete('gone')).toBe(true)
        const unblocked = await deleted
        expect(unblocked).toBeInstanceOf(ResponseError)
        expect((unblocked as Error).message).toMatch(/UNBLOCKED the stream key no longer exists/)
      } finally {
        await other.close()
      }
    })

    it('a blocking xread is answered by a later xadd from another cache, and holds up no other call', async () => {
      const other = createCache({ location: server.url, keyPrefix: prefix })
      try {
        const last = (await cache.xadd('live', { n: 0 })) as string
        const started = performance.now()
        const reading = cache.xread<number>({ live: last }, { block: 20_000 })
        // The cache's other calls go on while the read waits on the server.
        await cache.set('meanwhile', 1)
        expect(await cache.get('meanwhile')).toBe(1)
        await sleep(100)
        await other.xadd('live', { n: 1 })
        const read = await reading
        expect(read).toHaveLength(1)
        expect(read[0]?.key).toBe('live')
        expect(read[0]?.entries.map((e) => e.fields)).toEqual([{ n: 1 }])
        expect(performance.now() - started).toBeLessThan(15_000)

        // xreadgroup blocks the same way.
        await cache.xgroupCreate('live', 'g')
        const waiting = cache.xreadgroup('g', 'c', { live: '>' }, { block: 20_000 })
        await sleep(100)
        await other.xadd('live', { n: 2 })
        expect((await waiting)[0]?.entries.map((e) => e.fields)).toEqual([{ n: 2 }])
      } finally {
        await other.close()
      }
    })

    it('a block longer than socketTimeout completes; it is not cut short, nor are the calls beside it', async () => {
      const short = createCache({ location: server.url, keyPrefix: prefix, socketTimeout: 0.5 })
      try {
        const last = (await short.xadd('slow', { n: 0 })) as string
        await short.xgroupCreate('slow', 'g')
        const started = performance.now()
        const [read, group] = await Promise.all([
          short.xread({ slow: last }, { block: 1500 }),
          short.xreadgroup('g', 'c', { slow: '>' }, { block: 1500 }),
          (async () => {
            await sleep(50)
            await short.set('beside', 'ok')
            expect(await short.get('beside')).toBe('ok')
          })(),
        ])
        const elapsed = performance.now() - started
        expect(read).toEqual([])
        expect(group).toEqual([])
        expect(elapsed).toBeGreaterThanOrEqual(1400)
        expect(elapsed).toBeLessThan(15_000)
        // The connection was not reset: the next call works at once.
        expect(await short.xlen('slow')).toBe(1)
      } finally {
        await short.close()
      }
    })

    it('xclaim / xack / xdel take entry IDs only: an option word among the IDs claims nothing', async () => {
      const id = (await cache.xadd('c', { job: 'a' })) as string
      await cache.xgroupCreate('c', 'g', { id: '0' })
      await cache.xreadgroup('g', 'dead', { c: '>' })
      // Redis would read JUSTID as an option, claim the entry and answer as if it claimed none.
      for (const ids of [[id, 'JUSTID'], ['FORCE'], ['x'], [' 1-0'], ['1-0-0']]) {
        await expect(cache.xclaim('c', 'g', 'alive', 0, ids)).rejects.toThrow(InvalidArgumentError)
      }
      await expect(cache.xack('c', 'g', '1-0', 'IDLE')).rejects.toThrow(/must be an entry ID/)
      await expect(cache.xdel('c', 'abc')).rejects.toThrow(InvalidArgumentError)
      await expect(cache.xclaim('c', 'g', 'alive', 0, [id], { lastid: 'x' })).rejects.toThrow(
        InvalidArgumentError,
      )
      // Nothing moved: the entry is still the dead consumer's.
      const pending = await cache.xpending('c', 'g', { count: 10 })
      expect(pending.map((p) => [p.id, p.consumer])).toEqual([[id, 'dead']])
      // Boolean options are booleans, not truthy values.
      await expect(
        cache.xclaim('c', 'g', 'alive', 0, [id], { justid: 1 as never }),
      ).rejects.toThrow(/justid must be a boolean/)
      await expect(cache.xadd('n', { a: 1 }, { nomkstream: 'yes' as never })).rejects.toThrow(
        /nomkstream must be a boolean/,
      )
      expect(await cache.xlen('n')).toBe(0)
      // An ID of milliseconds alone is an entry ID (sequence 0), as Redis reads it.
      const claimed = await cache.xclaim('c', 'g', 'alive', 0, [id.split('-')[0] as string])
      expect(claimed.map((entry) => entry.id)).toEqual([id])
    })

    it('xinfoStream of a missing stream resolves null, with no error event', async () => {
      const errors: unknown[] = []
      const onError = (event: unknown) => errors.push(event)
      cache.on('error', onError)
      try {
        expect(await cache.xinfoStream('missing')).toBeNull()
        const [inPipeline] = await cache.pipeline().xinfoStream('missing').exec()
        expect(inPipeline).toBeNull()
      } finally {
        cache.off('error', onError)
      }
      expect(errors).toEqual([])
    })

    it('refuses bad arguments with InvalidArgumentError, before sending anything', async () => {
      const bad: Array<[string, () => Promise<unknown>]> = [
        ['xadd no fields', () => cache.xadd('s', {})],
        ['xadd not fields', () => cache.xadd('s', 'x' as never)],
        ['xadd option', () => cache.xadd('s', { a: 1 }, { ttl: 1 } as never)],
        ['xadd maxlen and minid', () => cache.xadd('s', { a: 1 }, { maxlen: 1, minid: '1-0' })],
        ['xadd limit without ~', () => cache.xadd('s', { a: 1 }, { maxlen: 1, limit: 5 })],
        ['xadd maxlen', () => cache.xadd('s', { a: 1 }, { maxlen: -1 })],
        ['xadd id', () => cache.xadd('s', { a: 1 }, { id: '' })],
        ['xlen option', () => cache.xlen('s', { count: 1 } as never)],
        ['xrange count', () => cache.xrange('s', '-', '+', { count: 0 })],
        ['xrange start', () => cache.xrange('s', 5 as never)],
        ['xrevrange option', () => cache.xrevrange('s', '+', '-', { block: 1 } as never)],
        ['xread no stream', () => cache.xread({})],
        ['xread array', () => cache.xread(['s'] as never)],
        ['xread block 0', () => cache.xread({ s: '$' }, { block: 0 })],
        ['xread block', () => cache.xread({ s: '$' }, { block: 1.5 })],
        ['xread option', () => cache.xread({ s: '$' }, { noack: true } as never)],
        ['xread id', () => cache.xread({ s: 1 as never })],
        ['xtrim nothing', () => cache.xtrim('s', {})],
        ['xtrim no options', () => cache.xtrim('s', undefined as never)],
        ['xdel option', () => cache.xdel('s', '1-0', { versoin: 1 } as never)],
        ['xgroupCreate group', () => cache.xgroupCreate('s', '')],
        ['xgroupCreate option', () => cache.xgroupCreate('s', 'g', { mkStream: true } as never)],
        ['xgroupDestroy option', () => cache.xgroupDestroy('s', 'g', { id: '0' } as never)],
        ['xreadgroup block 0', () => cache.xreadgroup('g', 'c', { s: '>' }, { block: 0 })],
        ['xreadgroup consumer', () => cache.xreadgroup('g', 7 as never, { s: '>' })],
        ['xack group', () => cache.xack('s', '', '1-0')],
        [
          'xpending range without count',
          () => cache.xpending('s', 'g', { consumer: 'c' } as never),
        ],
        ['xpending count', () => cache.xpending('s', 'g', { count: -1 })],
        ['xclaim no ids', () => cache.xclaim('s', 'g', 'c', 0, [])],
        ['xclaim min idle', () => cache.xclaim('s', 'g', 'c', -1, ['1-0'])],
        ['xclaim option', () => cache.xclaim('s', 'g', 'c', 0, ['1-0'], { count: 1 } as never)],
        ['xautoclaim count', () => cache.xautoclaim('s', 'g', 'c', 0, { count: 0 })],
        ['xinfoStream option', () => cache.xinfoStream('s', { full: true } as never)],
      ]
      for (const [name, call] of bad) {
        await expect(Promise.resolve().then(call), name).rejects.toBeInstanceOf(
          InvalidArgumentError,
        )
      }
      expect(await cache.keys('*')).toEqual([])
    })

    it('a key of another type rejects with a ResponseError that names it and the method', async () => {
      await cache.set('str', 'value')
      for (const [method, call] of [
        ['xadd', () => cache.xadd('str', { a: 1 })],
        ['xlen', () => cache.xlen('str')],
        ['xrange', () => cache.xrange('str')],
        ['xread', () => cache.xread({ str: '0' })],
        ['xgroupCreate', () => cache.xgroupCreate('str', 'g')],
        ['xinfoStream', () => cache.xinfoStream('str')],
      ] as const) {
        const error = await call().catch((e: unknown) => e)
        expect(error, method).toBeInstanceOf(ResponseError)
        expect((error as Error).message, method).toMatch(/'str'/)
        expect((error as Error).message, method).toContain(`${method}()`)
      }
      expect(await cache.get('str')).toBe('value')
    })

    it('a field value the codec cannot read rejects with a SerializationError naming the key and field', async () => {
      await raw(cache, 'XADD', cache.makeKey('bad'), '1-0', 'ok', '1', 'broken', '{not json')
      for (const call of [
        () => cache.xrange('bad'),
        () => cache.xrevrange('bad'),
        () => cache.xread({ bad: '0' }),
        () => cache.xinfoStream('bad'),
      ]) {
        const error = await call().catch((e: unknown) => e)
        expect(error).toBeInstanceOf(SerializationError)
        expect((error as Error).message).toMatch(/'bad'/)
        expect((error as Error).message).toMatch(/'broken'/)
      }
    })

    it('an entry the codec cannot read: the error names the stream and entry and carries its entryId, so a consumer can step past it', async () => {
      await cache.xgroupCreate('q', 'g', { id: '0', mkstream: true })
      await cache.xadd('q', { n: 1 }, { id: '1-0' })
      await raw(cache, 'XADD', cache.makeKey('q'), '2-0', 'n', 'not json {')
      await cache.xadd('q', { n: 3 }, { id: '3-0' })
      for (const call of [
        () => cache.xrange('q'),
        () => cache.xrevrange('q'),
        () => cache.xread({ q: '0' }),
        () => cache.xreadgroup('g', 'c', { q: '>' }),
      ]) {
        const error = await call().catch((e: unknown) => e)
        expect(error).toBeInstanceOf(SerializationError)
        expect((error as Error).message).toMatch(/stream 'q'/)
        expect((error as Error).message).toMatch(/2-0/)
        expect((error as SerializationError).entryId).toBe('2-0')
      }
      // A reader by ID goes on after the bad entry.
      expect(await cache.xread({ q: '2-0' })).toEqual([
        { key: 'q', entries: [{ id: '3-0', fields: { n: 3 } }] },
      ])
      // xreadgroup '>' gave all three to 'c' (pending now): its history still holds the bad one.
      const again = await cache.xreadgroup('g', 'c', { q: '0' }).catch((e: unknown) => e)
      expect((again as SerializationError).entryId).toBe('2-0')
      // The recipe of the docs: acknowledge (and delete) it, then read the history again.
      expect(await cache.xack('q', 'g', '2-0')).toBe(1)
      expect(await cache.xdel('q', '2-0')).toBe(1)
      expect(await cache.xreadgroup('g', 'c', { q: '0' })).toEqual([
        {
          key: 'q',
          entries: [
            { id: '1-0', fields: { n: 1 } },
            { id: '3-0', fields: { n: 3 } },
          ],
        },
      ])
      // Errors of other reads carry no entryId.
      await cache.set('plain', 1)
      await raw(cache, 'SET', cache.makeKey('plain'), 'not json {')
      const plain = await cache.get('plain').catch((e: unknown) => e)
      expect(plain).toBeInstanceOf(SerializationError)
      expect((plain as SerializationError).entryId).toBeUndefined()
    })

    it('a field name that is not UTF-8: the SerializationError names the entry and carries its entryId', async () => {
      await raw(
        cache,
        'XADD',
        cache.makeKey('b'),
        '5-0',
        Buffer.from([0xff, 0xfe]) as unknown as string,
        '1',
      )
      const error = await cache.xrange('b').catch((e: unknown) => e)
      expect(error).toBeInstanceOf(SerializationError)
      expect((error as Error).message).toMatch(/5-0/)
      expect((error as SerializationError).entryId).toBe('5-0')
    })
  })
})

// A pool, a node-redis client handed in, a paused server: redis only.
describe('streams: blocking calls on a redis-server', () => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache
  let prefix: string

  beforeAll(async () => {
    server = await standaloneServer()
    prefix = uniquePrefix('streams-redis')
    cache = createCache({ location: server.url, keyPrefix: prefix })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  beforeEach(async () => {
    await cache.clear()
  })

  it('a long block on a connection pool, and on a node-redis client handed in (duplicated)', async () => {
    const given = createClient({ url: server.url })
    given.on('error', () => {})
    await given.connect()
    const pooled = createCache({
      location: server.url,
      keyPrefix: prefix,
      socketTimeout: 0.5,
      connectionPool: { minimum: 1, maximum: 4 },
    })
    const handed = createCache({ location: given, keyPrefix: prefix, socketTimeout: 0.5 })
    try {
      for (const c of [pooled, handed]) {
        const last = (await c.xadd('p', { n: 0 })) as string
        const started = performance.now()
        const [read] = await Promise.all([
          c.xread({ p: last }, { block: 1200 }),
          (async () => {
            await sleep(50)
            expect(await c.xlen('p')).toBeGreaterThanOrEqual(1)
          })(),
        ])
        expect(read).toEqual([])
        expect(performance.now() - started).toBeGreaterThanOrEqual(1100)
      }
    } finally {
      await pooled.close()
      await handed.close()
      given.destroy()
    }
  })

  it('a blocking call is still bounded: a stalled server times it out after block + socketTimeout', async () => {
    const short = createCache({ location: server.url, keyPrefix: prefix, socketTimeout: 0.5 })
    try {
      // A first blocking read opens the dedicated client while the server answers.
      expect(await short.xread({ none: '$' }, { block: 50 })).toEqual([])
      // Every client of the server is paused for 3 s: the next read gets no answer.
      await raw(cache, 'CLIENT', 'PAUSE', '3000', 'ALL')
      const pausedAt = performance.now()
      const error = await short.xread({ none: '$' }, { block: 300 }).catch((e: unknown) => e)
      const elapsed = performance.now() - pausedAt
      expect(error).toBeInstanceOf(TimeoutError)
      expect((error as Error).message).toMatch(/XREAD did not complete within 800 ms/)
      expect(elapsed).toBeGreaterThanOrEqual(700)
      expect(elapsed).toBeLessThan(2900)
      await sleep(Math.max(0, 3200 - (performance.now() - pausedAt)))
      // The cache's own connection was not reset by it.
      expect(await short.xlen('none')).toBe(0)
    } finally {
      await short.close()
    }
  })
})

// An ID that is not one, and field names that are not UTF-8: on both backends.
describe.each(BACKENDS)('%s: stream IDs and field names', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    cache = createCache({ location: server.url, keyPrefix: uniquePrefix('stream-ids') })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  beforeEach(async () => {
    await cache.clear()
  })

  it("xadd's id: an option word or anything else that is no ID is refused, nothing stored", async () => {
    // `XADD key MAXLEN 100 5 a 1`: Redis would read field '100' as the MAXLEN threshold and its
    // value as the entry's ID, and store { a: 1 } under '5-0'.
    const bad = ['MAXLEN', 'MINID', 'NOMKSTREAM', 'LIMIT', '~', '=', '-', '+', '$', '>', '(1-0']
    bad.push('1-0 ', ' 1', '+1', '1.5', '0x10', 'a-b', '1-', '-1', '1-2-3', '1-*-*', '*-1')
    bad.push('1'.repeat(21), '18446744073709551616-0', '1-18446744073709551616', '')
    for (const id of bad) {
      const error = await cache.xadd('s', { '100': 5, a: 1 }, { id }).catch((e: unknown) => e)
      expect(error, id).toBeInstanceOf(InvalidArgumentError)
      expect((error as Error).message, id).toMatch(/^xadd\(\): id must be/)
    }
    expect(await cache.xlen('s')).toBe(0)
    expect(await cache.type('s')).toBeNull()
    // What Redis takes: '*', '<ms>', '<ms>-<seq>', '<ms>-*', up to the largest 64-bit parts.
    expect(await cache.xadd('s', { a: 1 }, { id: '5' })).toBe('5-0')
    expect(await cache.xadd('s', { a: 2 }, { id: '5-*' })).toBe('5-1')
    expect(await cache.xadd('s', { a: 3 }, { id: '00000000000000000006-0' })).toBe('6-0')
    expect(await cache.xadd('s', { a: 4 }, { id: '18446744073709551615-0' })).toBe(
      '18446744073709551615-0',
    )
    expect(await cache.xadd('s', { a: 5 }, { id: '18446744073709551615-*' })).toBe(
      '18446744073709551615-1',
    )
    expect(await cache.xadd('t', { a: 1 }, { id: '*' })).toMatch(/^\d+-0$/)
    expect(await cache.xlen('s')).toBe(5)
  })

  it('the other IDs a stream method takes: an option word is refused, before anything is sent', async () => {
    await cache.xadd('s', { a: 1 }, { id: '1-0' })
    await cache.xgroupCreate('s', 'g', { id: '0' })
    const bad: Array<[string, () => Promise<unknown>]> = [
      ['xadd minid', () => cache.xadd('s', { a: 1 }, { minid: 'LIMIT' })],
      ['xtrim minid', () => cache.xtrim('s', { minid: '~' })],
      ['xrange start', () => cache.xrange('s', 'COUNT', '+')],
      ['xrange end', () => cache.xrange('s', '-', '1-0 ')],
      ['xrevrange end', () => cache.xrevrange('s', 'COUNT')],
      ['xread id', () => cache.xread({ s: 'STREAMS' })],
      ['xreadgroup id', () => cache.xreadgroup('g', 'c', { s: 'NOACK' })],
      ['xgroupCreate id', () => cache.xgroupCreate('s', 'h', { id: 'MKSTREAM' })],
      ['xpending start', () => cache.xpending('s', 'g', { start: 'IDLE', end: '+', count: 1 })],
      ['xautoclaim start', () => cache.xautoclaim('s', 'g', 'c', 0, { start: 'JUSTID' })],
      ['xrange over 64 bits', () => cache.xrange('s', '18446744073709551616', '+')],
    ]
    for (const [name, call] of bad) {
      await expect(Promise.resolve().then(call), name).rejects.toBeInstanceOf(InvalidArgumentError)
    }
    // What they take: '-', '+', '$', '>', exclusive '(' bounds, '<ms>' and '<ms>-<seq>'.
    expect((await cache.xrange('s', '(0-0', '+')).map((entry) => entry.id)).toEqual(['1-0'])
    expect(await cache.xrevrange('s', '+', '(1-0')).toEqual([])
    expect(await cache.xread({ s: '1' })).toEqual([])
    expect(await cache.xreadgroup('g', 'c', { s: '>' })).toHaveLength(1)
    expect(await cache.xpending('s', 'g', { start: '(0', end: '+', count: 5 })).toHaveLength(1)
    expect((await cache.xautoclaim('s', 'g', 'd', 0, { start: '0' })).nextId).toBe('0-0')
    expect(await cache.xgroupCreate('s', 'h', { id: '$' })).toBe(true)
    expect(await cache.xtrim('s', { minid: '1' })).toBe(0)
  })

  it('xinfoStream: a field name that is not UTF-8 rejects with SerializationError and entryId, alone and pipelined', async () => {
    // Two names that decode alike as text ('\uFFFD'): as text they would be one field.
    const [ff, fe] = [Buffer.from([0xff]), Buffer.from([0xfe])] as unknown as string[]
    await raw(cache, 'XADD', cache.makeKey('b'), '5-0', ff as string, '1', fe as string, '2')
    const direct = await cache.xinfoStream('b').catch((e: unknown) => e)
    const [piped] = await cache.pipeline().xinfoStream('b').exec()
    const [tx] = await cache.transaction().xinfoStream('b').exec()
    for (const error of [direct, piped, tx]) {
      expect(error).toBeInstanceOf(SerializationError)
      expect((error as SerializationError).entryId).toBe('5-0')
    }
    // An entry it can read is read as before.
    await cache.xadd('ok', { n: 1 }, { id: '1-0' })
    expect(await cache.xinfoStream('ok')).toMatchObject({
      length: 1,
      firstEntry: { id: '1-0', fields: { n: 1 } },
      lastEntry: { id: '1-0', fields: { n: 1 } },
    })
  })
})
