// The serializer × compressor matrix: for one serializer, every compressor, both directions.
// Each combination runs two python processes: Django writes (batch 1), cachex reads and writes,
// Django reads and acts (batch 2), cachex checks what Django did.
import { type RedisServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  brotliCompressor,
  type Cache,
  type Compressor,
  type CompressorName,
  createCache,
  gzipCompressor,
  lz4Compressor,
  lzmaCompressor,
  type Serializer,
  type SerializerName,
  zlibCompressor,
  zstdCompressor,
} from '../../src/index.ts'
import { rawPttl } from '../helpers.ts'
import {
  casesFor,
  minLength,
  type SerializerKind,
  type StorageCase,
  storageCases,
  type ValueCase,
} from './cases.ts'
import { DjangoBatch, type DjangoResults, type Ref, requireDjango } from './django.ts'
import { canonical, MISSING, py, toTagged } from './tagged.ts'

export const COMPRESSORS = ['none', 'zlib', 'gzip', 'lzma', 'lz4', 'zstd', 'brotli'] as const
export type CompressorId = (typeof COMPRESSORS)[number]

/** The bytes each compressor's output starts with; brotli has none. */
export const MAGIC: Record<CompressorId, Buffer | null> = {
  none: null,
  // CMF 0x78 (deflate, 32 KB window), FLG 0x9c (level 6, the default both sides use).
  zlib: Buffer.from([0x78, 0x9c]),
  gzip: Buffer.from([0x1f, 0x8b, 0x08]),
  lzma: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
  lz4: Buffer.from([0x04, 0x22, 0x4d, 0x18]),
  zstd: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
  brotli: null,
}

const DECOMPRESSORS: Record<Exclude<CompressorId, 'none'>, () => Compressor> = {
  zlib: () => zlibCompressor(),
  gzip: () => gzipCompressor(),
  lzma: () => lzmaCompressor(),
  lz4: () => lz4Compressor(),
  zstd: () => zstdCompressor(),
  brotli: () => brotliCompressor(),
}

/** One serializer under test. */
export interface SerializerUnderTest {
  kind: SerializerKind
  /** `createCache`'s `serializer` option: the name where createCache knows it. */
  option(): Promise<SerializerName | Serializer>
  /** The serializer as an object, to read raw bytes with. */
  serializer(): Promise<Serializer>
  /** Cases only this serializer carries. */
  extraCases?: readonly ValueCase[]
  /** Django's `PICKLE_VERSION`. */
  pickleVersion?: number
}

/**
 * Checks the Python side and starts the file's redis-server, once; returns the server's URL
 * getter. Hooks here never throw: a missing Django (or redis-server) is thrown by the getter, so
 * that every test fails with that one line rather than being reported as skipped.
 */
export function useInteropServer(): () => string {
  let server: RedisServer | undefined
  let failure: unknown
  beforeAll(async () => {
    try {
      requireDjango()
      server = await startRedis()
    } catch (error) {
      failure = error
    }
  })
  afterAll(async () => {
    await server?.stop()
  })
  return () => {
    if (failure !== undefined) throw failure
    if (server === undefined) throw new Error('redis-server did not start')
    return server.url
  }
}

/**
 * Runs `setup` in a `beforeAll` that never throws, and returns a getter of its result that
 * throws the setup's error instead — in each test, so none is reported as skipped.
 */
export function setupOnce<T>(setup: () => Promise<T>, timeout = 180_000): () => T {
  let result: { ok: true; value: T } | { ok: false; error: unknown } | undefined
  beforeAll(async () => {
    try {
      result = { ok: true, value: await setup() }
    } catch (error) {
      result = { ok: false, error }
    }
  }, timeout)
  return () => {
    if (result === undefined) throw new Error('the setup did not run')
    if (!result.ok) throw result.error
    return result.value
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown }

/** Results of cachex calls, kept by name until a test looks at them. */
class Outcomes {
  readonly #map = new Map<string, Outcome>()

  async run(name: string, call: () => Promise<unknown>): Promise<void> {
    try {
      this.#map.set(name, { ok: true, value: await call() })
    } catch (error) {
      this.#map.set(name, { ok: false, error })
    }
  }

  value(name: string): unknown {
    const outcome = this.#map.get(name)
    if (outcome === undefined) throw new Error(`no outcome '${name}'`)
    if (!outcome.ok) throw outcome.error
    return outcome.value
  }
}

interface Combo {
  cache: Cache
  serializer: Serializer
  js: Outcomes
  py1: DjangoResults
  py2: DjangoResults
  refs1: Map<string, Ref>
  refs2: Map<string, Ref>
}

const V = { vers: 'django', list: [1, 2] }
const W = { vers: 'node', list: [3, 4] }

/** Defines the `<serializer> × <compressor>` suites for every compressor. */
export function describeMatrix(sut: SerializerUnderTest, url: () => string): void {
  const cases = casesFor(sut.kind, sut.extraCases)
  for (const compressor of COMPRESSORS) {
    describe(`${sut.kind} × ${compressor}`, () => {
      const storage = storageCases(sut.kind, compressor)
      let cache: Cache | undefined
      const get = setupOnce(async () => {
        const combo = await exchange(sut, compressor, url(), cases, storage)
        cache = combo.cache
        return combo
      })
      afterAll(async () => {
        await cache?.close()
      })

      describe('values written by Django, read by cachex', () => {
        for (const c of cases) {
          it(c.id, () => {
            const { js, py1, refs1 } = get()
            py1.tagged(ref(refs1, `set:${c.id}`)) // throws Django's error if it could not write
            expect(js.value(`read:${c.id}`)).toStrictEqual(c.jsRead ?? c.js)
          })
        }
      })

      describe('values written by cachex, read by Django', () => {
        for (const c of cases.filter((c) => c.djangoOnly !== true)) {
          it(c.id, () => {
            const { js, py2, refs2 } = get()
            expect(js.value(`write:${c.id}`)).toBe(true)
            const expected = c.pyRead ?? c.py ?? toTagged(c.js)
            expect(canonical(py2.tagged(ref(refs2, `get:${c.id}`)))).toStrictEqual(
              canonical(expected),
            )
          })
        }
      })

      describe(`stored form (${compressor === 'none' ? 'uncompressed' : `${compressor} over ${minLength(compressor)} bytes`})`, () => {
        for (const s of storage) {
          for (const writer of ['django', 'cachex'] as const) {
            it(`${s.id} written by ${writer}`, () => {
              const { js, py2, refs2, serializer } = get()
              if (writer === 'cachex') expect(js.value(`write-storage:${s.id}`)).toBe(true)
              const raw = py2.bytes(ref(refs2, `raw:${writer}:${s.id}`))
              expect(raw).not.toBeNull()
              checkStored(raw as Buffer, s, compressor, serializer)
              // And the other side reads it.
              if (writer === 'django') {
                expect(js.value(`read-storage:${s.id}`)).toStrictEqual(s.value)
              } else {
                expect(canonical(py2.tagged(ref(refs2, `get-storage:${s.id}`)))).toStrictEqual(
                  canonical(toTagged(s.value)),
                )
              }
            })
          }
        }
      })

      describe('behaviour across languages', () => {
        it('set with timeout 60 on one side: ttl ≈ 60 and pttl ≈ 60000 on the other', () => {
          const { js, py2, refs2 } = get()
          expectAbout(js.value('ttl:py-ttl'), 60, SLACK_S)
          expectAbout(js.value('pttl:py-ttl'), 60_000, SLACK_S * 1000)
          expectAbout(py2.value(ref(refs2, 'ttl:js-ttl')), 60, SLACK_S)
          expectAbout(py2.value(ref(refs2, 'pttl:js-ttl')), 60_000, SLACK_S * 1000)
        })

        it('set with timeout null/None: no expiry on the other side', () => {
          const { js, py2, refs2 } = get()
          expect(js.value('ttl:py-persist')).toBeNull()
          expect(py2.value(ref(refs2, 'ttl:js-persist'))).toBeNull()
        })

        it('incr/decr by cachex of an integer Django wrote, and back', () => {
          const { js, py2, refs2 } = get()
          expect(js.value('incr:py-n')).toBe(15)
          expect(js.value('decr:py-n')).toBe(13)
          expect(py2.value(ref(refs2, 'get:py-n'))).toBe(13)
          expect(py2.value(ref(refs2, 'incr:py-n'))).toBe(15)
          expect(js.value('get:py-n')).toBe(15)
        })

        it('incr/decr by Django of an integer cachex wrote, and back', () => {
          const { js, py2, refs2 } = get()
          expect(py2.value(ref(refs2, 'incr:js-n'))).toBe(103)
          expect(py2.value(ref(refs2, 'decr:js-n'))).toBe(102)
          expect(js.value('get:js-n')).toBe(102)
        })

        it('incr past int64 max (INCRBY refuses; read, add, write back) on the other side', () => {
          const { js, py2, refs2 } = get()
          expect(js.value('incr:py-nbig')).toBe(2n ** 63n)
          expect(py2.tagged(ref(refs2, 'get:py-nbig'))).toStrictEqual(py.int(2n ** 63n))
          expect(py2.tagged(ref(refs2, 'incr:js-nbig'))).toStrictEqual(py.int(2n ** 63n))
          expect(js.value('get:js-nbig')).toBe(2n ** 63n)
        })

        it('incr of a float the other side wrote keeps the TTL', () => {
          const { js, py2, refs2 } = get()
          expect(js.value('incr:py-nfloat')).toBe(2.5)
          expect(py2.tagged(ref(refs2, 'get:py-nfloat'))).toStrictEqual(py.float(2.5))
          expectAbout(py2.value(ref(refs2, 'ttl:py-nfloat')), 60, SLACK_S)
          expect(py2.tagged(ref(refs2, 'incr:js-nfloat'))).toStrictEqual(py.float(2.5))
          expect(js.value('get:js-nfloat')).toBe(2.5)
          expectAbout(js.value('ttl:js-nfloat'), 60, SLACK_S)
        })

        it('add is refused when the other side wrote the key', () => {
          const { js, py2, refs2 } = get()
          expect(js.value('add:py-add')).toBe(false)
          expect(js.value('get:py-add')).toBe('django')
          expect(py2.value(ref(refs2, 'get:py-add'))).toBe('django')
          expect(py2.value(ref(refs2, 'add:js-add'))).toBe(false)
          expect(py2.value(ref(refs2, 'get:js-add'))).toBe('node')
          expect(js.value('get:js-add')).toBe('node')
        })

        it('add of a new key by one side is read by the other', () => {
          const { js, py2, refs2 } = get()
          expect(js.value('add:js-fresh')).toBe(true)
          expect(py2.value(ref(refs2, 'get:js-fresh'))).toBe('node')
          expect(py2.value(ref(refs2, 'add:py-fresh'))).toBe(true)
          expect(js.value('get:py-fresh')).toBe('django')
        })

        it('touch from one side is seen by ttl on the other', () => {
          const { js, py2, refs2 } = get()
          expect(js.value('touch:py-touch')).toBe(true)
          expectAbout(py2.value(ref(refs2, 'ttl:py-touch')), 120, SLACK_S)
          expect(js.value('touch:py-touch-persist')).toBe(true)
          expect(py2.value(ref(refs2, 'ttl:py-touch-persist'))).toBeNull()
          expect(py2.value(ref(refs2, 'touch:js-touch'))).toBe(true)
          expectAbout(js.value('ttl:js-touch'), 90, SLACK_S)
          expect(py2.value(ref(refs2, 'touch:js-touch-persist'))).toBe(true)
          expect(js.value('ttl:js-touch-persist')).toBeNull()
        })

        it('incrVersion by cachex: Django reads version 2, with the TTL kept', () => {
          const { js, py2, refs2 } = get()
          expect(js.value('incr-version:py-ver')).toBe(2)
          expect(py2.value(ref(refs2, 'get-v2:py-ver'))).toStrictEqual(V)
          expect(py2.tagged(ref(refs2, 'get-v1:py-ver'))).toStrictEqual(py.missing)
          expectAbout(py2.value(ref(refs2, 'ttl-v2:py-ver')), 60, SLACK_S)
        })

        it('incr_version by Django: cachex reads version 2, with the TTL kept', () => {
          const { js, py2, refs2 } = get()
          expect(py2.value(ref(refs2, 'incr-version:js-ver'))).toBe(2)
          expect(js.value('get-v2:js-ver')).toStrictEqual(W)
          expect(js.value('get-v1:js-ver')).toBe(MISSING)
          expectAbout(js.value('pttl-v2:js-ver'), 60_000, SLACK_S * 1000)
        })

        it('getMany / get_many of keys the other side wrote', () => {
          const { js, py2, refs2 } = get()
          expect(js.value('get-many:m')).toStrictEqual(
            new Map<string, unknown>([
              ['m1', 1],
              ['m2', 'two'],
              ['m3', [3, 'three']],
            ]),
          )
          expect(canonical(py2.tagged(ref(refs2, 'get-many:jm')))).toStrictEqual(
            canonical(
              py.dict(
                ['jm1', py.float(1.5)],
                ['jm2', py.str('dos')],
                ['jm3', py.dict(['three', py.list(py.int(3))])],
              ),
            ),
          )
          expectAbout(py2.value(ref(refs2, 'ttl:jm1')), 60, SLACK_S)
        })

        it('deleteMany / delete_many and delete of keys the other side wrote', () => {
          const { js, py2, refs2 } = get()
          expect(js.value('delete-many:py')).toBe(2)
          expect(py2.value(ref(refs2, 'has:py-dm1'))).toBe(false)
          expect(py2.value(ref(refs2, 'has:py-keep'))).toBe(true)
          expect(js.value('delete:py-del')).toBe(true)
          expect(py2.value(ref(refs2, 'has:py-del'))).toBe(false)
          expect(py2.value(ref(refs2, 'delete-many:js'))).toBe(2)
          expect(js.value('has:js-dm1')).toBe(false)
          expect(js.value('has:js-keep')).toBe(true)
          expect(py2.value(ref(refs2, 'delete:js-del'))).toBe(true)
          expect(js.value('has:js-del')).toBe(false)
        })

        it('keys() on one side lists the keys the other side wrote', () => {
          const { js, py2, refs2 } = get()
          expect(js.value('keys:m?')).toStrictEqual(['m1', 'm2', 'm3'])
          expect(py2.value(ref(refs2, 'keys:jm*'))).toStrictEqual(['jm1', 'jm2', 'jm3'])
        })
      })
    })
  }
}

function ref(refs: Map<string, Ref>, name: string): Ref {
  const r = refs.get(name)
  if (r === undefined) throw new Error(`no Django operation '${name}'`)
  return r
}

// A TTL seen on the other side is at most what was set, and less by the time the batches took:
// seconds, and up to 17 s seen with every core busy. Within 40 s of 60 it is still far from
// Django's default 300, from "no expiry" and from seconds taken as milliseconds.
const SLACK_S = 40

function expectAbout(actual: unknown, expected: number, slack: number): void {
  expect(typeof actual).toBe('number')
  expect(actual as number).toBeLessThanOrEqual(expected)
  expect(actual as number).toBeGreaterThanOrEqual(expected - slack)
}

/** Asserts that `raw` is stored compressed (magic bytes) or not, and decodes to the value. */
function checkStored(
  raw: Buffer,
  s: StorageCase,
  compressor: CompressorId,
  serializer: Serializer,
): void {
  const magic = MAGIC[compressor]
  const compressed = s.compressed(compressor)
  let serialized = raw
  if (compressed) {
    if (magic !== null)
      expect(raw.subarray(0, magic.length).toString('hex')).toBe(magic.toString('hex'))
    // Throws when the bytes are not this compressor's (brotli has no magic bytes to check).
    serialized = DECOMPRESSORS[compressor as Exclude<CompressorId, 'none'>]().decompress(raw)
  } else if (compressor !== 'none') {
    if (magic !== null) expect(raw.subarray(0, magic.length).equals(magic)).toBe(false)
    expect(raw.length).toBeLessThanOrEqual(minLength(compressor))
  }
  if (s.length !== undefined) expect(serialized.length).toBe(s.length)
  expect(serializer.deserialize(serialized)).toStrictEqual(s.value)
}

async function exchange(
  sut: SerializerUnderTest,
  compressor: CompressorId,
  url: string,
  cases: ValueCase[],
  storage: StorageCase[],
): Promise<Combo> {
  const prefix = uniquePrefix(`interop-${sut.kind}-${compressor}`)
  const config = { url, serializer: sut.kind, compressor, prefix, pickleVersion: sut.pickleVersion }
  const serializer = await sut.serializer()
  for (const s of storage) {
    if (s.length === undefined) continue
    const length = Buffer.byteLength(serializer.serialize(s.value))
    if (length !== s.length) {
      throw new Error(`${s.id}: cachex serializes it to ${length} bytes, not ${s.length}`)
    }
  }
  const cache = createCache({
    location: url,
    keyPrefix: prefix,
    serializer: await sut.option(),
    compressor: compressor as CompressorName,
  })
  const js = new Outcomes()

  // Batch 1: Django writes.
  const b1 = new DjangoBatch()
  const refs1 = new Map<string, Ref>()
  for (const c of cases) refs1.set(`set:${c.id}`, b1.set(`py:${c.id}`, c.py ?? toTagged(c.js)))
  for (const s of storage) b1.set(`py-storage:${s.id}`, s.value)
  b1.set('py-ttl', 'ttl', { timeout: 60 })
  b1.set('py-persist', 'persist', { timeout: null })
  b1.set('py-n', 10)
  b1.set('py-nbig', 2n ** 63n - 1n)
  b1.set('py-nfloat', 1.5, { timeout: 60 })
  b1.set('py-add', 'django')
  b1.set('py-touch', 'touch', { timeout: null })
  b1.set('py-touch-persist', 'touch', { timeout: 60 })
  b1.set('py-ver', V, { timeout: 60 })
  b1.setMany([
    ['m1', 1],
    ['m2', 'two'],
    ['m3', [3, 'three']],
  ])
  for (const key of ['py-dm1', 'py-dm2', 'py-keep', 'py-del']) b1.set(key, key)
  const py1 = await b1.run(config)

  // cachex reads what Django wrote, and acts on it.
  for (const c of cases) await js.run(`read:${c.id}`, () => cache.get(`py:${c.id}`, MISSING))
  for (const s of storage) {
    await js.run(`read-storage:${s.id}`, () => cache.get(`py-storage:${s.id}`, MISSING))
  }
  await js.run('ttl:py-ttl', () => cache.ttl('py-ttl'))
  await js.run('pttl:py-ttl', () => cache.pttl('py-ttl'))
  await js.run('ttl:py-persist', () => cache.ttl('py-persist'))
  await js.run('incr:py-n', () => cache.incr('py-n', 5))
  await js.run('decr:py-n', () => cache.decr('py-n', 2))
  await js.run('incr:py-nbig', () => cache.incr('py-nbig'))
  await js.run('incr:py-nfloat', () => cache.incr('py-nfloat', 1))
  await js.run('add:py-add', () => cache.add('py-add', 'node'))
  await js.run('get:py-add', () => cache.get('py-add'))
  await js.run('add:js-fresh', () => cache.add('js-fresh', 'node'))
  await js.run('touch:py-touch', () => cache.touch('py-touch', 120))
  await js.run('touch:py-touch-persist', () => cache.touch('py-touch-persist', null))
  await js.run('incr-version:py-ver', () => cache.incrVersion('py-ver'))
  await js.run('get-many:m', () => cache.getMany(['m1', 'm2', 'm3', 'm-missing']))
  await js.run('delete-many:py', () => cache.deleteMany(['py-dm1', 'py-dm2', 'py-missing']))
  await js.run('delete:py-del', () => cache.delete('py-del'))
  await js.run('keys:m?', async () => (await cache.keys('m?')).sort())

  // cachex writes.
  for (const c of cases.filter((c) => c.djangoOnly !== true)) {
    await js.run(`write:${c.id}`, () => cache.set(`js:${c.id}`, c.js))
  }
  for (const s of storage) {
    await js.run(`write-storage:${s.id}`, () => cache.set(`js-storage:${s.id}`, s.value))
  }
  await cache.set('js-ttl', 'ttl', { timeout: 60 })
  await cache.set('js-persist', 'persist', { timeout: null })
  await cache.set('js-n', 100)
  await cache.set('js-nbig', 2n ** 63n - 1n)
  await cache.set('js-nfloat', 1.5, { timeout: 60 })
  await cache.set('js-add', 'node')
  await cache.set('js-touch', 'touch', { timeout: null })
  await cache.set('js-touch-persist', 'touch', { timeout: 60 })
  await cache.set('js-ver', W, { timeout: 60 })
  await cache.setMany({ jm1: 1.5, jm2: 'dos', jm3: { three: [3] } }, { timeout: 60 })
  for (const key of ['js-dm1', 'js-dm2', 'js-keep', 'js-del']) await cache.set(key, key)

  // Batch 2: Django reads what cachex wrote and sees what cachex did.
  const b2 = new DjangoBatch()
  const refs2 = new Map<string, Ref>()
  const q = (name: string, r: Ref) => refs2.set(name, r)
  for (const c of cases) {
    if (c.djangoOnly !== true) q(`get:${c.id}`, b2.get(`js:${c.id}`))
  }
  for (const s of storage) {
    q(`raw:django:${s.id}`, b2.rawGet(`py-storage:${s.id}`))
    q(`raw:cachex:${s.id}`, b2.rawGet(`js-storage:${s.id}`))
    q(`get-storage:${s.id}`, b2.get(`js-storage:${s.id}`))
  }
  q('get:py-n', b2.get('py-n'))
  q('incr:py-n', b2.incr('py-n', 2))
  q('get:py-nbig', b2.get('py-nbig'))
  q('get:py-nfloat', b2.get('py-nfloat'))
  q('ttl:py-nfloat', b2.ttl('py-nfloat'))
  q('get:py-add', b2.get('py-add'))
  q('get:js-fresh', b2.get('js-fresh'))
  q('ttl:py-touch', b2.ttl('py-touch'))
  q('ttl:py-touch-persist', b2.ttl('py-touch-persist'))
  q('get-v2:py-ver', b2.get('py-ver', { version: 2 }))
  q('get-v1:py-ver', b2.get('py-ver', { version: 1 }))
  q('ttl-v2:py-ver', b2.ttl('py-ver', { version: 2 }))
  q('has:py-dm1', b2.hasKey('py-dm1'))
  q('has:py-keep', b2.hasKey('py-keep'))
  q('has:py-del', b2.hasKey('py-del'))
  q('ttl:js-ttl', b2.ttl('js-ttl'))
  q('pttl:js-ttl', b2.pttl('js-ttl'))
  q('ttl:js-persist', b2.ttl('js-persist'))
  q('incr:js-n', b2.incr('js-n', 3))
  q('decr:js-n', b2.decr('js-n', 1))
  q('incr:js-nbig', b2.incr('js-nbig', 1))
  q('incr:js-nfloat', b2.incr('js-nfloat', 1))
  q('add:js-add', b2.add('js-add', 'django'))
  q('get:js-add', b2.get('js-add'))
  q('add:py-fresh', b2.add('py-fresh', 'django'))
  q('touch:js-touch', b2.touch('js-touch', { timeout: 90 }))
  q('touch:js-touch-persist', b2.touch('js-touch-persist', { timeout: null }))
  q('incr-version:js-ver', b2.incrVersion('js-ver'))
  q('get-many:jm', b2.getMany(['jm1', 'jm2', 'jm3', 'jm-missing']))
  q('ttl:jm1', b2.ttl('jm1'))
  q('delete-many:js', b2.deleteMany(['js-dm1', 'js-dm2', 'js-missing']))
  q('delete:js-del', b2.delete('js-del'))
  q('keys:jm*', b2.keys('jm*'))
  const py2 = await b2.run(config)

  // cachex sees what Django did.
  await js.run('get:py-n', () => cache.get('py-n'))
  await js.run('get:js-n', () => cache.get('js-n'))
  await js.run('get:js-nbig', () => cache.get('js-nbig'))
  await js.run('get:js-nfloat', () => cache.get('js-nfloat'))
  await js.run('ttl:js-nfloat', () => cache.ttl('js-nfloat'))
  await js.run('get:js-add', () => cache.get('js-add'))
  await js.run('get:py-fresh', () => cache.get('py-fresh'))
  await js.run('ttl:js-touch', () => cache.ttl('js-touch'))
  await js.run('ttl:js-touch-persist', () => cache.ttl('js-touch-persist'))
  await js.run('get-v2:js-ver', () => cache.get('js-ver', MISSING, { version: 2 }))
  await js.run('get-v1:js-ver', () => cache.get('js-ver', MISSING, { version: 1 }))
  await js.run('pttl-v2:js-ver', () => rawPttl(cache, 'js-ver', 2))
  await js.run('has:js-dm1', () => cache.hasKey('js-dm1'))
  await js.run('has:js-keep', () => cache.hasKey('js-keep'))
  await js.run('has:js-del', () => cache.hasKey('js-del'))

  return { cache, serializer, js, py1, py2, refs1, refs2 }
}
