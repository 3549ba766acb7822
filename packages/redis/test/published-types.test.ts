// The published types say what the runtime and the docs do. Type-level: the `expectTypeOf` and
// `@ts-expect-error` lines below are checked by `pnpm typecheck` (the repository's options), and
// _exact-optional-sample.ts is compiled here with `exactOptionalPropertyTypes` on, as `tsc --init`
// sets it for a new project (the repository keeps it off).
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { Cache, createCache, memory } from '../src/index.ts'

const here = dirname(fileURLToPath(import.meta.url))

/** The errors of `file` compiled with the repository's options and `overrides`. */
function compileErrors(file: string, overrides: ts.CompilerOptions): string[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(here, '../tsconfig.json'), overrides, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
    },
  })
  if (parsed === undefined) throw new Error('cannot read packages/redis/tsconfig.json')
  const program = ts.createProgram([file], parsed.options)
  const source = program.getSourceFile(file)
  return [
    ...program.getSyntacticDiagnostics(source),
    ...program.getSemanticDiagnostics(source),
    // What a user's `declaration: true` reports: a type it cannot name.
    ...program.getDeclarationDiagnostics(source),
  ].map((d) => {
    const line =
      d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0
    return `:${line} TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
  })
}

describe('published types', () => {
  it('options documented to take undefined take it under exactOptionalPropertyTypes', () => {
    const errors = compileErrors(join(here, '_exact-optional-sample.ts'), {
      exactOptionalPropertyTypes: true,
    })
    expect(errors).toEqual([])
  }, 120_000)

  it('password takes null (none), as docs/configuration.md says', () => {
    const options = { location: 'memory://', password: null }
    expectTypeOf(createCache).toBeCallableWith(options)
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
