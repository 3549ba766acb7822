// `pnpm docs:check`: type-checks every ```ts code sample in README.md, docs/**/*.md and the
// packages' and examples' READMEs (with `exactOptionalPropertyTypes`, as `tsc --init` sets it),
// then runs every runnable one against real Redis servers it starts, each sample in its own
// process with its own servers, with a time limit. A sample fails
// when it does not type-check, throws or rejects, writes to stderr, or does not exit in time (a
// cache or client left open: the sample forgot `close()`).
//
// The fence says what to do with a sample (the words after `ts` are not shown on GitHub or npm):
//   ```ts                        type-check, then run against a fresh redis-server
//   ```ts nocheck                neither: a fragment that cannot stand alone
//   ```ts norun: <reason>        type-check only; the reason is printed (it needs what CI lacks)
//   ```ts run=<setup> [k=v …]    run against `cluster`, `sentinel`, `replicas` or `tls` servers
//   ```ts stderr                 the sample shows a warning: it must write to stderr
// Parameters of `run=`: `password=` (data nodes), `sentinel-password=` (sentinels), `user=name:pw`
// (an ACL user), `certs=<dir>` (tls: the sample reads ca.crt, client.crt and client.key from that
// directory; the check writes its test CA's files to a temporary one and points the sample there).
//
// Samples are written as a user would write them: `redis://127.0.0.1:6379/0`, no location at all,
// `process.env.REDIS_URL`, cluster seeds like `redis://10.0.0.1:7000`. The check sets REDIS_URL to
// the sample's server and preloads scripts/_doc-sample-routes.ts, which sends every connection to
// an address the sample names (and to 127.0.0.1:6379, the default) to a server started for it, so
// no sample ever touches a Redis already running on this machine.
//
// Each sample is transpiled to JavaScript and run with plain `node` against the built packages
// (dist/, what users install) when every package was built after its last source change (CI builds
// first); otherwise against the sources through tsx, which costs about twice the CPU per sample.
//
// `pnpm docs:check --no-run` only type-checks; `pnpm docs:check <text>…` runs only the samples
// whose `file:line` contains one of the texts (every sample is still type-checked).
import { spawn, spawnSync } from 'node:child_process'
import {
  type Dirent,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import {
  startCluster,
  startRedis,
  startReplicaSet,
  startSentinels,
  startTlsRedis,
} from '@cachex/test-utils'
import ts from 'typescript'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, '.tmp', 'doc-samples')
/** scripts/_doc-sample-routes.ts as JavaScript, preloaded into every sample. */
const routesModule = join(out, 'routes.mjs')
/** The packages a sample may import, which must be built to run the samples against dist/. */
const PACKAGES = [
  'core',
  'serializers',
  'compressors',
  'connections',
  'lock',
  'redis',
  'keyv',
  'admin',
]
/** How long one sample may run, in ms: long enough on a loaded 2-core machine, short enough for CI. */
const SAMPLE_TIME_LIMIT = 20_000
/** The setups a sample can ask for, and the `k=v` parameters each takes. */
const SETUPS = {
  standalone: ['user'],
  replicas: ['password'],
  cluster: ['password'],
  sentinel: ['password', 'sentinel-password'],
  tls: ['user', 'certs'],
} as const
type Setup = keyof typeof SETUPS

interface Sample {
  /** `docs/getting-started.md:31`: where the code starts. */
  where: string
  /** The module's file name under .tmp/doc-samples. */
  name: string
  code: string
  /** Why it is not run, for `norun`. */
  norun?: string
  setup: Setup
  params: Record<string, string>
  /** It shows a warning: stderr output is expected (and required). */
  stderr: boolean
}

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

/** The samples of every Markdown file; throws on a fence it does not understand. */
function collect(): { samples: Sample[]; skipped: number } {
  const samples: Sample[] = []
  let skipped = 0
  for (const file of markdownFiles()) {
    const text = readFileSync(file, 'utf8')
    let n = 0
    for (const match of text.matchAll(/^```ts([^\n]*)\n([\s\S]*?)^```/gm)) {
      n++
      const info = (match[1] ?? '').trim()
      const line = text.slice(0, match.index).split('\n').length + 1
      const where = `${relative(root, file)}:${line}`
      if (info === 'nocheck') {
        skipped++
        continue
      }
      const sample: Sample = {
        where,
        name: `${relative(root, file).replace(/[^a-zA-Z0-9]+/g, '_')}_${n}.ts`,
        code: match[2] ?? '',
        setup: 'standalone',
        params: {},
        stderr: false,
      }
      if (info.startsWith('norun')) {
        const reason = /^norun:\s*(\S.*)$/.exec(info)?.[1]
        if (reason === undefined) throw new Error(`${where}: write why as \`\`\`ts norun: <reason>`)
        sample.norun = reason
      } else if (info !== '') {
        for (const word of info.split(/\s+/)) {
          const [key = '', value = ''] = word.split(/=(.*)/)
          if (word === 'stderr') {
            sample.stderr = true
          } else if (key === 'run' && Object.hasOwn(SETUPS, value)) {
            sample.setup = value as Setup
          } else if (value !== '' && key !== 'run') {
            sample.params[key] = value
          } else {
            throw new Error(`${where}: unknown fence word '${word}' (see scripts/check-docs.ts)`)
          }
        }
        const takes: readonly string[] = SETUPS[sample.setup]
        for (const key of Object.keys(sample.params)) {
          if (!takes.includes(key)) {
            throw new Error(
              `${where}: run=${sample.setup} takes no '${key}' (see scripts/check-docs.ts)`,
            )
          }
        }
      }
      samples.push(sample)
    }
  }
  return { samples, skipped }
}

/**
 * Relative links (`[text](../path)`, `[text](dir#anchor)`) that point at no file or folder: a
 * renamed folder leaves them behind.
 */
function brokenLinks(): string[] {
  const broken: string[] = []
  for (const file of markdownFiles()) {
    // Code spans and fences hold no links (and may hold text that looks like one).
    const text = readFileSync(file, 'utf8')
      .replace(/^```[\s\S]*?^```/gm, '')
      .replace(/`[^`\n]*`/g, '')
    for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = (match[1] ?? '').split('#')[0] ?? ''
      if (target === '' || /^[a-z]+:/i.test(target)) continue
      try {
        statSync(join(dirname(file), decodeURIComponent(target)))
      } catch {
        broken.push(`${relative(root, file)}: ${match[1]}`)
      }
    }
  }
  return broken
}

/** The addresses a sample names, in order: `scheme://[auth@]host:port` and `['host', port]`. */
function addressesIn(code: string): string[] {
  const found: Array<[number, string]> = []
  for (const m of code.matchAll(
    /\b(?:redis|valkey)s?:\/\/(?:[^@\s'"/]*@)?([A-Za-z0-9.-]+):(\d+)/g,
  )) {
    found.push([m.index, `${m[1]}:${m[2]}`])
  }
  for (const m of code.matchAll(/\[\s*'([A-Za-z0-9.-]+)'\s*,\s*(\d+)\s*\]/g)) {
    found.push([m.index, `${m[1]}:${m[2]}`])
  }
  return [...new Set(found.sort((a, b) => a[0] - b[0]).map(([, address]) => address))]
}

/** The servers a sample runs against, the environment it gets, and how to stop them. */
interface Environment {
  env: Record<string, string>
  /** The sample's code, with the paths the setup provides put in. */
  code: string
  stop(): Promise<void>
}

const DEFAULT_ADDRESSES = ['127.0.0.1:6379', 'localhost:6379']

function aclArgs(params: Record<string, string>): string[] {
  if (params.user === undefined) return []
  const [name, password] = params.user.split(/:(.*)/)
  return ['--user', `${name}`, 'on', `>${password}`, '~*', '&*', '+@all']
}

function loopback(url: string): string {
  const { port } = new URL(url)
  return `127.0.0.1:${port}`
}

async function prepare(sample: Sample): Promise<Environment> {
  const named = addressesIn(sample.code)
  const routes: Record<string, string> = {}
  const all = (to: string) => {
    for (const address of [...DEFAULT_ADDRESSES, ...named]) routes[address] = to
  }
  const env = (url: string) => ({ REDIS_URL: url, CACHEX_DOC_ROUTES: JSON.stringify(routes) })
  switch (sample.setup) {
    case 'standalone': {
      const server = await startRedis({ args: aclArgs(sample.params) })
      all(loopback(server.url))
      return { env: env(`${server.url}/0`), code: sample.code, stop: () => server.stop() }
    }
    case 'replicas': {
      const set = await startReplicaSet({
        replicas: Math.max(1, named.length - 1),
        ...(sample.params.password === undefined ? {} : { password: sample.params.password }),
      })
      // The first address the sample names is the primary, the next ones its replicas.
      all(loopback(set.urls[0] ?? ''))
      named.forEach((address, i) => {
        routes[address] = loopback(set.urls[i] ?? set.urls[0] ?? '')
      })
      return { env: env(`${set.urls[0]}/0`), code: sample.code, stop: () => set.stop() }
    }
    case 'cluster': {
      const cluster = await startCluster({
        replicasPerPrimary: 0,
        ...(sample.params.password === undefined ? {} : { password: sample.params.password }),
      })
      // Seeds: only the first connection goes there; the nodes then announce their own addresses.
      all(loopback(cluster.seeds[0] ?? ''))
      named.forEach((address, i) => {
        routes[address] = loopback(cluster.seeds[i % cluster.seeds.length] ?? '')
      })
      return { env: env(cluster.seeds[0] ?? ''), code: sample.code, stop: () => cluster.stop() }
    }
    case 'sentinel': {
      const sentinels = named.length === 0 ? 3 : named.length
      const deployment = await startSentinels({
        sentinels,
        ...(sample.params.password === undefined ? {} : { password: sample.params.password }),
        ...(sample.params['sentinel-password'] === undefined
          ? {}
          : { sentinelPassword: sample.params['sentinel-password'] }),
      })
      all(`127.0.0.1:${deployment.primary.port}`)
      named.forEach((address, i) => {
        const sentinel = deployment.sentinels[i] ?? deployment.sentinels[0]
        if (sentinel !== undefined) routes[address] = `127.0.0.1:${sentinel.port}`
      })
      return { env: env(deployment.location), code: sample.code, stop: () => deployment.stop() }
    }
    case 'tls': {
      const server = await startTlsRedis({ args: aclArgs(sample.params) })
      all(`127.0.0.1:${server.port}`)
      let code = sample.code
      let dir: string | undefined
      if (sample.params.certs !== undefined) {
        dir = mkdtempSync(join(tmpdir(), 'cachex-doc-certs-'))
        writeFileSync(join(dir, 'ca.crt'), server.ca)
        writeFileSync(join(dir, 'client.crt'), server.cert)
        writeFileSync(join(dir, 'client.key'), server.key)
        code = code.replaceAll(`${sample.params.certs.replace(/\/$/, '')}/`, `${dir}/`)
      }
      return {
        env: env(server.url),
        code,
        stop: async () => {
          await server.stop()
          if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
        },
      }
    }
  }
}

interface Outcome {
  sample: Sample
  ms: number
  failure?: string
}

function tail(text: string, lines = 25): string {
  const all = text.trimEnd().split('\n')
  return all.slice(-lines).join('\n')
}

/** The newest (or oldest) modification time of the files under `dir`, 0 when it is missing. */
function mtime(dir: string, pick: (a: number, b: number) => number): number {
  let found: number | undefined
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name)
      if (entry.isDirectory()) walk(child)
      else {
        const time = statSync(child).mtimeMs
        found = found === undefined ? time : pick(found, time)
      }
    }
  }
  try {
    walk(dir)
  } catch {
    return 0
  }
  return found ?? 0
}

/** Whether every package's dist/ was written after the last change to its src/. */
function builtAndCurrent(): boolean {
  return PACKAGES.every((pkg) => {
    const dir = join(root, 'packages', pkg)
    const built = mtime(join(dir, 'dist'), Math.min)
    return built > 0 && built >= mtime(join(dir, 'src'), Math.max)
  })
}

/**
 * TypeScript to JavaScript, types dropped (they were checked already), with a source map so that
 * a stack trace points into `fileName` (the type-checked copy under .tmp/doc-samples).
 */
function transpile(code: string, fileName: string): string {
  return ts.transpileModule(code, {
    fileName,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      verbatimModuleSyntax: true,
      inlineSourceMap: true,
      inlineSources: true,
    },
  }).outputText
}

/** How a sample's JavaScript is started: `node`, plus tsx and the source condition without a build. */
let nodeArgs: string[] = []

async function run(sample: Sample): Promise<Outcome> {
  const started = performance.now()
  let environment: Environment
  try {
    environment = await prepare(sample)
  } catch (error) {
    return { sample, ms: 0, failure: `could not start its servers: ${String(error)}` }
  }
  try {
    // Next to the type-checked copy, so that the source map's path is that file.
    const file = join(out, sample.name.replace(/\.ts$/, '.mjs'))
    writeFileSync(
      file,
      transpile(`// ${sample.where}\n${environment.code}\nexport {}\n`, join(out, sample.name)),
    )
    const child = spawn(
      process.execPath,
      [...nodeArgs, '--enable-source-maps', '--import', pathToFileURL(routesModule).href, file],
      {
        cwd: root,
        env: { ...process.env, ...environment.env, NODE_OPTIONS: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, SAMPLE_TIME_LIMIT)
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
    clearTimeout(timer)
    const ms = performance.now() - started
    const output = () =>
      `${stdout === '' ? '' : `  stdout:\n${tail(stdout)}\n`}${stderr === '' ? '' : `  stderr:\n${tail(stderr)}\n`}`
    if (timedOut) {
      return {
        sample,
        ms,
        failure: `did not exit within ${SAMPLE_TIME_LIMIT / 1000} s: a cache or client is left open (a missing close()?)\n${output()}`,
      }
    }
    if (code !== 0) return { sample, ms, failure: `exited with ${code}\n${output()}` }
    if (stderr !== '' && !sample.stderr) {
      return { sample, ms, failure: `wrote to stderr\n${output()}` }
    }
    if (stderr === '' && sample.stderr) {
      return {
        sample,
        ms,
        failure: `its fence says \`stderr\` but it wrote nothing there\n${output()}`,
      }
    }
    return { sample, ms }
  } finally {
    await environment.stop()
  }
}

async function runAll(samples: Sample[], workers: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = []
  // Heavy setups first, so that they do not end up alone at the end.
  const queue = [...samples].sort(
    (a, b) => Number(b.setup !== 'standalone') - Number(a.setup !== 'standalone'),
  )
  const worker = async () => {
    for (let sample = queue.shift(); sample !== undefined; sample = queue.shift()) {
      const outcome = await run(sample)
      outcomes.push(outcome)
      const seconds = (outcome.ms / 1000).toFixed(1)
      console.log(`  ${outcome.failure === undefined ? '✓' : '✗'} ${sample.where} (${seconds} s)`)
    }
  }
  await Promise.all(Array.from({ length: workers }, worker))
  return outcomes
}

const args = process.argv.slice(2)
const typeCheckOnly = args.includes('--no-run')
const only = args.filter((a) => !a.startsWith('--'))

let collected: ReturnType<typeof collect>
try {
  collected = collect()
} catch (error) {
  console.error(`docs: ${(error as Error).message}`)
  process.exit(1)
}
const { samples, skipped } = collected
const broken = brokenLinks()
if (broken.length > 0) {
  console.error(`docs: links to nothing:\n${broken.map((link) => `  ${link}`).join('\n')}`)
  process.exit(1)
}

rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
for (const sample of samples) {
  // `export {}` makes each sample a module: top-level await works, names do not clash.
  writeFileSync(join(out, sample.name), `// ${sample.where}\n${sample.code}\nexport {}\n`)
}
writeFileSync(
  join(out, 'tsconfig.json'),
  JSON.stringify(
    {
      extends: '../../tsconfig.base.json',
      compilerOptions: {
        noUnusedLocals: false,
        lib: ['ES2022', 'ESNext.Disposable', 'DOM'],
        // What `tsc --init` turns on, so users' projects have it (the repository's base keeps it
        // off): a sample that passes `undefined` where an option's type says it cannot fails here
        // as it would for them.
        exactOptionalPropertyTypes: true,
      },
      include: ['*.ts'],
    },
    null,
    2,
  ),
)
console.log(`type-checking ${samples.length} code samples from the docs`)
{
  const tsc = spawnSync(
    join(root, 'node_modules', '.bin', 'tsc'),
    ['-p', join(out, 'tsconfig.json'), '--pretty', 'false'],
    { cwd: root, encoding: 'utf8' },
  )
  // Each error is a line (`file(line,col): error TS…`) with its details indented below it. Those
  // of the packages' sources, which the samples import through `@cachex/source` and so compiled
  // with the samples' options, are left out: the packages are built with
  // `exactOptionalPropertyTypes` off, and users compile their .d.ts, which `pnpm test:pack` checks.
  const errors = `${tsc.stdout}${tsc.stderr}`
    .split(/\n(?=\S)/)
    .filter((error) => error.trim() !== '' && !/^(packages|node_modules)\//.test(error))
  if (tsc.error !== undefined || (tsc.status !== 0 && errors.length > 0)) {
    console.error(errors.join('\n') || tsc.error)
    console.error(
      'docs: some code samples do not type-check (paths above are under .tmp/doc-samples)',
    )
    process.exit(1)
  }
}
console.log('docs: every code sample type-checks')
if (typeCheckOnly) process.exit(0)

const runnable = samples.filter(
  (s) =>
    s.norun === undefined && (only.length === 0 || only.some((text) => s.where.includes(text))),
)
const notRun = samples.filter((s) => s.norun !== undefined)
if (runnable.length === 0 && only.length > 0) {
  console.error(`docs: no runnable sample's file:line contains ${only.join(' or ')}`)
  process.exit(1)
}
const workers = Math.min(4, Math.max(2, availableParallelism()))
const started = performance.now()
const againstDist = builtAndCurrent()
nodeArgs = againstDist ? [] : ['--conditions=@cachex/source', '--import', 'tsx']
writeFileSync(
  routesModule,
  transpile(
    readFileSync(join(root, 'scripts', '_doc-sample-routes.ts'), 'utf8'),
    join(root, 'scripts', '_doc-sample-routes.ts'),
  ),
)
console.log(
  `running ${runnable.length} code samples, ${workers} at a time, against ${againstDist ? 'the built packages (dist/)' : 'the sources (a package is not built, or changed since its build)'}`,
)
const outcomes = await runAll(runnable, workers)
const failures = outcomes.filter((o) => o.failure !== undefined)
for (const { sample, failure } of failures) console.log(`\n✗ ${sample.where}: ${failure}`)
console.log(
  `\ndocs: ${samples.length} type-checked, ${outcomes.length - failures.length} ran, ${failures.length} failed, ${notRun.length} marked not runnable, ${skipped} nocheck (${((performance.now() - started) / 1000).toFixed(1)} s running)`,
)
for (const sample of notRun) console.log(`  not run: ${sample.where}: ${sample.norun}`)
process.exit(failures.length === 0 ? 0 : 1)
