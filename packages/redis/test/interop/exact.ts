// Byte-exactness: the same values written by cachex and by Django must be the same bytes.
import { afterAll, describe, expect, it } from 'vitest'
import { type Cache, createCache, type Serializer } from '../../src/index.ts'
import type { SerializerKind } from './cases.ts'
import { DjangoBatch, type Ref } from './django.ts'
import { setupOnce } from './suite.ts'

export interface ExactOptions {
  title: string
  kind: SerializerKind
  url: () => string
  /** The cachex serializer whose bytes are compared. */
  serializer: () => Serializer
  /** Django's `PICKLE_VERSION`. */
  pickleVersion?: number
  /** `[id, value]`: cachex writes `value`, Django writes `toTagged(value)`. */
  values: ReadonlyArray<readonly [string, unknown]>
  /** Also check that Django finds each value as a sorted-set member cachex added. */
  zscore?: boolean
}

/**
 * One describe: cachex and Django (compressor none) write every value, Django reads back both
 * raw values in one batch; each test compares the bytes and reads Django's bytes with cachex.
 */
export function describeExact(options: ExactOptions): void {
  describe(options.title, () => {
    let cache: Cache | undefined
    const refs = new Map<string, Ref>()
    const prefix = `interop-exact-${options.kind}-${options.pickleVersion ?? ''}-${process.pid}`

    const get = setupOnce(async () => {
      const url = options.url()
      cache = createCache({ location: url, keyPrefix: prefix, serializer: options.serializer() })
      const batch = new DjangoBatch()
      for (const [id, value] of options.values) {
        await cache.set(`js:${id}`, value)
        batch.set(`py:${id}`, value)
        refs.set(`raw-py:${id}`, batch.rawGet(`py:${id}`))
        refs.set(`raw-js:${id}`, batch.rawGet(`js:${id}`))
      }
      if (options.zscore === true) {
        await cache.zadd(
          'zs',
          options.values.map(([, value], i) => [i, value] as [number, unknown]),
        )
        for (const [id, value] of options.values)
          refs.set(`zscore:${id}`, batch.zscore('zs', value))
      }
      const results = await batch.run({
        url,
        serializer: options.kind,
        compressor: 'none',
        prefix,
        pickleVersion: options.pickleVersion,
      })
      return { cache, results }
    })

    afterAll(async () => {
      await cache?.close()
    })

    options.values.forEach(([id, value], i) => {
      it(`${id}: cachex writes Django's bytes, and reads them back`, async () => {
        const { cache, results } = get()
        const django = results.bytes(refs.get(`raw-py:${id}`) as Ref)
        const cachex = results.bytes(refs.get(`raw-js:${id}`) as Ref)
        expect(django).not.toBeNull()
        if (options.kind === 'pickle') {
          // PROTO <n>: Django wrote the protocol asked for (PICKLE_VERSION -1 is the highest, 5).
          const version = options.pickleVersion ?? 4
          expect(django?.subarray(0, 2).toString('hex')).toBe(
            `80${version === -1 ? '05' : `0${version}`}`,
          )
        }
        expect(hex(cachex)).toBe(hex(django))
        expect(await cache.get(`py:${id}`)).toStrictEqual(readBack(value))
      })
      if (options.zscore === true) {
        it(`${id}: Django finds the sorted-set member cachex added`, () => {
          const { results } = get()
          expect(results.value(refs.get(`zscore:${id}`) as Ref)).toBe(i)
        })
      }
    })
  })
}

/** Hex, in groups, so that a mismatch shows where it starts. */
function hex(data: Buffer | null): string | null {
  return data === null ? null : (data.toString('hex').match(/.{1,32}/g) ?? []).join('\n')
}

/** What cachex reads back for a value it can write: a `PyTuple` reads back as an array. */
function readBack(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (value.constructor?.name === 'PyTuple') {
    return (value as { items: readonly unknown[] }).items.map(readBack)
  }
  if (Array.isArray(value)) return value.map(readBack)
  if (value instanceof Set) return new Set([...value].map(readBack))
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [readBack(k), readBack(v)]))
  if (Buffer.isBuffer(value)) return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, readBack(v)]))
}
