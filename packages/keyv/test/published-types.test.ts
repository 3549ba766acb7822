// The published types say what the runtime and the docs do: _exact-optional-sample.ts is compiled
// here with `exactOptionalPropertyTypes` on, as `tsc --init` sets it for a new project (the
// repository keeps it off, so `pnpm typecheck` cannot see these).
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))

/** The errors of `file` compiled with this package's options and `overrides`. */
function compileErrors(file: string, overrides: ts.CompilerOptions): string[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(here, '../tsconfig.json'), overrides, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
    },
  })
  if (parsed === undefined) throw new Error('cannot read packages/keyv/tsconfig.json')
  const program = ts.createProgram([file], parsed.options)
  const source = program.getSourceFile(file)
  return [
    ...program.getSyntacticDiagnostics(source),
    ...program.getSemanticDiagnostics(source),
    // What a user's `declaration: true` reports: a type it cannot name.
    ...program.getDeclarationDiagnostics(source),
  ].map((d) => {
    const at =
      d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined
    return `:${(at?.line ?? -1) + 1} TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
  })
}

describe('published types', () => {
  it('createKeyv takes namespace: undefined under exactOptionalPropertyTypes', () => {
    const errors = compileErrors(join(here, '_exact-optional-sample.ts'), {
      exactOptionalPropertyTypes: true,
    })
    expect(errors).toEqual([])
  }, 120_000)
})
