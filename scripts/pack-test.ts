// `pnpm test:pack`: packs every published package as a user would get it (`pnpm pack`, which
// turns `workspace:*` into versions), installs the tarballs with npm into a fresh project outside
// the workspace, and checks there that:
//   - installing @cachex/redis pulls no optional native codec (msgpackr, lz4-napi, zstd, lzma);
//   - `import` (ESM) and `require` (CJS) of @cachex/redis work against a real redis-server;
//   - the types resolve under `moduleResolution` node16, bundler and node10;
//   - an optional codec that is not installed fails with an error naming the package;
//   - @cachex/admin serves its web app and API from the tarball (ESM and CJS);
//   - @cachex/redis/otel needs @opentelemetry/api, and with it reports to the SDK (ESM and CJS),
//     its histograms also through createMetricProducer().
// Needs `pnpm build` first. Prints "pack: N passed, N failed".
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startRedis } from '@cachex/test-utils'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
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
const packs = join(root, '.tmp', 'packs')
let passed = 0
let failed = 0

function check(name: string, fn: () => void): void {
  try {
    fn()
    passed++
    console.log(`  ✓ ${name}`)
  } catch (error) {
    failed++
    const e = error as { message?: string; stdout?: Buffer; stderr?: Buffer }
    console.log(
      `  ✗ ${name}\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}${e.message}`,
    )
  }
}

function sh(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 240_000,
  }).toString()
}

for (const pkg of PACKAGES) {
  if (!existsSync(join(root, 'packages', pkg, 'dist'))) {
    console.error(`packages/${pkg}/dist is missing: run \`pnpm build\` first`)
    process.exit(1)
  }
}

rmSync(packs, { recursive: true, force: true })
mkdirSync(packs, { recursive: true })
console.log('packing')
for (const pkg of PACKAGES) {
  sh('pnpm', ['pack', '--pack-destination', packs], join(root, 'packages', pkg))
}
const tarballs = readdirSync(packs)
  .filter((f) => f.endsWith('.tgz'))
  .map((f) => join(packs, f))
console.log(`  ${tarballs.length} tarballs`)

const project = mkdtempSync(join(tmpdir(), 'cachex-pack-'))
const server = await startRedis()
try {
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'cachex-pack-test', private: true, version: '1.0.0' }, null, 2),
  )
  console.log(`installing into ${project}`)
  const redisTarball = tarballs.filter((t) => !t.includes('keyv'))
  sh('npm', ['install', '--no-audit', '--no-fund', ...redisTarball], project)

  const installed = (name: string) => existsSync(join(project, 'node_modules', name))
  check('@cachex/redis alone pulls no optional native codec', () => {
    for (const name of [
      'msgpackr',
      'lz4-napi',
      '@toondepauw/node-zstd',
      'lzma-native',
      'zstd-napi',
    ]) {
      if (installed(name)) throw new Error(`${name} was installed`)
    }
    if (!installed('@redis/client')) throw new Error('@redis/client is missing')
  })

  writeFileSync(
    join(project, 'esm.mjs'),
    `import { createCache, Cache } from '@cachex/redis'
const cache = createCache({ location: process.env.URL, keyPrefix: 'esm', compressor: 'zlib' })
if (!(cache instanceof Cache)) throw new Error('not a Cache')
await cache.set('k', { hello: 'esm', long: 'x'.repeat(100) })
const v = await cache.get('k')
if (v.hello !== 'esm') throw new Error('read back ' + JSON.stringify(v))
await cache.set('n', 41)
if ((await cache.incr('n')) !== 42) throw new Error('incr')
await cache.lock('l', { timeout: 5 }).withLock(async () => {})
await cache.close()
console.log('esm ok')
`,
  )
  writeFileSync(
    join(project, 'cjs.cjs'),
    `const { createCache, zlibCompressor, KeyNotFoundError } = require('@cachex/redis')
;(async () => {
  const cache = createCache({ location: process.env.URL, keyPrefix: 'cjs', compressor: zlibCompressor() })
  await cache.set('k', [1, 2, 3])
  const v = await cache.get('k')
  if (JSON.stringify(v) !== '[1,2,3]') throw new Error('read back ' + JSON.stringify(v))
  await cache.incr('missing').then(() => { throw new Error('incr on a missing key resolved') }, (e) => {
    if (!(e instanceof KeyNotFoundError)) throw e
  })
  await cache.close()
  console.log('cjs ok')
})().catch((e) => { console.error(e); process.exit(1) })
`,
  )
  writeFileSync(
    join(project, 'missing-peer.mjs'),
    `import { createCache } from '@cachex/redis'
try {
  createCache({ serializer: 'msgpack' })
  throw new Error('createCache with msgpack but no msgpackr did not throw')
} catch (error) {
  if (!/npm install msgpackr/.test(error.message)) throw error
}
console.log('missing peer ok')
`,
  )
  check('import (ESM) works against a real Redis', () => {
    sh('node', ['esm.mjs'], project, { URL: server.url })
  })
  check('require (CJS) works against a real Redis', () => {
    sh('node', ['cjs.cjs'], project, { URL: server.url })
  })
  check('a missing optional codec names the package to install', () => {
    sh('node', ['missing-peer.mjs'], project)
  })

  // The admin's web app is built into the package: its page and script come from the tarball.
  const adminCheck = (load: string) => `${load}
const { createServer } = require('node:http')
;(async () => {
  const cache = createCache({ location: process.env.URL, keyPrefix: 'admin' })
  await cache.set('k', { hello: 'admin' })
  const token = 'pack-test-token-0123456789'
  const handler = createAdminHandler({ caches: { default: cache }, auth: { token } })
  const server = createServer(handler)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = 'http://127.0.0.1:' + server.address().port
  const auth = { headers: { Authorization: 'Bearer ' + token } }
  const refused = await fetch(base + '/api/caches')
  if (refused.status !== 401) throw new Error('api/caches without a token: ' + refused.status)
  const page = await fetch(base + '/', auth)
  const html = await page.text()
  if (page.status !== 200 || !html.includes('assets/app.js')) throw new Error('page: ' + page.status + ' ' + html.slice(0, 200))
  const app = await fetch(base + '/assets/app.js', auth)
  const js = await app.text()
  if (app.status !== 200 || js.length < 1000 || !app.headers.get('etag')) throw new Error('app.js: ' + app.status + ' ' + js.length)
  if (!page.headers.get('content-security-policy').includes("default-src 'self'")) throw new Error('no CSP')
  const key = await (await fetch(base + '/api/caches/default/key?key=k', auth)).json()
  if (key.string.tree.entries[0][1].value !== 'admin') throw new Error('key: ' + JSON.stringify(key))
  handler.close()
  server.close()
  await cache.close()
  console.log('admin ok')
})().catch((e) => { console.error(e); process.exit(1) })
`
  writeFileSync(
    join(project, 'admin.cjs'),
    adminCheck(
      "const { createAdminHandler } = require('@cachex/admin')\nconst { createCache } = require('@cachex/redis')",
    ),
  )
  writeFileSync(
    join(project, 'admin.mjs'),
    adminCheck(
      "import { createRequire } from 'node:module'\nimport { createAdminHandler } from '@cachex/admin'\nimport { createCache } from '@cachex/redis'\nconst require = createRequire(import.meta.url)",
    ),
  )
  check('@cachex/admin serves its page and API from the tarball (CJS)', () => {
    sh('node', ['admin.cjs'], project, { URL: server.url })
  })
  check('@cachex/admin serves its page and API from the tarball (ESM)', () => {
    sh('node', ['admin.mjs'], project, { URL: server.url })
  })

  // The OpenTelemetry bridge: a subpath whose peer (@opentelemetry/api) a user installs to use it.
  const otelCheck = (load: string) => `${load}
const producer = createMetricProducer()
const reader = new PeriodicExportingMetricReader({
  exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
  exportIntervalMillis: 3_600_000,
  metricProducers: [producer],
})
;(async () => {
  const meterProvider = new MeterProvider({ readers: [reader] })
  const cache = createCache({ location: process.env.URL, keyPrefix: 'otel' })
  const stop = instrument(cache, { alias: 'packed', meterProvider })
  const produced = createCache({ location: process.env.URL, keyPrefix: 'otelp' })
  instrument(produced, { alias: 'produced', meterProvider, producer })
  for (const c of [cache, produced]) {
    await c.set('k', 1)
    await c.get('k')
    await c.get('missing')
  }
  const { resourceMetrics } = await reader.collect()
  const metrics = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)
  const names = metrics.map((m) => m.descriptor.name)
  for (const name of ['cachex.hits', 'cachex.misses', 'cachex.sets', 'db.client.operation.duration']) {
    if (!names.includes(name)) throw new Error('no ' + name + ' in ' + names.join(', '))
  }
  const gets = metrics
    .filter((m) => m.descriptor.name === 'db.client.operation.duration')
    .flatMap((m) => m.dataPoints)
    .filter((p) => p.attributes['db.operation.name'] === 'get')
    .map((p) => p.attributes['cachex.cache.alias'] + ':' + p.value.count)
    .sort()
  if (gets.join() !== 'packed:2,produced:2') throw new Error('get durations: ' + gets.join())
  stop()
  await cache.close()
  await produced.close()
  console.log('otel ok')
})().catch((e) => { console.error(e); process.exit(1) })
`
  const sdk =
    'AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader'
  writeFileSync(
    join(project, 'otel.cjs'),
    otelCheck(
      `const { createMetricProducer, instrument } = require('@cachex/redis/otel')\nconst { createCache } = require('@cachex/redis')\nconst { ${sdk} } = require('@opentelemetry/sdk-metrics')`,
    ),
  )
  writeFileSync(
    join(project, 'otel.mjs'),
    otelCheck(
      `import { createMetricProducer, instrument } from '@cachex/redis/otel'\nimport { createCache } from '@cachex/redis'\nimport { ${sdk} } from '@opentelemetry/sdk-metrics'`,
    ),
  )
  check('@cachex/redis/otel without @opentelemetry/api names the missing package', () => {
    writeFileSync(join(project, 'otel-missing.mjs'), "import '@cachex/redis/otel'\n")
    try {
      sh('node', ['otel-missing.mjs'], project)
    } catch (error) {
      const output = String((error as { stderr?: Buffer }).stderr ?? '')
      if (output.includes("'@opentelemetry/api'")) return
      throw error
    }
    throw new Error('@cachex/redis/otel loaded without @opentelemetry/api')
  })
  sh(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '@opentelemetry/api@1.9.1',
      '@opentelemetry/sdk-metrics@2.12.0',
    ],
    project,
  )
  check('@cachex/redis/otel reports to an OpenTelemetry SDK from the tarball (CJS)', () => {
    sh('node', ['otel.cjs'], project, { URL: server.url })
  })
  check('@cachex/redis/otel reports to an OpenTelemetry SDK from the tarball (ESM)', () => {
    sh('node', ['otel.mjs'], project, { URL: server.url })
  })

  // Types, as a TypeScript user sees them.
  sh('npm', ['install', '--no-audit', '--no-fund', '@types/node@20.19.43'], project)
  writeFileSync(
    join(project, 'types.ts'),
    `import { type Cache, createCache, type CreateCacheOptions, KeyNotFoundError } from '@cachex/redis'
import type { Serializer } from '@cachex/core'
import { zlibCompressor } from '@cachex/compressors/zlib'
import { jsonSerializer } from '@cachex/serializers/json'
const options: CreateCacheOptions = { location: 'redis://127.0.0.1:6379/0', timeout: null, compressor: zlibCompressor() }
const cache: Cache = createCache(options)
const s: Serializer = jsonSerializer({ pythonFormat: true })
export async function use(): Promise<number | null> {
  const found: Map<string, { n: number }> = await cache.getMany<{ n: number }>(['a'])
  const ttl: number | null = await cache.ttl('a')
  void found; void s; void KeyNotFoundError
  return ttl
}
`,
  )
  const tsc = join(root, 'node_modules', '.bin', 'tsc')
  for (const [resolution, module] of [
    ['node16', 'node16'],
    ['bundler', 'esnext'],
    // No `exports` support: subpaths resolve through each package's `typesVersions`.
    ['node10', 'commonjs'],
  ] as const) {
    check(`types resolve under moduleResolution ${resolution}`, () => {
      sh(
        tsc,
        [
          '--noEmit',
          '--strict',
          // What \`tsc --init\` (TypeScript 6) turns on; with the libraries' own .d.ts checked.
          '--exactOptionalPropertyTypes',
          '--skipLibCheck',
          'false',
          '--types',
          'node',
          '--target',
          'es2022',
          '--module',
          module,
          '--moduleResolution',
          resolution,
          // TypeScript 6 deprecates node10, which older projects still use.
          ...(resolution === 'node10' ? ['--ignoreDeprecations', '6.0'] : []),
          'types.ts',
        ],
        project,
      )
    })
  }

  // The Keyv bridge, with its peer.
  sh('npm', ['install', '--no-audit', '--no-fund', 'keyv@5.6.0', ...tarballs], project)
  writeFileSync(
    join(project, 'keyv.mjs'),
    `import { createKeyv } from '@cachex/keyv'
import { createCache } from '@cachex/redis'
const cache = createCache({ location: process.env.URL, keyPrefix: 'keyv' })
const keyv = createKeyv(cache)
await keyv.set('a', { b: 1 }, 60000)
const v = await keyv.get('a')
if (v?.b !== 1) throw new Error('keyv read back ' + JSON.stringify(v))
await cache.close()
console.log('keyv ok')
`,
  )
  check('@cachex/keyv works with Keyv from the tarballs', () => {
    sh('node', ['keyv.mjs'], project, { URL: server.url })
  })
} finally {
  await server.stop()
  rmSync(project, { recursive: true, force: true })
}
console.log(`\npack: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
