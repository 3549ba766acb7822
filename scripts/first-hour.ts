// `pnpm test:first-hour`: a new user's first hour, from the packed tarballs. For npm and for pnpm,
// in a fresh project outside the workspace that depends on @cachex/redis alone (the other
// @cachex/* tarballs stand in for the registry through `overrides`), it writes one TypeScript file
// that does what the README shows, checks that it compiles under `strict` with `module` nodenext
// and with `moduleResolution` bundler, and runs it against a real redis-server: it must print its
// last line and exit by itself within a time limit (a cache left open never exits).
// Needs `pnpm build` first. Prints "first hour: N passed, N failed".
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startRedis } from '@cachex/test-utils'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
/** @cachex/redis and what it depends on: what `npm install @cachex/redis` brings. */
const PACKAGES = ['core', 'serializers', 'compressors', 'connections', 'lock', 'redis']
/** How long the program may run: it does a few dozen round trips on loopback. */
const RUN_TIME_LIMIT = 30_000
let passed = 0
let failed = 0

function check(name: string, fn: () => void): void {
  const started = performance.now()
  try {
    fn()
    passed++
    console.log(`  ✓ ${name} (${((performance.now() - started) / 1000).toFixed(1)} s)`)
  } catch (error) {
    failed++
    const e = error as { message?: string; stdout?: Buffer; stderr?: Buffer }
    console.log(
      `  ✗ ${name}\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}${e.message}`,
    )
  }
}

function sh(
  command: string,
  args: string[],
  cwd: string,
  options: { env?: NodeJS.ProcessEnv; timeout?: number } = {},
): string {
  return execFileSync(command, args, {
    cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: options.timeout ?? 240_000,
  }).toString()
}

// What the README shows, as a user would write it in their first program. Values are checked so
// that a wrong answer fails, not only a crash.
const PROGRAM = `import {
  caches,
  configureCaches,
  createCache,
  getRedisConnection,
  KeyNotFoundError,
} from '@cachex/redis'
import { createClient } from '@redis/client'

function expect(what: string, actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(\`\${what}: got \${JSON.stringify(actual)}, expected \${JSON.stringify(expected)}\`)
  }
}

interface User {
  name: string
}

const cache = createCache({
  location: process.env.REDIS_URL,
  keyPrefix: 'app',
  timeout: 300,
  compressor: 'zlib',
})

await cache.set('user:1', { name: 'Ada' }, { timeout: 60 })
const user = await cache.get<User>('user:1')
expect('get', user?.name, 'Ada')
const theme: string = await cache.get('missing', 'light')
expect('get with a default', theme, 'light')
const report = await cache.getOrSet('report', async () => ({ total: 42 }), { timeout: 30 })
expect('getOrSet', report.total, 42)
await cache.set('hits', 0)
const hits = await cache.incr('hits')
expect('incr after set', hits, 1)
try {
  await cache.incr('no-such-counter')
  throw new Error('incr on a missing key resolved')
} catch (error) {
  if (!(error instanceof KeyNotFoundError)) throw error
}
await cache.setMany({ 'user:2': { name: 'Bob' }, 'user:3': { name: 'Cy' } })
const found: Map<string, User> = await cache.getMany<User>(['user:2', 'user:3', 'user:4'])
expect('getMany', [...found.keys()], ['user:2', 'user:3'])
await cache.deletePattern('user:*')
expect('deletePattern', await cache.keys('user:*'), [])

// The lock as the README shows it: taken for the block, released when it ends.
let ran = false
{
  await using lock = await cache.acquireLock('lock:nightly', { timeout: 10 })
  expect('lock held', await lock.owned(), true)
  ran = true
}
expect('the locked block ran', ran, true)
expect('released after the block', await cache.lock('lock:nightly').locked(), false)

await cache.close()

// Django's CACHES, as the registry.
configureCaches(
  {
    default: { location: process.env.REDIS_URL, keyPrefix: 'app' },
    sessions: { location: process.env.REDIS_URL, keyPrefix: 'sess', timeout: 3600 },
  },
  { ignoreExceptions: true, logIgnoredExceptions: true },
)
await caches.get('sessions').set('abc', { userId: 1 })
expect('registry', await caches.get('sessions').get('abc'), { userId: 1 })
const connection = await getRedisConnection('default', { client: 'default' })
expect('getRedisConnection', await connection.ping(), 'PONG')
await caches.close()

// A node-redis client of your own (docs/topologies.md), from your own @redis/client.
const client = createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' })
await client.connect()
const mine = createCache({ location: client, keyPrefix: 'mine' })
await mine.set('k', 'v')
expect('own client', await mine.get('k'), 'v')
await mine.close()
await client.close()

console.log('first hour: done')
`

/**
 * What \`tsc --init\` (TypeScript 6) writes — strict, noUncheckedIndexedAccess,
 * exactOptionalPropertyTypes, verbatimModuleSyntax — with \`module\` nodenext, or \`module\` esnext
 * and \`moduleResolution\` bundler. Changed from it: \`target\` es2022 (Node 20 has no \`await using\`
 * syntax, so it must be compiled down), the Disposable types that \`await using\` needs then, and
 * \`types: ['node']\` for \`process.env\`.
 */
function tsconfig(module: 'nodenext' | 'bundler'): string {
  const compilerOptions =
    module === 'nodenext'
      ? { module: 'nodenext', outDir: 'dist', rootDir: '.' }
      : { module: 'esnext', moduleResolution: 'bundler', noEmit: true }
  return JSON.stringify(
    {
      compilerOptions: {
        ...compilerOptions,
        target: 'es2022',
        lib: ['es2022', 'esnext.disposable'],
        types: ['node'],
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        strict: true,
        verbatimModuleSyntax: true,
        isolatedModules: true,
        noUncheckedSideEffectImports: true,
        moduleDetection: 'force',
        skipLibCheck: true,
      },
      include: ['app.ts'],
    },
    null,
    2,
  )
}

for (const pkg of PACKAGES) {
  if (!existsSync(join(root, 'packages', pkg, 'dist'))) {
    console.error(`packages/${pkg}/dist is missing: run \`pnpm build\` first`)
    process.exit(1)
  }
}

const work = mkdtempSync(join(tmpdir(), 'cachex-first-hour-'))
const packs = join(work, 'packs')
mkdirSync(packs)
const packing = performance.now()
for (const pkg of PACKAGES) {
  sh('pnpm', ['pack', '--pack-destination', packs], join(root, 'packages', pkg))
}
console.log(
  `packed ${PACKAGES.length} tarballs (${((performance.now() - packing) / 1000).toFixed(1)} s)`,
)
const tarball = (pkg: string): string => {
  const file = readdirSync(packs).find((f) => f.startsWith(`cachex-${pkg}-`) && f.endsWith('.tgz'))
  if (file === undefined) throw new Error(`no tarball for @cachex/${pkg}`)
  return join(packs, file)
}
// The registry has other packages named @cachex/*: the dependencies of @cachex/redis must come
// from these tarballs, never from there.
const overrides = Object.fromEntries(
  PACKAGES.filter((pkg) => pkg !== 'redis').map((pkg) => [
    `@cachex/${pkg}`,
    `file:${tarball(pkg)}`,
  ]),
)
const tsc = join(root, 'node_modules', '.bin', 'tsc')
const server = await startRedis()
try {
  for (const manager of ['npm', 'pnpm'] as const) {
    const project = join(work, manager)
    mkdirSync(project)
    const manifest: Record<string, unknown> = {
      name: `cachex-first-hour-${manager}`,
      private: true,
      version: '1.0.0',
      type: 'module',
    }
    if (manager === 'npm') manifest.overrides = overrides
    writeFileSync(join(project, 'package.json'), JSON.stringify(manifest, null, 2))
    if (manager === 'pnpm') {
      // pnpm reads its settings from pnpm-workspace.yaml, also in a project of one package.
      writeFileSync(
        join(project, 'pnpm-workspace.yaml'),
        `overrides:\n${Object.entries(overrides)
          .map(([name, spec]) => `  '${name}': '${spec}'`)
          .join('\n')}\n`,
      )
    }
    writeFileSync(join(project, 'app.ts'), PROGRAM)
    writeFileSync(join(project, 'tsconfig.json'), tsconfig('nodenext'))
    writeFileSync(join(project, 'tsconfig.bundler.json'), tsconfig('bundler'))
    console.log(`${manager}: a project in ${project}`)
    check(`${manager}: install @cachex/redis, @redis/client and @types/node`, () => {
      const deps = [tarball('redis'), '@redis/client@^6', '@types/node@20.19.43']
      if (manager === 'npm') sh('npm', ['install', '--no-audit', '--no-fund', ...deps], project)
      else sh('pnpm', ['add', ...deps], project)
    })
    check(`${manager}: app.ts compiles under strict, module nodenext`, () => {
      sh(tsc, ['-p', 'tsconfig.json'], project)
    })
    check(`${manager}: app.ts compiles under strict, moduleResolution bundler`, () => {
      sh(tsc, ['-p', 'tsconfig.bundler.json'], project)
    })
    check(`${manager}: app.js runs against a real Redis and exits by itself`, () => {
      let out: string
      try {
        out = sh(process.execPath, ['dist/app.js'], project, {
          env: { REDIS_URL: server.url },
          timeout: RUN_TIME_LIMIT,
        })
      } catch (error) {
        if ((error as { code?: string }).code !== 'ETIMEDOUT') throw error
        throw new Error(
          `did not exit within ${RUN_TIME_LIMIT / 1000} s: a cache or client left open?`,
        )
      }
      if (!out.includes('first hour: done')) throw new Error(`it printed:\n${out}`)
    })
  }
} finally {
  await server.stop()
  rmSync(work, { recursive: true, force: true })
}
console.log(`\nfirst hour: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
