// An app bundled and minified (esbuild --minify; terser's class-name mangling alike) renames every
// class, cachex's and node-redis's: cachex's errors must keep their documented names, and cachex
// must still tell node-redis's errors apart — why no cluster seed answered, a node client
// node-redis closed under a call (connected again, not failed). Each app is bundled both ways and
// run in a process of its own; both must print the same. esbuild comes with the workspace's
// tooling (tsx's; no dependency of cachex's): without it, the test fails, never skipped. It
// bundles the built package (`dist`, which CI builds before the tests).
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import {
  freePort,
  type RedisServer,
  startCluster,
  startRedis,
  type TestCluster,
} from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const redisDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = JSON.stringify(join(redisDir, 'dist', 'index.cjs'))
const pnpm = join(redisDir, '..', '..', 'node_modules', '.pnpm')
const esbuildDir = readdirSync(pnpm).find((d) => /^esbuild@\d/.test(d))
/** What this test uses of esbuild's API (no dependency of cachex's: no types to import). */
interface Esbuild {
  build(options: Record<string, unknown>): Promise<unknown>
}
if (esbuildDir === undefined) {
  throw new Error(`no esbuild in ${pnpm} (tsx brings it): run pnpm install`)
}
const esbuild = createRequire(join(pnpm, esbuildDir, 'node_modules', 'esbuild', 'package.json'))(
  'esbuild',
) as Esbuild
const run = promisify(execFile)

let tmp: string
let server: RedisServer
let cluster: TestCluster

let bundles = 0
/** What the app `source` prints, bundled with `minify` or not, run in a process of its own. */
async function bundleAndRun(source: string, minify: boolean): Promise<string> {
  const entry = join(tmp, `app-${++bundles}.cjs`)
  writeFileSync(entry, `const x = require(${dist})\n;(async () => {\n${source}\n})()`)
  const outfile = join(tmp, `out-${bundles}.cjs`)
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    minify,
    outfile,
    logLevel: 'silent',
  })
  const { stdout } = await run(process.execPath, [outfile], { cwd: redisDir, timeout: 60_000 })
  return stdout.trim()
}

/** What `source` prints, bundled as it is, and minified (which must print the same). */
async function both(source: string): Promise<[string, string]> {
  return [await bundleAndRun(source, false), await bundleAndRun(source, true)]
}

describe('an app bundled and minified', () => {
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'cachex-minified-'))
    ;[server, cluster] = await Promise.all([startRedis(), startCluster({ primaries: 3 })])
  }, 120_000)
  afterAll(async () => {
    await Promise.all([server?.stop(), cluster?.stop()])
    rmSync(tmp, { recursive: true, force: true })
  })

  it("keeps the errors' names (error.name, the first word of a logged stack)", async () => {
    const source = `
  const c = x.createCache({ location: ${JSON.stringify(server.url)}, keyPrefix: 'minified:' })
  try { await c.incr('missing') } catch (e) { console.log(e.name, String(e.stack).split(':')[0]) }
  try { x.createCache({ location: 'bogus://' }) } catch (e) { console.log(e.name) }
  await c.close()
  try { await c.get('a') } catch (e) { console.log(e.name) }`
    const expected = 'KeyNotFoundError KeyNotFoundError\nInvalidArgumentError\nClosedError'
    expect(await both(source)).toEqual([expected, expected])
  }, 60_000)

  it('still says why no cluster seed answered', async () => {
    const port = await freePort()
    const source = `
  const c = x.createCache({ location: 'redis://127.0.0.1:${port}', client: 'cluster', socketConnectTimeout: 1 })
  try { await c.get('a') } catch (e) { console.log(e.name, e.message) }
  await c.close()`
    const [plain, minified] = await both(source)
    expect(plain).toMatch(/unavailable \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/)
    expect(minified).toBe(plain)
  }, 60_000)

  it('connects a keyed call again after node-redis closed the node clients', async () => {
    const source = `
  const cache = x.createCache({ location: ${JSON.stringify(cluster.seeds[0])}, client: 'cluster', keyPrefix: 'minified-${process.pid}:', socketTimeout: 10, socketConnectTimeout: 10 })
  await cache.set('a', 1, null)
  await cache.connection.command(['DBSIZE'])
  const client = await cache.connection.client()
  for (const node of client.masters) node.client?.destroy()
  try { console.log('get', await cache.get('a')) } catch (e) { console.log('get failed', e.code, e.message) }
  await cache.close()`
    expect(await both(source)).toEqual(['get 1', 'get 1'])
  }, 120_000)
})
