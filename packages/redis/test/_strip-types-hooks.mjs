// Module hooks for a child process that runs the packages' TypeScript sources as tsx does, but
// compiled without esbuild's `keepNames`: tsx names functions through a helper that calls
// Object.defineProperty with an object-literal descriptor, which a polluted
// `Object.prototype.get` breaks — in tsx's code, not in the code under test. Registered by
// _strip-types.mjs (`node --import ./_strip-types.mjs`).
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

// esbuild as tsx depends on it (it is no dependency of this package's own).
const fromTsx = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'))
const esbuild = fromTsx('esbuild')

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context)
  const path = fileURLToPath(url)
  const { code } = await esbuild.transform(await readFile(path, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target: 'node20',
    sourcefile: path,
    tsconfigRaw: {
      compilerOptions: { useDefineForClassFields: true, verbatimModuleSyntax: false },
    },
  })
  return { format: 'module', source: code, shortCircuit: true }
}
