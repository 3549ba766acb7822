// The type errors of a file as a user's compiler reports them: the published-types tests compile
// samples with options the repository keeps off (`exactOptionalPropertyTypes`). A subpath of its
// own (`@cachex/test-utils/type-errors`): TypeScript is loaded only by the tests that ask for it.
import ts from 'typescript'

/**
 * The errors of `file` compiled with the options of the tsconfig at `tsconfig` and `overrides`:
 * syntactic, semantic and declaration ones (what a user's `declaration: true` reports: a type it
 * cannot name), each as `:<line> TS<code> <message>`.
 */
export function typeErrors(
  file: string,
  tsconfig: string,
  overrides: ts.CompilerOptions,
): string[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(tsconfig, overrides, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
    },
  })
  if (parsed === undefined) throw new Error(`cannot read ${tsconfig}`)
  const program = ts.createProgram([file], parsed.options)
  const source = program.getSourceFile(file)
  return [
    ...program.getSyntacticDiagnostics(source),
    ...program.getSemanticDiagnostics(source),
    ...program.getDeclarationDiagnostics(source),
  ].map((d) => {
    const line =
      d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0
    return `:${line} TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
  })
}
