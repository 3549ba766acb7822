// `pnpm check:metadata` (run by `pnpm lint`): what a new built-in codec must come with, checked
// from its file. Every module of @cachex/compressors and @cachex/serializers with a public factory
// (`export function fooCompressor(` / `export { barSerializer } from …`) must have
//   - its subpath export in package.json (`./foo`, the exact shape of the others) and typesVersions,
//   - its tsdown entry (`src/foo.ts`),
//   - a line in the package's root index and in its conformance test (`fooCompressor(`),
//   - its line in the umbrella's registry (packages/redis/src/_tables.ts);
// and no subpath export may point at a module that is gone. `--write` regenerates the package.json
// exports and typesVersions and the tsdown entries from the modules.
//
// It also checks the public surface: no `export *` in any package's src/index.ts, and the umbrella
// (packages/redis/src/index.ts) re-exports every name of the roots of core, compressors,
// connections, lock and serializers.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const ROOT = new URL('..', import.meta.url).pathname
const CODEC_PACKAGES = ['compressors', 'serializers'] as const
const UMBRELLA_SOURCES = ['core', 'compressors', 'connections', 'lock', 'serializers'] as const
/** Subpaths that are not codecs. */
const OTHER_SUBPATHS = new Set(['.', './package.json', './internal', './testing'])
const FACTORY =
  /export\s+(?:function\s+(\w+(?:Compressor|Serializer))\s*[<(]|\{[^}]*?\b(\w+(?:Compressor|Serializer))\b[^}]*\}\s*from)/

const write = process.argv.includes('--write')
const problems: string[] = []

const read = (...path: string[]) => readFileSync(join(ROOT, ...path), 'utf8')

/** The export entry every codec subpath has. */
function subpathExport(stem: string) {
  return {
    '@cachex/source': `./src/${stem}.ts`,
    import: { types: `./dist/${stem}.d.mts`, default: `./dist/${stem}.mjs` },
    require: { types: `./dist/${stem}.d.cts`, default: `./dist/${stem}.cjs` },
  }
}

/** The public modules of a package's src that have a factory: stem → factory name. */
function codecModules(pkg: string): Map<string, string> {
  const modules = new Map<string, string>()
  const files = readdirSync(join(ROOT, 'packages', pkg, 'src')).sort()
  for (const file of files) {
    if (!file.endsWith('.ts') || file.startsWith('_') || file === 'index.ts') continue
    const match = FACTORY.exec(read('packages', pkg, 'src', file))
    const factory = match?.[1] ?? match?.[2]
    if (factory !== undefined) modules.set(file.slice(0, -3), factory)
  }
  return modules
}

function checkCodecPackage(pkg: string, tables: string): void {
  const where = `packages/${pkg}`
  const modules = codecModules(pkg)
  const manifest = JSON.parse(read('packages', pkg, 'package.json'))
  const exports: Record<string, unknown> = manifest.exports
  const typesVersions: Record<string, string[]> = manifest.typesVersions?.['*'] ?? {}
  const tsdown = read('packages', pkg, 'tsdown.config.ts')
  const index = read('packages', pkg, 'src', 'index.ts')
  const conformance = read('packages', pkg, 'test', 'conformance.test.ts')

  if (write) {
    const next: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(exports)) {
      if (key === './package.json') continue
      if (OTHER_SUBPATHS.has(key)) next[key] = value
    }
    const types: Record<string, string[]> = {}
    for (const [key, value] of Object.entries(typesVersions)) {
      if (OTHER_SUBPATHS.has(`./${key}`)) types[key] = value
    }
    // The modules already exported keep their place; new ones go after them.
    const known = Object.keys(exports).map((key) => key.slice(2))
    const stems = [
      ...known.filter((stem) => modules.has(stem)),
      ...[...modules.keys()].filter((stem) => !known.includes(stem)),
    ]
    for (const stem of stems) {
      next[`./${stem}`] = subpathExport(stem)
      types[stem] = [`./dist/${stem}.d.cts`]
    }
    next['./package.json'] = './package.json'
    manifest.exports = next
    manifest.typesVersions = { '*': types }
    writeFileSync(join(ROOT, where, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
    const entries = ['src/index.ts', ...stems.map((stem) => `src/${stem}.ts`)]
    const list = entries.map((entry) => `  '${entry}',`).join('\n')
    writeFileSync(
      join(ROOT, where, 'tsdown.config.ts'),
      `import { packageBuild } from '../../tsdown.shared.ts'\n\nexport default packageBuild([\n${list}\n])\n`,
    )
    return
  }

  for (const [stem, factory] of modules) {
    const expected = JSON.stringify(subpathExport(stem))
    if (JSON.stringify(exports[`./${stem}`]) !== expected) {
      problems.push(`${where}/package.json: exports["./${stem}"] must be ${expected}`)
    }
    if (JSON.stringify(typesVersions[stem]) !== JSON.stringify([`./dist/${stem}.d.cts`])) {
      problems.push(
        `${where}/package.json: typesVersions["*"]["${stem}"] must be ["./dist/${stem}.d.cts"]`,
      )
    }
    if (!tsdown.includes(`'src/${stem}.ts'`)) {
      problems.push(`${where}/tsdown.config.ts: add the entry 'src/${stem}.ts'`)
    }
    if (!new RegExp(`\\b${factory}\\b`).test(index)) {
      problems.push(`${where}/src/index.ts: export ${factory} (from './${stem}.ts') by name`)
    }
    if (!conformance.includes(`${factory}(`)) {
      problems.push(`${where}/test/conformance.test.ts: run the conformance suite on ${factory}()`)
    }
    if (!tables.includes(`${factory}(`)) {
      problems.push(`packages/redis/src/_tables.ts: add ${factory}() to its table, by name`)
    }
  }
  for (const key of Object.keys(exports)) {
    if (!OTHER_SUBPATHS.has(key) && !modules.has(key.slice(2))) {
      problems.push(
        `${where}/package.json: exports["${key}"] names no module of src with a factory`,
      )
    }
  }
}

/** The names a src/index.ts exports (values and types). */
function exportedNames(source: string): Set<string> {
  const names = new Set<string>()
  for (const match of source.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of (match[1] as string).split(',')) {
      const name = part
        .replace(/^\s*type\s+/, '')
        .split(/\s+as\s+/)
        .pop()
        ?.trim()
      if (name) names.add(name)
    }
  }
  return names
}

function checkSurface(): void {
  for (const pkg of readdirSync(join(ROOT, 'packages'))) {
    let index: string
    try {
      index = read('packages', pkg, 'src', 'index.ts')
    } catch {
      continue
    }
    if (/export\s+\*/.test(index)) {
      problems.push(`packages/${pkg}/src/index.ts: list the exports by name (no export *)`)
    }
  }
  const umbrella = exportedNames(read('packages', 'redis', 'src', 'index.ts'))
  for (const pkg of UMBRELLA_SOURCES) {
    for (const name of exportedNames(read('packages', pkg, 'src', 'index.ts'))) {
      if (!umbrella.has(name)) {
        problems.push(`packages/redis/src/index.ts: re-export ${name} from @cachex/${pkg}`)
      }
    }
  }
}

const tables = read('packages', 'redis', 'src', '_tables.ts')
for (const pkg of CODEC_PACKAGES) checkCodecPackage(pkg, tables)
if (write) {
  console.log('package.json exports and tsdown entries written; run `pnpm lint:fix`')
} else {
  checkSurface()
  if (problems.length > 0) {
    console.error(`package metadata: ${problems.length} problem(s)`)
    for (const problem of problems) console.error(`  - ${problem}`)
    console.error('(`node --import tsx scripts/check-package-metadata.ts --write` fixes exports)')
    process.exit(1)
  }
  console.log('package metadata: every codec has its exports, entries, tests and registry line')
}
