// Members of sets, sorted sets and lists are compared by Redis as bytes: a member one side adds
// is found by the other only if both encode it to the same bytes. With pickle, every member is
// over the compressors' 15 bytes, so each is compressed. These compressors write Python's bytes
// (docs/sharing-with-django.md says which do not).
import { describe, expect, it } from 'vitest'
import { createCache } from '../src/index.ts'
import { DjangoBatch, type Ref } from './interop/django.ts'
import { useInteropServer } from './interop/suite.ts'

const url = useInteropServer()

const MEMBERS = ['two', 'a longer member, '.repeat(20), { user: 1, tags: ['x', 'y'] }, 12.5]

describe.each(['none', 'brotli', 'lzma'] as const)(
  'pickle + %s: set members are the same bytes on both sides',
  (compressor) => {
    it('each side finds the members the other added', async () => {
      const prefix = `interop-members-${compressor}-${process.pid}`
      const cache = createCache({
        location: url(),
        keyPrefix: prefix,
        serializer: 'pickle',
        compressor,
      })
      try {
        await cache.zadd(
          'from-js',
          MEMBERS.map((member, i) => [i + 1, member] as [number, unknown]),
        )
        const batch = new DjangoBatch()
        const found: Ref[] = MEMBERS.map((member) => batch.zscore('from-js', member))
        for (const [i, member] of MEMBERS.entries()) batch.zadd('from-py', member, 10 + i)
        const results = await batch.run({
          url: url(),
          serializer: 'pickle',
          compressor,
          prefix,
        })
        expect(found.map((ref) => results.value(ref))).toEqual([1, 2, 3, 4])
        for (const [i, member] of MEMBERS.entries()) {
          expect(await cache.zscore('from-py', member)).toBe(10 + i)
        }
        // Added again by this side: the same member, not a second one.
        expect(await cache.zadd('from-py', [[99, MEMBERS[0]]])).toBe(0)
        expect(await cache.zcard('from-py')).toBe(MEMBERS.length)
      } finally {
        await cache.clear()
        await cache.close()
      }
    })
  },
)
