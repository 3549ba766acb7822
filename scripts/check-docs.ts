// `pnpm docs:check`: type-checks every ```ts code sample in README.md, docs/*.md and the
// packages' READMEs. Each sample becomes one module under .tmp/doc-samples/ and the TypeScript
// compiler checks them all against the workspace sources (the `@cachex/source` condition).
// A sample fenced as ```ts nocheck is skipped (for fragments that cannot stand alone).
import { execFileSync } from 'node:child_process'
import { type Dirent, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, '.tmp', 'doc-samples')

function markdownFiles(): string[] {
  const files = [join(root, 'README.md')]
  const walk = (dir: string, depth: number) => {
    let entries: Dirent[] = []
    try {
      entries = readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) {
        if (depth > 0 && !['node_modules', 'dist', '.next', '.turbo'].includes(entry.name)) {
          walk(path, depth - 1)
        }
      } else if (entry.name.endsWith('.md') && !entry.name.startsWith('CHANGELOG')) {
        files.push(path)
      }
    }
  }
  walk(join(root, 'docs'), 2)
  walk(join(root, 'packages'), 1)
  walk(join(root, 'examples'), 1)
  return files
}

rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const samples: string[] = []
for (const file of markdownFiles()) {
  const text = readFileSync(file, 'utf8')
  const fence = /^```ts( nocheck)?\n([\s\S]*?)^```/gm
  let n = 0
  for (const match of text.matchAll(fence)) {
    n++
    if (match[1]) continue
    const name = `${relative(root, file).replace(/[^a-zA-Z0-9]+/g, '_')}_${n}.ts`
    const line = text.slice(0, match.index).split('\n').length + 1
    // `export {}` makes each sample a module: top-level await works, names do not clash.
    writeFileSync(join(out, name), `// ${relative(root, file)}:${line}\n${match[2]}\nexport {}\n`)
    samples.push(name)
  }
}
writeFileSync(
  join(out, 'tsconfig.json'),
  JSON.stringify(
    {
      extends: '../../tsconfig.base.json',
      compilerOptions: { noUnusedLocals: false, lib: ['ES2022', 'ESNext.Disposable', 'DOM'] },
      include: ['*.ts'],
    },
    null,
    2,
  ),
)
console.log(`type-checking ${samples.length} code samples from the docs`)
try {
  execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(out, 'tsconfig.json')], {
    stdio: 'inherit',
    cwd: root,
  })
} catch {
  console.error(
    'docs: some code samples do not type-check (paths above are under .tmp/doc-samples)',
  )
  process.exit(1)
}
console.log('docs: every code sample type-checks')
