// The published types say what the runtime and the docs do. Type-level: the `expectTypeOf` and
// `@ts-expect-error` lines below are checked by `pnpm typecheck` (the repository's options), and
// _exact-optional-sample.ts is compiled here with `exactOptionalPropertyTypes` on, as `tsc --init`
// sets it for a new project (the repository keeps it off).
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { typeErrors } from '@cachex/test-utils/type-errors'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { Cache, cluster, createCache, memory, sentinel, standalone } from '../src/index.ts'

const here = dirname(fileURLToPath(import.meta.url))

describe('published types', () => {
  it('options documented to take undefined take it under exactOptionalPropertyTypes', () => {
    const errors = typeErrors(
      join(here, '_exact-optional-sample.ts'),
      join(here, '../tsconfig.json'),
      {
        exactOptionalPropertyTypes: true,
      },
    )
    expect(errors).toEqual([])
  }, 120_000)

  it('password takes null (none), as docs/configuration.md says', () => {
    const options = { location: 'memory://', password: null }
    expectTypeOf(createCache).toBeCallableWith(options)
  })

  it('the connection factories take a null password (and sentinel credentials) as none too', () => {
    expectTypeOf(standalone).toBeCallableWith({ location: 'redis://h', password: null })
    expectTypeOf(cluster).toBeCallableWith({ location: ['redis://h'], password: null })
    expectTypeOf(sentinel).toBeCallableWith({
      location: 'redis://mymaster',
      sentinels: [['h', 26379]],
      password: null,
      sentinelOptions: { password: null, username: null },
    })
  })

  it('getMany and deleteMany refuse a single key, as the runtime does', () => {
    const cache = createCache({ location: 'memory://' })
    const calls = () => {
      // @ts-expect-error a single key where an iterable of keys is wanted
      void cache.getMany('user:1')
      // @ts-expect-error a single key where an iterable of keys is wanted
      void cache.deleteMany('user:1')
      // @ts-expect-error the same in a pipeline
      cache.pipeline().getMany('user:1').deleteMany('user:1')
    }
    void calls
    // Any other iterable of keys still does.
    const many = async () => {
      const readonlyKeys: readonly string[] = ['a']
      function* generated() {
        yield 'a'
      }
      const found = await cache.getMany<number>(new Set(['a']))
      await cache.getMany(readonlyKeys)
      await cache.getMany(generated())
      await cache.getMany(found.keys())
      await cache.deleteMany(['a', 'b'])
      await cache.deleteMany(found.keys())
      cache
        .pipeline()
        .getMany(['a'])
        .deleteMany(new Set(['a']))
      expectTypeOf(found).toEqualTypeOf<Map<string, number>>()
    }
    void many
  })

  it('set with get: a boolean resolves either result', () => {
    const cache = createCache({ location: 'memory://' })
    const wantOld = Math.random() > 0.5
    const call = () => cache.set<string>('k', 1, { get: wantOld })
    expectTypeOf(call).returns.toEqualTypeOf<Promise<boolean | string | null>>()
    const positional = () => cache.set('k', 1, 60, { get: wantOld })
    expectTypeOf(positional).returns.toEqualTypeOf<Promise<unknown>>()
  })

  it('new Cache() infers Cache<false> / Cache<true> from ignoreExceptions; without it, any cache', () => {
    const make = () => new Cache({ connection: memory() })
    expectTypeOf(make).returns.toEqualTypeOf<Cache<boolean>>()
    expectTypeOf(
      () => new Cache({ connection: memory(), ignoreExceptions: true }),
    ).returns.toEqualTypeOf<Cache<true>>()
    expectTypeOf(
      () => new Cache({ connection: memory(), ignoreExceptions: false }),
    ).returns.toEqualTypeOf<Cache<false>>()
    expectTypeOf(() => new Cache<false>({ connection: memory() })).returns.toEqualTypeOf<
      Cache<false>
    >()
    const flag = Math.random() > 2
    expectTypeOf(
      () => new Cache({ connection: memory(), ignoreExceptions: flag }),
    ).returns.toEqualTypeOf<Cache<boolean>>()
    expectTypeOf(() => createCache({ location: 'memory://' })).returns.toEqualTypeOf<Cache<false>>()
    expectTypeOf<Cache>().toEqualTypeOf<Cache<boolean>>()
  })
})
