// The machinery of the fuzz suites (fuzz-codec.test.ts, fuzz-read.test.ts): configuration,
// inputs (random bytes, mutations of valid encodings, hand-made hostile seeds, decompression
// bombs), and the checks every read must pass: it returns a value made only of the types its
// serializer documents, or rejects with a typed `CachexError`; it spends at most 200 ms of CPU;
// it does not grow the process's memory by more than 512 MB; it leaves the built-in prototypes
// alone.

import { readFileSync } from 'node:fs'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import * as zlib from 'node:zlib'
import {
  brotliCompressor,
  gzipCompressor,
  lz4Compressor,
  lzmaCompressor,
  zlibCompressor,
  zstdCompressor,
} from '@cachex/compressors'
import {
  CachexError,
  type Compressor,
  ConnectionError,
  jsonSerializer,
  type Serializer,
} from '@cachex/core'
import { Codec } from '@cachex/core/internal'
import {
  msgpackSerializer,
  PyDate,
  PyDateTime,
  PyDecimal,
  PyGlobal,
  PyTime,
  PyTimeDelta,
  PyTimezone,
  PyTuple,
  PyUUID,
  pickleSerializer,
  tuple,
} from '@cachex/serializers'
import { trackUnhandledRejections } from '@cachex/test-utils'
import { brotliBomb, gzipBomb, lz4Bomb, xzBomb, zlibBomb, zstdBomb } from '@cachex/test-utils/bombs'
import fc from 'fast-check'
import { Packr } from 'msgpackr'

// ---------------------------------------------------------------- configuration

function envInteger(name: string): number | undefined {
  const text = process.env[name]
  if (text === undefined || text === '') return undefined
  const value = Number(text)
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got '${text}'`)
  return value
}

/**
 * The seed of every property. CI uses a fixed one, so a red run is the same run on every machine;
 * `pnpm fuzz` draws a new one each time and prints it; `FUZZ_SEED=<n>` replays a run.
 */
export const FUZZ_SEED: number = envInteger('FUZZ_SEED') ?? 20_240_808
/**
 * Runs of each codec-level property per serializer × compressor (`FUZZ_RUNS`); the Redis-level
 * properties, each run of which writes and reads a batch of values, run a tenth of that.
 */
export const CODEC_RUNS: number = envInteger('FUZZ_RUNS') ?? 200
export const READ_RUNS: number = Math.max(1, Math.ceil(CODEC_RUNS / 10))
/**
 * Vitest timeouts: caps that only catch a run that hangs, with room for a machine whose cores are
 * all busy (the real bound is each read's CPU time). A fuzz test outlives vitest's 30 s default
 * under `pnpm fuzz`, and a hostile test on code with the bugs it catches spends seconds a read.
 */
export const TIMEOUTS = {
  codecProperty: 60_000 + CODEC_RUNS * 100,
  readProperty: 60_000 + READ_RUNS * 1000,
  hostile: 600_000,
} as const

/**
 * Shrinking a failure re-runs slow inputs many times (a 13 s read, a hundred times over), so a
 * failing run stops at its first counterexample and prints the seed and path that replay it;
 * `FUZZ_SHRINK=1` shrinks it to a minimal one instead.
 */
export function fuzzParameters(numRuns: number): fc.Parameters<unknown> {
  const path = process.env.FUZZ_PATH
  return {
    seed: FUZZ_SEED,
    numRuns,
    endOnFailure: process.env.FUZZ_SHRINK !== '1',
    ...(path ? { path } : {}),
  }
}

/**
 * The bound on the CPU time of one read. CPU time (`process.cpuUsage()`: this process's user +
 * system time, and the suites run one file per process) rather than wall time, because a read
 * here is synchronous decoding work on the event loop, and another process keeping both cores
 * busy makes it wait longer but not *work* longer: a read of ≤ 4 MB that is linear in its input
 * costs a few milliseconds of CPU on a loaded machine as on an idle one, while the bugs this
 * suite exists to catch (a quadratic regex, a decompression bomb, BigInt over millions of
 * digits) cost seconds. What can still add CPU time to one read is the runtime itself — a major
 * GC landing inside it, GC and JIT compiler threads working in the background (a 128 KiB pickle
 * that costs 20–40 ms alone measured up to 192 ms late in a 5,000-run file) — so a read over the
 * bound is re-run (reads are idempotent) up to twice, each time after a full GC and measuring the
 * event loop's thread alone, and fails only when every attempt is over it; a read over ten times
 * the bound is not re-run, since no GC pause explains that, and a genuine 13 s read should not
 * be paid for three times.
 */
export const READ_CPU_BOUND_MS = 200

/**
 * The CPU bound of one read of `bytes` bytes: `READ_CPU_BOUND_MS`, plus 75 ms per MiB beyond the
 * first for the hand-made megabyte inputs (a 4 MB stored value is decompressed, copied and
 * scanned in linear time: 35–50 ms for the JSON reader alone, over 200 ms with the decompression
 * on a machine whose every core is busy). Still far below what a quadratic read costs (seconds).
 */
export function readCpuBound(bytes: number): number {
  return READ_CPU_BOUND_MS + 75 * Math.max(0, bytes / MiB - 1)
}
/**
 * The bound on how much memory one read may take — the growth of the process's peak RSS while it
 * runs, from `resourceUsage().maxRSS`, the kernel's high-water mark, since the peak of a
 * synchronous decompression is gone by the time anything on the event loop could sample it — and
 * on how much the settled RSS (after a full GC) may grow over a whole file, which would be a leak.
 * Generous — a 4 MB value is decoded several times — yet a decompression bomb (gigabytes) crosses
 * it at once.
 */
export const RSS_BOUND_BYTES = 512 * 1024 * 1024
/**
 * A full garbage collection on demand (`--expose-gc`, switched on at run time: a test file cannot
 * set its worker's flags). Run before a read over the CPU bound is measured again, so that the
 * retry measures the read and not GC debt that earlier runs left, and between combinations, so
 * that the heap stays small: the bigger the heap, the more every later GC — and so every read —
 * costs (a 640 KB pickle measured 81 ms alone, 333 ms late in a 5,000-run file).
 */
setFlagsFromString('--expose-gc')
export const collectGarbage = runInNewContext('gc') as () => void

/**
 * `maxValueSize` of every codec and cache fuzzed here: small enough that decompressing up to it
 * stays well inside the 200 ms bound in every compressor (lzma, the slowest, spends about 360 ms
 * of CPU refusing a bomb at 64 MiB here, 40 ms at 8 MiB, so the 64 MiB default would not — limits.test.ts reads the bombs at the
 * default, with a bound that proves no hang), and larger than every legitimate input here (≤ 4 MB).
 */
export const FUZZ_MAX_VALUE_SIZE = 8 * 1024 * 1024

// ---------------------------------------------------------------- serializers × compressors

export type SerializerName = 'json' | 'msgpack' | 'pickle'
export type CompressorName = 'none' | 'zlib' | 'gzip' | 'brotli' | 'lz4' | 'zstd' | 'lzma'
export const SERIALIZER_NAMES: readonly SerializerName[] = ['json', 'msgpack', 'pickle']
export const COMPRESSOR_NAMES: readonly CompressorName[] = [
  'none',
  'zlib',
  'gzip',
  'brotli',
  'lz4',
  'zstd',
  'lzma',
]

export interface Combo {
  serializer: SerializerName
  compressor: CompressorName
  /** `json+zlib` */
  name: string
}

export const COMBOS: readonly Combo[] = SERIALIZER_NAMES.flatMap((serializer) =>
  COMPRESSOR_NAMES.map((compressor) => ({
    serializer,
    compressor,
    name: `${serializer}+${compressor}`,
  })),
)

/** The serializer `createCache({ serializer: name })` builds. */
export function makeSerializer(name: SerializerName): Serializer {
  if (name === 'json') return jsonSerializer()
  if (name === 'msgpack') return msgpackSerializer()
  return pickleSerializer()
}

/** The compressor `createCache({ compressor: name })` builds. */
export function makeCompressor(name: CompressorName): Compressor | undefined {
  switch (name) {
    case 'none':
      return undefined
    case 'zlib':
      return zlibCompressor()
    case 'gzip':
      return gzipCompressor()
    case 'brotli':
      return brotliCompressor()
    case 'lz4':
      return lz4Compressor()
    case 'zstd':
      return zstdCompressor()
    case 'lzma':
      return lzmaCompressor()
  }
}

/** A combination's own pieces: the codec a cache with these options builds, and its parts. */
export interface ComboCodec {
  combo: Combo
  serializer: Serializer
  compressor: Compressor | undefined
  codec: Codec
}

export function comboCodec(combo: Combo): ComboCodec {
  const serializer = makeSerializer(combo.serializer)
  const compressor = makeCompressor(combo.compressor)
  return {
    combo,
    serializer,
    compressor,
    codec: new Codec([serializer], compressor === undefined ? [] : [compressor], {
      maxValueSize: FUZZ_MAX_VALUE_SIZE,
    }),
  }
}

// ---------------------------------------------------------------- inputs

/** A change to a byte string; positions are taken modulo the length, so any number is valid. */
export type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; byte: number }
  | { op: 'truncate'; at: number }
  | { op: 'remove'; at: number; length: number }
  | { op: 'insert'; at: number; bytes: number[] }
  | { op: 'repeat'; at: number; length: number; times: number }
  /** Inserts `count` digits, at a digit of the input when it has one (to lengthen a number). */
  | { op: 'digits'; at: number; count: number }
  /** Overwrites `width` bytes with a huge length (all ones, or the largest signed value). */
  | { op: 'length'; at: number; width: 1 | 2 | 4 | 8; signed: boolean; littleEndian: boolean }
  /** The input up to `at`, then another seed from `from` on. */
  | { op: 'splice'; at: number; seed: string; from: number }

/**
 * One fuzz input, as a description (printed readably in a counterexample; the bytes are built
 * from it): random bytes, a value encoded by the combination's own codec, or a named seed —
 * each then mutated. `layer: 'serialized'` mutates the serializer's bytes and compresses the
 * result, so mutations reach the deserializer behind a valid compressed envelope.
 */
export type Input =
  | { kind: 'random'; bytes: Uint8Array; magic: boolean }
  | { kind: 'value'; value: unknown; layer: 'stored' | 'serialized'; mutations: Mutation[] }
  | { kind: 'seed'; seed: string; mutations: Mutation[] }

/**
 * The largest mutated input. Decoding cost grows with size — linearly, once the known bugs are
 * fixed, but container-dense values cost 0.1–0.6 µs a byte (2.4 MB of empty pickle lists: 0.5 s
 * alone; 256 KiB of them up to 146 ms late in a fuzz run, the JIT having seen every kind of
 * garbage) — so a flat 200 ms bound means something only for inputs of bounded size, with room
 * for a slower machine. Megabyte inputs are hand-made (`bigSeeds`), ones that a correct reader
 * refuses or reads cheaply.
 */
const MAX_INPUT_BYTES = 128 * 1024

/** Applies `mutations` in order to a copy of `data`. */
export function mutate(
  data: Buffer,
  mutations: readonly Mutation[],
  seeds: ReadonlyMap<string, Buffer>,
): Buffer {
  let out = data
  for (const m of mutations) {
    const n = out.length
    const at = m.at % (n + 1)
    switch (m.op) {
      case 'flip':
        if (n === 0) break
        out = Buffer.from(out)
        out[m.at % n] = (out[m.at % n] as number) ^ (1 << m.bit)
        break
      case 'set':
        if (n === 0) break
        out = Buffer.from(out)
        out[m.at % n] = m.byte
        break
      case 'truncate':
        out = out.subarray(0, at)
        break
      case 'remove':
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + m.length)])
        break
      case 'insert':
        out = Buffer.concat([out.subarray(0, at), Buffer.from(m.bytes), out.subarray(at)])
        break
      case 'repeat': {
        const chunk = out.subarray(at, at + m.length)
        const times = Math.min(m.times, Math.floor(MAX_INPUT_BYTES / Math.max(1, chunk.length)))
        out = Buffer.concat([
          out.subarray(0, at),
          ...new Array(times).fill(chunk),
          out.subarray(at),
        ])
        break
      }
      case 'digits': {
        const digitAt = nthDigit(out, m.at)
        const where = digitAt ?? at
        const run = Buffer.alloc(m.count, 0x39)
        for (let i = 0; i < run.length; i += 7) run[i] = 0x30 + (i % 10)
        out = Buffer.concat([out.subarray(0, where), run, out.subarray(where)])
        break
      }
      case 'length': {
        if (n < m.width) break
        const where = m.at % (n - m.width + 1)
        out = Buffer.from(out)
        const top = m.signed ? 0x7f : 0xff
        for (let i = 0; i < m.width; i++) {
          const isTop = m.littleEndian ? i === m.width - 1 : i === 0
          out[where + i] = isTop ? top : 0xff
        }
        break
      }
      case 'splice': {
        const other = seeds.get(m.seed) ?? Buffer.alloc(0)
        out = Buffer.concat([out.subarray(0, at), other.subarray(m.from % (other.length + 1))])
        break
      }
    }
    if (out.length > MAX_INPUT_BYTES) out = out.subarray(0, MAX_INPUT_BYTES)
  }
  return out
}

/** The position of the `k`-th ASCII digit of `data` (modulo their count), or `undefined`. */
function nthDigit(data: Buffer, k: number): number | undefined {
  let count = 0
  for (const b of data) if (b >= 0x30 && b <= 0x39) count++
  if (count === 0) return undefined
  let target = k % count
  for (let i = 0; i < data.length; i++) {
    const b = data[i] as number
    if (b >= 0x30 && b <= 0x39 && target-- === 0) return i
  }
  return undefined
}

const MAGIC: Readonly<Record<CompressorName, number[]>> = {
  none: [],
  zlib: [0x78, 0x9c],
  gzip: [0x1f, 0x8b, 0x08],
  brotli: [],
  lz4: [0x04, 0x22, 0x4d, 0x18],
  zstd: [0x28, 0xb5, 0x2f, 0xfd],
  lzma: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00],
}

/** The bytes an input describes, for one combination. */
export function materialize(input: Input, codec: ComboCodec, seeds: ReadonlyMap<string, Buffer>) {
  switch (input.kind) {
    case 'random': {
      const bytes = Buffer.from(input.bytes)
      return input.magic
        ? Buffer.concat([Buffer.from(MAGIC[codec.combo.compressor]), bytes])
        : bytes
    }
    case 'seed':
      return mutate(seeds.get(input.seed) ?? Buffer.alloc(0), input.mutations, seeds)
    case 'value': {
      let encoded: Buffer
      try {
        if (input.layer === 'stored') {
          encoded = toBuffer(codec.codec.encode(input.value))
        } else {
          const serialized = toBuffer(codec.serializer.serialize(input.value))
          const mutated = mutate(serialized, input.mutations, seeds)
          return codec.compressor === undefined ? mutated : codec.compressor.compress(mutated)
        }
      } catch {
        // A value this serializer refuses (a number JSON cannot carry, …): nothing to store.
        return Buffer.from('unencodable')
      }
      return mutate(encoded, input.mutations, seeds)
    }
  }
}

function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.length)
  return Buffer.from(String(data))
}

const DIGIT_COUNTS = [1, 17, 309, 4300, 4301, 20_000, 100_000] as const

export function mutationArbitrary(seedNames: readonly string[]): fc.Arbitrary<Mutation> {
  const at = fc.nat()
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), at, bit: fc.nat(7) }) },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('set' as const),
        at,
        byte: fc.oneof(fc.constantFrom(0x00, 0x7f, 0x80, 0xff, 0x0a, 0x2e), fc.nat(255)),
      }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), at }) },
    {
      weight: 2,
      arbitrary: fc.record({ op: fc.constant('remove' as const), at, length: fc.nat(64) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('insert' as const),
        at,
        bytes: fc.array(fc.nat(255), { minLength: 1, maxLength: 16 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('repeat' as const),
        at,
        length: fc.integer({ min: 1, max: 64 }),
        times: fc.oneof(fc.integer({ min: 2, max: 16 }), fc.constantFrom(1_000, 10_000)),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('digits' as const),
        at,
        count: fc.constantFrom(...DIGIT_COUNTS),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('length' as const),
        at: fc.oneof(fc.nat(16), at),
        width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
        signed: fc.boolean(),
        littleEndian: fc.boolean(),
      }),
    },
    ...(seedNames.length === 0
      ? []
      : [
          {
            weight: 1,
            arbitrary: fc.record({
              op: fc.constant('splice' as const),
              at,
              seed: fc.constantFrom(...seedNames),
              from: fc.nat(),
            }),
          },
        ]),
  )
}

/** Values the serializer can store (its own codec encodes them into valid seeds). */
export function valueArbitrary(serializer: SerializerName): fc.Arbitrary<unknown> {
  const json = fc.jsonValue({ maxDepth: 3 })
  if (serializer === 'json') {
    return fc.oneof(
      json,
      fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 1e16, -0.5),
    )
  }
  const bytes = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a))
  if (serializer === 'msgpack') {
    const leaf = fc.oneof(
      json,
      bytes,
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
      fc.date({ noInvalidDate: true }),
      fc.double(),
    )
    return fc.oneof(
      leaf,
      fc.array(leaf, { maxLength: 5 }),
      fc.dictionary(fc.string(), leaf, { maxKeys: 5 }),
    )
  }
  const leaf = fc.oneof(
    json,
    bytes,
    fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }),
    fc.double(),
    fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(2 ** 42) }),
    fc
      .date({ noInvalidDate: true, min: new Date(0), max: new Date('9999-12-31T00:00:00Z') })
      .map((d) => PyDateTime.fromDate(d)),
    fc.uuid().map((u) => new PyUUID(u)),
    fc.oneof(fc.double().map(String), fc.bigInt().map(String), fc.constant('NaN')).map((s) => {
      try {
        return new PyDecimal(s)
      } catch {
        return new PyDecimal('0')
      }
    }),
    fc.integer({ min: -99_999, max: 99_999 }).map((d) => new PyTimeDelta(d, 5, 7)),
  )
  return fc.oneof(
    leaf,
    fc.array(leaf, { maxLength: 5 }),
    fc.array(leaf, { maxLength: 5 }).map((items) => tuple(...items)),
    fc.array(fc.oneof(fc.integer(), fc.string()), { maxLength: 5 }).map((items) => new Set(items)),
    fc
      .array(fc.tuple(fc.integer(), leaf), { maxLength: 5 })
      .map((entries) => new Map<unknown, unknown>(entries)),
    fc.dictionary(fc.string(), leaf, { maxKeys: 5 }),
  )
}

/** Every kind of input, for one combination whose seed pool has these names. */
export function inputArbitrary(
  combo: Combo,
  seedNames: readonly string[],
  options: { maxRandomBytes?: number } = {},
): fc.Arbitrary<Input> {
  const mutations = fc.array(mutationArbitrary(seedNames), { maxLength: 4 })
  const random = fc.record({
    kind: fc.constant('random' as const),
    bytes: fc.oneof(
      { weight: 4, arbitrary: fc.uint8Array({ maxLength: 64 }) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: options.maxRandomBytes ?? 4096 }) },
    ),
    magic: combo.compressor === 'none' ? fc.constant(false) : fc.boolean(),
  })
  const value = fc.record({
    kind: fc.constant('value' as const),
    value: valueArbitrary(combo.serializer),
    layer: fc.constantFrom('stored' as const, 'serialized' as const),
    mutations,
  })
  const arbitraries: fc.WeightedArbitrary<Input>[] = [
    { weight: 2, arbitrary: random },
    { weight: 4, arbitrary: value },
  ]
  if (seedNames.length > 0) {
    arbitraries.push({
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('seed' as const),
        seed: fc.constantFrom(...seedNames),
        mutations,
      }),
    })
  }
  return fc.oneof(...arbitraries)
}

// ---------------------------------------------------------------- hand-made seeds

const latin1 = (text: string) => Buffer.from(text, 'latin1')
const digits = (count: number, digit = '9') => digit.repeat(count)

const serializerSeedCache = new Map<SerializerName, Array<[string, Buffer]>>()

/** Payloads a serializer reads, hand-made to hurt: deep, long, huge headers, foreign types. */
function serializerSeeds(serializer: SerializerName): Array<[string, Buffer]> {
  const cached = serializerSeedCache.get(serializer)
  if (cached !== undefined) return cached
  const seeds: Array<[string, Buffer]> = []
  serializerSeedCache.set(serializer, seeds)
  const add = (name: string, data: Buffer | string) =>
    seeds.push([`${serializer}:${name}`, typeof data === 'string' ? latin1(data) : data])
  if (serializer === 'json') {
    add('valid-python', '{"a": [1, 2.5, "x", null, true, 1e+16, NaN], "b": {"c": -Infinity}}')
    add('nested-arrays-100k', `${'['.repeat(100_000)}${']'.repeat(100_000)}`)
    add('nested-arrays-unclosed-1M', '['.repeat(1_000_000))
    add('nested-arrays-nan-100k', `${'['.repeat(100_000)}NaN${']'.repeat(100_000)}`)
    add('nested-objects-50k', `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`)
    add('number-100k-digits', `[${digits(100_000)}]`)
    add('number-100k-digits-nan', `[NaN, ${digits(100_000)}]`)
    add('exponent-100k-digits', `1e${digits(100_000)}`)
    add('fraction-100k-digits', `0.${digits(100_000)}e5`)
    add('proto-keys', '{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"p": 1}}}')
    add('escapes-100k', `"${'\\u0041'.repeat(100_000)}"`)
    add('lone-surrogate', '["\\ud800", "\\udc00x"]')
  } else if (serializer === 'msgpack') {
    const structured = new Packr({ structuredClone: true, moreTypes: true })
    const records = new Packr({ useRecords: true })
    const cycle: Record<string, unknown> = { a: 1 }
    cycle.self = cycle
    add('msgpackr-regexp', structured.pack(/(a+)+$/))
    add('msgpackr-set', structured.pack(new Set([1, 2])))
    add('msgpackr-typed-array', structured.pack(new Uint16Array([1, 2, 3])))
    add('msgpackr-error', structured.pack(new Error('e')))
    add('msgpackr-cycle', structured.pack(cycle))
    add(
      'msgpackr-records',
      records.pack([
        { a: 1, b: 2 },
        { a: 3, b: 4 },
      ]),
    )
    add('msgpackr-bigint-ext', Buffer.from([0xd4, 0x42, 0x00]))
    add('msgpackr-undefined-ext', Buffer.from([0xd4, 0x00, 0x00]))
    add('timestamp', Buffer.from([0xd6, 0xff, 0, 0, 0, 1]))
    add('timestamp96-huge', Buffer.from('c70cff000000007fffffffffffffff', 'hex'))
    add('array32-huge', Buffer.from('ddffffffff', 'hex'))
    add('map32-huge', Buffer.from('dfffffffff', 'hex'))
    add('str32-huge', Buffer.from('dbffffffff61', 'hex'))
    add('bin32-huge', Buffer.from('c6ffffffff61', 'hex'))
    add('ext32-huge', Buffer.from('c9ffffffff0161', 'hex'))
    add('nested-arrays-100k', Buffer.concat([Buffer.alloc(100_000, 0x91), Buffer.from([0xc0])]))
    add(
      'nested-maps-50k',
      Buffer.concat([Buffer.from('81a161'.repeat(50_000), 'hex'), Buffer.from([0xc0])]),
    )
    add('proto-key', Buffer.from('81a95f5f70726f746f5f5f81a8706f6c6c75746564c3', 'hex'))
  } else {
    const p2 = pickleSerializer({ pickleVersion: 2 })
    const p5 = pickleSerializer({ pickleVersion: 5 })
    const rich = {
      list: [1, 2.5, 'x', null, true, Buffer.from('ab'), 2n ** 100n],
      set: new Set([1, 2]),
      tuple: tuple(1, 'a'),
      when: PyDateTime.fromDate(new Date(1_700_000_000_000)),
      day: new PyDate(2024, 2, 29),
      time: new PyTime(12, 30, 0, 5),
      delta: new PyTimeDelta(1, 2, 3),
      price: new PyDecimal('1.10'),
      id: new PyUUID('12345678-1234-5678-1234-567812345678'),
      map: new Map<unknown, unknown>([[1, 'one']]),
    }
    add('protocol-2-rich', toBuffer(p2.serialize(rich)))
    add('protocol-5-rich', toBuffer(p5.serialize(rich)))
    add('protocol-0-list', "(lp0\nI1\naF2.5\naS'x'\np1\naV\\u00e9\np2\naL123L\na(dp3\ns.")
    add('float-40k-digits-bad-end', `F${digits(40_000, '1')}x\n.`)
    add('float-100k-digits', `F${digits(100_000, '1')}\n.`)
    add('float-exponent-40k-digits', `F1e${digits(40_000, '1')}x\n.`)
    add('int-100k-digits-bad-end', `I${digits(100_000, '1')}x\n.`)
    add('int-4301-digits', `I${digits(4301, '1')}\n.`)
    add('long-100k-digits', `L${digits(100_000, '1')}Lx\n.`)
    add('string-escapes-100k', `S'${'\\x41'.repeat(100_000)}'\n.`)
    add('unicode-escapes-100k', `V${'\\u0041'.repeat(100_000)}\n.`)
    // Deeper than any recursive reader survives (V8's stack holds ~10,000 frames); a reader that
    // builds the value before refusing its depth spends ~1 µs a level (100,000: up to 190 ms here).
    for (const depth of [20_000, 50_000]) {
      add(`nested-lists-${depth / 1000}k`, `${'('.repeat(depth)}${'l'.repeat(depth)}.`)
      add(
        `nested-empty-lists-${depth / 1000}k`,
        `\x80\x02${']'.repeat(depth)}${'a'.repeat(depth - 1)}.`,
      )
    }
    add('marks-1M', `${'('.repeat(1_000_000)}.`)
    add('binunicode8-huge', `\x80\x04\x8d${'\xff'.repeat(7)}\x7f.`)
    add('binbytes8-huge', `\x80\x04\x8e${'\xff'.repeat(7)}\x7f.`)
    add('bytearray8-huge', `\x80\x05\x96${'\xff'.repeat(7)}\x7f.`)
    add('long4-huge', '\x80\x02\x8b\xff\xff\xff\x7f.')
    add('frame-huge', `\x80\x04\x95${'\xff'.repeat(7)}\x7f.`)
    add('memo-get-huge', '\x80\x02j\xff\xff\xff\x7f.')
    add(
      'long4-1MB',
      Buffer.concat([
        latin1('\x80\x02\x8b'),
        Buffer.from([0x40, 0x42, 0x0f, 0x00]),
        Buffer.alloc(1_000_000, 0x5a),
        latin1('.'),
      ]),
    )
    add('global-os-system', "cos\nsystem\n(S'echo hi'\ntR.")
    add('decimal-100k-digits', `cdecimal\nDecimal\n(V${digits(100_000)}\ntR.`)
    add('decimal-huge-exponent', 'cdecimal\nDecimal\n(V1e999999999999999999\ntR.')
    add(
      'uuid-huge-int',
      `ccopy_reg\n_reconstructor\n(cuuid\nUUID\nc__builtin__\nobject\nNtR(dVint\nL${digits(5000)}L\nsb.`,
    )
  }
  return seeds
}

/** Stored values the integer fast path reads (before any decompression or serializer). */
function integerSeeds(): Array<[string, Buffer]> {
  return [
    ['int:4300-digits', latin1(digits(4300))],
    ['int:4301-digits', latin1(digits(4301))],
    ['int:100k-digits', latin1(digits(100_000))],
    ['int:100k-digits-bad-end', latin1(`${digits(100_000)}x`)],
    ['int:underscores-50k', latin1(`${'1_'.repeat(50_000)}1`)],
    ['int:spaces-100k', latin1(`${' '.repeat(100_000)}1${' '.repeat(100_000)}x`)],
  ]
}

let fourMillionDigits: Buffer | undefined

/** Megabyte seeds, read once per combination (never mutated). */
function bigSeeds(serializer: SerializerName): Array<[string, Buffer]> {
  fourMillionDigits ??= latin1(digits(4_000_000))
  const seeds: Array<[string, Buffer]> = [
    // 4 M digits: BigInt() spends about 0.7 s here; 100 k digits only 6 ms, under any bound.
    ['int:4M-digits', fourMillionDigits],
  ]
  if (serializer === 'json')
    seeds.push(['json:number-4M-digits-nan', latin1(`[NaN, ${digits(4_000_000)}]`)])
  if (serializer === 'pickle')
    seeds.push(['pickle:long-4M-digits', latin1(`L${digits(4_000_000)}L\n.`)])
  return seeds
}

const P1 = 2654435761
const P2 = 2246822519
const P3 = 3266489917
const P4 = 668265263
const P5 = 374761393

/** xxHash32 (the LZ4 frame's header checksum). */
function xxh32(data: Uint8Array, seed = 0): number {
  const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0
  const read = (p: number) =>
    ((data[p] as number) |
      ((data[p + 1] as number) << 8) |
      ((data[p + 2] as number) << 16) |
      ((data[p + 3] as number) << 24)) >>>
    0
  const round = (acc: number, lane: number) =>
    Math.imul(rotl((acc + Math.imul(lane, P2)) >>> 0, 13), P1) >>> 0
  const len = data.length
  let i = 0
  let h: number
  if (len >= 16) {
    let v1 = (seed + P1 + P2) >>> 0
    let v2 = (seed + P2) >>> 0
    let v3 = seed >>> 0
    let v4 = (seed - P1) >>> 0
    for (; i + 16 <= len; i += 16) {
      v1 = round(v1, read(i))
      v2 = round(v2, read(i + 4))
      v3 = round(v3, read(i + 8))
      v4 = round(v4, read(i + 12))
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) >>> 0
  } else {
    h = (seed + P5) >>> 0
  }
  h = (h + len) >>> 0
  for (; i + 4 <= len; i += 4) h = Math.imul(rotl((h + Math.imul(read(i), P3)) >>> 0, 17), P4) >>> 0
  for (; i < len; i++) {
    h = Math.imul(rotl((h + Math.imul(data[i] as number, P5)) >>> 0, 11), P1) >>> 0
  }
  h = Math.imul(h ^ (h >>> 15), P2) >>> 0
  h = Math.imul(h ^ (h >>> 13), P3) >>> 0
  return (h ^ (h >>> 16)) >>> 0
}

/** An LZ4 frame declaring `contentSize` (valid header checksum), holding `body` uncompressed. */
export function lz4FrameWithContentSize(body: Buffer, contentSize: bigint): Buffer {
  const descriptor = Buffer.alloc(10)
  descriptor[0] = 0x68 // version 01, independent blocks, content size present
  descriptor[1] = 0x40 // 64 KB blocks
  descriptor.writeBigUInt64LE(contentSize, 2)
  const blockSize = Buffer.alloc(4)
  blockSize.writeUInt32LE((body.length | 0x80000000) >>> 0) // high bit: stored uncompressed
  return Buffer.concat([
    Buffer.from([0x04, 0x22, 0x4d, 0x18]),
    descriptor,
    Buffer.from([(xxh32(descriptor) >>> 8) & 0xff]),
    blockSize,
    body,
    Buffer.alloc(4), // end mark
  ])
}

/** A single-segment zstd frame declaring `contentSize`, holding `body` as one raw block. */
export function zstdFrameWithContentSize(body: Buffer, contentSize: bigint): Buffer {
  const header = Buffer.alloc(9)
  header[0] = 0xe0 // 8-byte content size, single segment (window = content size)
  header.writeBigUInt64LE(contentSize, 1)
  const block = Buffer.alloc(3)
  block.writeUIntLE((body.length << 3) | 1, 0, 3) // last block, raw
  return Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), header, block, body])
}

/** A zstd frame whose window descriptor asks for the largest window (2^41 bytes). */
export function zstdFrameWithHugeWindow(body: Buffer): Buffer {
  const block = Buffer.alloc(3)
  block.writeUIntLE((body.length << 3) | 1, 0, 3)
  return Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8]), block, body])
}

/** An .xz stream whose LZMA2 filter asks for a 4 GiB dictionary (block header CRC fixed up). */
export function xzWithHugeDictionary(valid: Buffer): Buffer {
  const out = Buffer.from(valid)
  // Stream header (12 bytes), then the block header: size byte, flags, filter flags
  // (id 0x21 = LZMA2, 1 property byte: the dictionary size), padding, CRC32.
  const headerSize = ((out[12] as number) + 1) * 4
  if (out[14] !== 0x21 || out[15] !== 0x01) return out
  out[16] = 40 // 4 GiB - 1
  const crc = (zlib as unknown as { crc32(data: Uint8Array): number }).crc32(
    out.subarray(12, 12 + headerSize - 4),
  )
  out.writeUInt32LE(crc >>> 0, 12 + headerSize - 4)
  return out
}

/** Compressed-envelope seeds for one compressor, hand-made around `body`. */
function compressorSeeds(compressor: CompressorName, body: Buffer): Array<[string, Buffer]> {
  const c = makeCompressor(compressor)
  if (c === undefined) return []
  const seeds: Array<[string, Buffer]> = [[`${compressor}:valid`, c.compress(body)]]
  if (compressor === 'lz4') {
    seeds.push(['lz4:content-size-huge', lz4FrameWithContentSize(body, 2n ** 62n)])
    seeds.push(['lz4:content-size-matching', lz4FrameWithContentSize(body, BigInt(body.length))])
  } else if (compressor === 'zstd') {
    seeds.push(['zstd:content-size-huge', zstdFrameWithContentSize(body, 2n ** 62n)])
    seeds.push(['zstd:content-size-matching', zstdFrameWithContentSize(body, BigInt(body.length))])
    seeds.push(['zstd:window-huge', zstdFrameWithHugeWindow(body)])
  } else if (compressor === 'lzma') {
    seeds.push(['lzma:dictionary-4GiB', xzWithHugeDictionary(c.compress(body))])
  } else if (compressor === 'gzip') {
    const member = c.compress(body)
    seeds.push(['gzip:members-1000', Buffer.concat(new Array(1000).fill(member))])
  }
  return seeds
}

export interface SeedPool {
  /** The mutation pool: seeds of at most `MUTABLE_SEED_BYTES`, mutated on every run. */
  seeds: Map<string, Buffer>
  /** Larger seeds (up to 4 MB), read as they are once per combination. */
  big: Map<string, Buffer>
}

/**
 * Seeds that decode to more than this stay out of the mutation pool (with their compressed
 * forms): decoding 100,000 nested lists or 1 MB costs 50–150 ms, too much for every run.
 */
const MUTABLE_SEED_BYTES = 128 * 1024

/**
 * The hand-made seeds of one combination: serializer payloads raw and (for a compressor) also
 * compressed with it — so they reach the deserializer either way, since a value that does not
 * decompress is read raw — the integer path's, and the compressor's hostile envelopes.
 */
export function seedPool(codec: ComboCodec): SeedPool {
  const seeds = new Map<string, Buffer>()
  const { compressor, combo } = codec
  const big = new Map(bigSeeds(combo.serializer))
  for (const [name, data] of [...serializerSeeds(combo.serializer), ...integerSeeds()]) {
    const pool = data.length > MUTABLE_SEED_BYTES ? big : seeds
    pool.set(name, data)
    if (compressor !== undefined) pool.set(`${name}+${combo.compressor}`, compressor.compress(data))
  }
  const body = toBuffer(codec.serializer.serialize({ payload: 'x'.repeat(64), n: [1, 2, 3] }))
  for (const [name, data] of compressorSeeds(combo.compressor, body)) seeds.set(name, data)
  return { seeds, big }
}

// ---------------------------------------------------------------- decompression bombs

const MiB = 1024 * 1024

/**
 * The bomb of each compressor: 512 MiB of zeros, built in milliseconds by @cachex/test-utils. Read
 * unbounded, the fastest decoder (zstd) spends ~0.4 s of CPU on it, twice the bound, and the
 * others 1–3 s and up to a gigabyte, so it fails the bounds on code without a cap however fast
 * the machine; under `FUZZ_MAX_VALUE_SIZE` it is refused after 8 MiB. Made once per process.
 */
export async function bomb(compressor: Exclude<CompressorName, 'none'>): Promise<Buffer> {
  let data = bombs.get(compressor)
  if (data === undefined) {
    const size = 512 * MiB
    const c = makeCompressor(compressor) as Compressor
    switch (compressor) {
      case 'zlib':
        data = zlibBomb(size)
        break
      case 'gzip':
        data = gzipBomb(size)
        break
      case 'brotli':
        data = await brotliBomb(size)
        break
      case 'lz4':
        data = lz4Bomb(size, (d) => c.compress(d))
        break
      case 'zstd':
        data = zstdBomb(size)
        break
      case 'lzma':
        data = xzBomb(size, (d) => c.compress(d))
        break
    }
    bombs.set(compressor, data)
  }
  return data
}

const bombs = new Map<CompressorName, Buffer>()

// ---------------------------------------------------------------- checks

/** One broken promise of the read path, described for a failure message. */
export interface Violation {
  read: string
  problem: string
}

/** What one read did. */
export interface ReadOutcome {
  ok: boolean
  value?: unknown
  error?: unknown
  cpuMs: number
  wallMs: number
  /** How much the process's peak RSS rose during the read. */
  peakRssGrowth: number
  attempts: number
}

export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024
}

/** This process's CPU time in milliseconds, every thread of it. */
function cpuNow(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

/**
 * The CPU time of this thread alone, in milliseconds, where the platform tells it: Node's
 * `threadCpuUsage` (Node 23.9+), else Linux's schedstat; else the process's. Dearer to read than
 * `process.cpuUsage()` (up to 70 µs here), so only re-measurements use it.
 */
const threadCpuNow: () => number = (() => {
  const threadCpuUsage = (process as { threadCpuUsage?: () => { user: number; system: number } })
    .threadCpuUsage
  if (typeof threadCpuUsage === 'function') {
    return () => {
      const { user, system } = threadCpuUsage.call(process)
      return (user + system) / 1000
    }
  }
  const schedstat = () =>
    Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]) / 1e6
  try {
    if (Number.isFinite(schedstat())) return schedstat
  } catch {
    // Not Linux: the process's time.
  }
  return cpuNow
})()

async function once(read: () => unknown, clock: () => number = cpuNow): Promise<ReadOutcome> {
  const peak = peakRss()
  const wall = performance.now()
  const cpu = clock()
  let outcome: Pick<ReadOutcome, 'ok' | 'value' | 'error'>
  try {
    outcome = { ok: true, value: await read() }
  } catch (error) {
    outcome = { ok: false, error }
  }
  const measured = {
    ...outcome,
    cpuMs: clock() - cpu,
    wallMs: performance.now() - wall,
    peakRssGrowth: peakRss() - peak,
    attempts: 1,
  }
  // Let the event loop turn, as it does between a server's requests: a failed synchronous
  // node:zlib call (a brotli cache tries every value) frees its ~16 KB only then, and thousands of
  // reads chained by promises alone would pile them up into hundreds of megabytes.
  await new Promise((resolve) => setImmediate(resolve))
  return measured
}

/** Options of `measureRead` and `judge`. */
export interface Bounds {
  /** The CPU bound of one read. @default READ_CPU_BOUND_MS */
  cpuMs?: number
  /** Attempts at a read over the bound (by less than ten times) before it counts. @default 3 */
  attempts?: number
}

/** Options of `judge`. */
export interface JudgeOptions extends Bounds {
  /** The decoded values in a read's result (a `getMany` Map's values…). @default [result] */
  decoded?: (result: unknown) => Iterable<unknown>
}

/**
 * Runs one read, measuring its CPU time and peak RSS growth; re-runs it when it went over the
 * CPU bound by less than ten times (see `READ_CPU_BOUND_MS`) and keeps the fastest attempt.
 */
export async function measureRead(read: () => unknown, bounds: Bounds = {}): Promise<ReadOutcome> {
  const bound = bounds.cpuMs ?? READ_CPU_BOUND_MS
  const maxAttempts = bounds.attempts ?? 3
  let best = await once(read)
  let attempts = 1
  while (best.cpuMs > bound && best.cpuMs < 10 * bound && attempts < maxAttempts) {
    collectGarbage()
    const next = await once(read, threadCpuNow)
    attempts++
    if (next.cpuMs < best.cpuMs) best = next
  }
  if (process.env.FUZZ_VERBOSE === '1' && best.cpuMs > 20) {
    console.log(`  slow-ish read: ${best.cpuMs.toFixed(0)} ms CPU, ${outcomeText(best)}`)
  }
  return { ...best, attempts }
}

/**
 * How a read broke its promises: an error that is not a `CachexError`, or is a connection error
 * although the server is healthy (the cache files any foreign error from a decoder under
 * `ConnectionError`, so that is how an untyped error shows at the cache level); too much CPU;
 * too much memory; a value of a type the serializer never produces.
 */
export function judge(
  read: string,
  outcome: ReadOutcome,
  serializer: SerializerName,
  options: JudgeOptions = {},
): Violation[] {
  const bound = options.cpuMs ?? READ_CPU_BOUND_MS
  const violations: Violation[] = []
  const problem = (text: string) => violations.push({ read, problem: text })
  if (!outcome.ok) {
    const error = outcome.error
    if (!(error instanceof CachexError)) {
      problem(`threw an untyped ${describeError(error)}`)
    } else if (error instanceof ConnectionError) {
      problem(`rejected with ${describeError(error)} (cause: ${describeError(error.cause)})`)
    }
  }
  if (outcome.cpuMs > bound) {
    problem(
      `took ${outcome.cpuMs.toFixed(0)} ms of CPU (${outcome.wallMs.toFixed(0)} ms wall, ` +
        `${outcome.attempts} attempt(s)) > ${bound} ms; ${outcomeText(outcome)}`,
    )
  }
  if (outcome.peakRssGrowth > RSS_BOUND_BYTES) {
    problem(
      `raised the peak RSS by ${(outcome.peakRssGrowth / MiB).toFixed(0)} MiB; ${outcomeText(outcome)}`,
    )
  }
  if (outcome.ok) {
    for (const value of options.decoded?.(outcome.value) ?? [outcome.value]) {
      const foreign = foreignShape(value, serializer)
      if (foreign !== undefined) {
        problem(`returned ${foreign}`)
        break
      }
    }
  }
  return violations
}

function outcomeText(outcome: ReadOutcome): string {
  return outcome.ok ? 'then returned a value' : `then rejected: ${describeError(outcome.error)}`
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return `${error.constructor.name}${code === undefined ? '' : ` ${String(code)}`}: ${error.message.slice(0, 160)}`
  }
  return String(error)
}

const PICKLE_CLASSES: ReadonlyArray<abstract new (...args: never[]) => unknown> = [
  PyDate,
  PyDateTime,
  PyDecimal,
  PyGlobal,
  PyTime,
  PyTimeDelta,
  PyTimezone,
  PyTuple,
  PyUUID,
]

/**
 * Why `value` is not something `serializer` documents reading (a description), or `undefined`.
 * JSON: null, booleans, numbers, bigints, strings, arrays, plain objects. msgpack (Python's
 * forms): those, `Buffer` and `Date` (the timestamp extension). pickle: those, `Map`, `Set` and
 * the `Py*` classes. Only pickle can share or nest a container in itself (its memo); Python's
 * JSON and msgpack cannot write either. Walks iteratively (values may be 100,000 levels deep).
 */
export function foreignShape(value: unknown, serializer: SerializerName): string | undefined {
  const seen = new Set<object>()
  const stack: unknown[] = [value]
  let budget = 5_000_000
  while (stack.length > 0) {
    if (--budget < 0) return undefined
    const item = stack.pop()
    const type = typeof item
    if (item === null || type === 'boolean' || type === 'string' || type === 'bigint') continue
    if (type === 'number') continue
    if (type !== 'object') return `a ${type}`
    const object = item as object
    if (seen.has(object)) {
      if (serializer === 'pickle') continue
      return 'a shared or circular reference (Python cannot write one)'
    }
    seen.add(object)
    const proto = Object.getPrototypeOf(object)
    if (Array.isArray(object)) {
      if (proto !== Array.prototype) return 'an array with a foreign prototype'
      for (let i = 0; i < object.length; i++) stack.push(object[i])
      continue
    }
    if (proto === Object.prototype || proto === null) {
      for (const key of Reflect.ownKeys(object)) {
        const descriptor = Object.getOwnPropertyDescriptor(object, key)
        if (descriptor === undefined || !('value' in descriptor)) {
          return `an object with an accessor ${String(key)}`
        }
        stack.push(descriptor.value)
      }
      continue
    }
    if (serializer !== 'json' && Buffer.isBuffer(object)) continue
    if (serializer === 'msgpack' && object instanceof Date) continue
    if (serializer === 'pickle') {
      if (object instanceof Map) {
        for (const [k, v] of object) stack.push(k, v)
        continue
      }
      if (object instanceof Set) {
        for (const v of object) stack.push(v)
        continue
      }
      if (PICKLE_CLASSES.some((cls) => object instanceof cls)) continue
    }
    const name = (object as { constructor?: { name?: unknown } }).constructor?.name
    return `a ${typeof name === 'string' ? name : 'foreign object'} (${serializer} documents no such type)`
  }
  return undefined
}

/** A fingerprint of the built-in prototypes, to see that no read added or changed a property. */
export function prototypesFingerprint(): string {
  return [Object.prototype, Array.prototype, Function.prototype]
    .map((p) => Reflect.ownKeys(p).map(String).sort().join(','))
    .join('|')
}

/**
 * Whether two values decoded from the same bytes are alike: same types, same contents, the same
 * sharing. Iterative, since a decoded value may nest 100,000 levels deep (where
 * `util.isDeepStrictEqual` overflows the stack); an invalid `Date` equals an invalid `Date`.
 */
export function alike(a: unknown, b: unknown): boolean {
  const paired = new Map<object, object>()
  const stack: Array<[unknown, unknown]> = [[a, b]]
  while (stack.length > 0) {
    const [x, y] = stack.pop() as [unknown, unknown]
    if (Object.is(x, y)) continue
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false
    if (paired.has(x)) {
      if (paired.get(x) !== y) return false
      continue
    }
    paired.set(x, y)
    if (Object.getPrototypeOf(x) !== Object.getPrototypeOf(y)) return false
    if (Buffer.isBuffer(x)) {
      if (!x.equals(y as Buffer)) return false
    } else if (x instanceof Date) {
      if (!Object.is(x.getTime(), (y as Date).getTime())) return false
    } else if (x instanceof Map || x instanceof Set) {
      const xs = [...x.entries()]
      const ys = [...(y as Map<unknown, unknown>).entries()]
      if (xs.length !== ys.length) return false
      for (let i = 0; i < xs.length; i++) stack.push([xs[i], ys[i]])
    } else {
      const xk = Reflect.ownKeys(x)
      const yk = Reflect.ownKeys(y)
      if (xk.length !== yk.length) return false
      for (let i = 0; i < xk.length; i++) {
        const key = xk[i] as PropertyKey
        if (key !== yk[i]) return false
        stack.push([
          (x as Record<PropertyKey, unknown>)[key],
          (y as Record<PropertyKey, unknown>)[key],
        ])
      }
    }
  }
  return true
}

/** A one-line summary of stored bytes, for failure messages. */
export function describeBytes(data: Buffer): string {
  const head = data.subarray(0, 24).toString('hex')
  return `${data.length} bytes ${head}${data.length > 24 ? '…' : ''}`
}

export function failWith(violations: readonly Violation[], context: string): void {
  if (violations.length === 0) return
  throw new Error(`${context}\n${violations.map((v) => `  - ${v.read}: ${v.problem}`).join('\n')}`)
}

/** With `FUZZ_VERBOSE=1`, logs the CPU time each test of the file spent (call at file level). */
export function memoryText(): string {
  const m = process.memoryUsage()
  const mib = (n: number) => `${(n / MiB).toFixed(0)}`
  return `rss ${mib(m.rss)} MiB, heap ${mib(m.heapUsed)}/${mib(m.heapTotal)}, external ${mib(m.external)}, arrayBuffers ${mib(m.arrayBuffers)}`
}

export function logTestCosts(hooks: {
  beforeEach(fn: () => void): void
  afterEach(fn: (context: { task: { name: string; suite?: { name: string } } }) => void): void
}): void {
  if (process.env.FUZZ_VERBOSE !== '1') return
  let cpu = 0
  hooks.beforeEach(() => {
    cpu = cpuNow()
  })
  hooks.afterEach(({ task }) => {
    const cost = (cpuNow() - cpu).toFixed(0)
    console.log(`cost: ${cost} ms CPU: ${task.suite?.name} > ${task.name}; ${memoryText()}`)
  })
}

/**
 * Runs `test`, then fails if a promise was rejected without a handler meanwhile (listening only
 * while it runs, and stopping even when it throws).
 */
export async function withoutUnhandledRejections(test: () => Promise<void>): Promise<void> {
  const stop = trackUnhandledRejections()
  let seen: unknown[] = []
  try {
    await test()
  } finally {
    seen = stop()
  }
  if (seen.length > 0) {
    throw new Error(`unhandled rejections: ${seen.map(describeError).join('; ')}`)
  }
}

/**
 * The memory of one fuzz file: the settled RSS (after a full GC) when it starts and when it ends,
 * and the peak in between.
 */
export function trackMemory(): {
  start(): void
  finish(): { settledGrowth: number; peak: number; summary: string }
} {
  let settled = 0
  let peakAtStart = 0
  return {
    start() {
      collectGarbage()
      settled = process.memoryUsage().rss
      peakAtStart = peakRss()
    },
    finish() {
      collectGarbage()
      const settledGrowth = process.memoryUsage().rss - settled
      const peak = peakRss()
      const mib = (n: number) => `${(n / MiB).toFixed(0)} MiB`
      return {
        settledGrowth,
        peak,
        summary: `settled RSS ${settledGrowth >= 0 ? '+' : ''}${mib(settledGrowth)} over the run; peak RSS ${mib(peak)} (${mib(peakAtStart)} at the start)`,
      }
    },
  }
}
