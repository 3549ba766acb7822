// requireOptional: loading an optional peer (msgpackr, lz4-napi, zstd, lzma) where bundlers leave
// no usable `import.meta.url`, and saying the truth when the package is installed but does not
// load. The fixture packages are written at run time into a temporary directory (a
// `node_modules` folder in the repository would be ignored by git); the cases that depend on the
// working directory or the main script run in a child process of their own.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MissingDependencyError } from '../src/errors.ts'
import { requireOptional } from '../src/optional.ts'

const optionalSource = fileURLToPath(new URL('../src/optional.ts', import.meta.url))
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

/** The app: its `node_modules` holds the fixture packages. */
let app: string
/** A directory with no `node_modules`, to run from. */
let elsewhere: string
/** A file in `app`, to resolve from. */
let anchor: string

/** Writes a package into `app/node_modules`. */
function writePackage(name: string, code: string): void {
  const dir = join(app, 'node_modules', name)
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name, version: '1.0.0', main: 'index.js' }),
  )
  writeFileSync(join(dir, 'index.js'), code)
}

beforeAll(() => {
  const root = mkdtempSync(join(tmpdir(), 'cachex-optional-'))
  app = join(root, 'app')
  elsewhere = join(root, 'elsewhere')
  mkdirSync(app)
  mkdirSync(elsewhere)
  anchor = join(app, 'anchor.js')
  writeFileSync(anchor, '')
  writePackage('cachex-fixture-ok', "module.exports = { ok: 'loaded' }\n")
  // Stands in for a native codec whose binary does not load (wrong platform, --no-addons, a
  // permission model without --allow-addons, `npm install --omit=optional`).
  writePackage(
    'cachex-fixture-broken',
    "throw new Error('Cannot find native binding (cachex-fixture-broken)')\n",
  )
  writePackage('cachex-fixture-inner', "module.exports = require('cachex-fixture-nowhere')\n")
  writePackage('cachex-fixture-long', `throw new Error('x'.repeat(5000))\n`)
  // Throws what cannot be read as an error: the message is built without reading it.
  writePackage('cachex-fixture-null-proto', 'throw Object.create(null)\n')
  writePackage(
    'cachex-fixture-message-getter',
    "const e = new Error('x'); Object.defineProperty(e, 'message', { get() { throw new Error('getter') } }); throw e\n",
  )
  writePackage(
    'cachex-fixture-code-getter',
    "const e = new Error('x'); Object.defineProperty(e, 'code', { get() { throw new Error('getter') } }); throw e\n",
  )
  writePackage('cachex-fixture-throws-5', 'throw 5\n')
})

afterAll(() => {
  rmSync(join(app, '..'), { recursive: true, force: true })
})

/** Runs `script` (ESM, TypeScript through tsx) as the main module in `cwd`: what it printed. */
async function runChild(script: string, cwd: string, args: string[] = []): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', tsx, ...args, script],
    {
      cwd,
      timeout: 60_000,
    },
  )
  return stdout.trim()
}

/** A script that calls requireOptional with `from` undefined and prints the result or the error. */
function undefinedFromScript(packageName: string): string {
  return `import { requireOptional } from ${JSON.stringify(pathToFileURL(optionalSource).href)}
try {
  console.log(JSON.stringify(requireOptional(${JSON.stringify(packageName)}, 'someCodec', undefined)))
} catch (e) {
  console.log(e.name + ': ' + e.message)
}
`
}

describe('requireOptional: where it resolves from when bundlers leave no import.meta.url', () => {
  it('`from` undefined (esbuild --platform=node, cjs): resolves from process.cwd()', async () => {
    const script = join(elsewhere, 'cwd.mts')
    writeFileSync(script, undefinedFromScript('cachex-fixture-ok'))
    // Before the fix: "TypeError [ERR_INVALID_ARG_VALUE]" from createRequire(undefined), reported
    // as "someCodec needs the optional package 'cachex-fixture-ok': install it with …".
    expect(await runChild(script, app)).toBe('{"ok":"loaded"}')
  }, 90_000)

  it("`from` undefined, run from another directory: resolves from the main script's directory", async () => {
    const script = join(app, 'main.mts')
    writeFileSync(script, undefinedFromScript('cachex-fixture-ok'))
    expect(await runChild(script, elsewhere)).toBe('{"ok":"loaded"}')
  }, 90_000)

  it('`from` undefined and the package nowhere: says to install it', async () => {
    const script = join(elsewhere, 'absent.mts')
    writeFileSync(script, undefinedFromScript('cachex-fixture-absent'))
    expect(await runChild(script, elsewhere)).toBe(
      "MissingDependencyError: someCodec needs the optional package 'cachex-fixture-absent': install it with `npm install cachex-fixture-absent` (or pnpm add / yarn add)",
    )
  }, 90_000)

  it('esbuild --bundle --platform=node (cjs output, import.meta is {}): the bundle loads the installed package', async () => {
    // esbuild, which tsx runs on: not a dependency of this workspace of its own.
    const esbuild = createRequire(createRequire(import.meta.url).resolve('tsx'))('esbuild') as {
      build(options: Record<string, unknown>): Promise<unknown>
    }
    const entry = join(app, 'entry.mjs')
    writeFileSync(
      entry,
      `import { requireOptional } from ${JSON.stringify(optionalSource)}
console.log(JSON.stringify(requireOptional('cachex-fixture-ok', 'someCodec', import.meta.url)))
`,
    )
    const outfile = join(app, 'dist', 'bundle.cjs')
    await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile,
      logLevel: 'silent',
    })
    const { stdout } = await promisify(execFile)(process.execPath, [outfile], {
      cwd: app,
      timeout: 60_000,
    })
    expect(stdout.trim()).toBe('{"ok":"loaded"}')
  }, 90_000)
})

describe('requireOptional: what it says when the package does not load', () => {
  /** The error requireOptional throws for `packageName`, resolved from the fixture app. */
  function failure(packageName: string): MissingDependencyError {
    try {
      requireOptional(packageName, 'someCodec', pathToFileURL(anchor).href)
    } catch (error) {
      return error as MissingDependencyError
    }
    throw new Error(`${packageName} loaded`)
  }

  it('loads an installed package from `from` (a file URL)', () => {
    expect(requireOptional('cachex-fixture-ok', 'someCodec', pathToFileURL(anchor).href)).toEqual({
      ok: 'loaded',
    })
  })

  it('not installed: MissingDependencyError saying what to install', () => {
    const error = failure('cachex-fixture-absent')
    expect(error).toBeInstanceOf(MissingDependencyError)
    expect(error.code).toBe('E_MISSING_DEPENDENCY')
    expect(error.message).toBe(
      "someCodec needs the optional package 'cachex-fixture-absent': install it with `npm install cachex-fixture-absent` (or pnpm add / yarn add)",
    )
    expect((error.cause as { code?: string }).code).toBe('MODULE_NOT_FOUND')
  })

  it('installed but throws on load (native binding missing): says so, not "install it"', () => {
    const error = failure('cachex-fixture-broken')
    expect(error).toBeInstanceOf(MissingDependencyError)
    expect(error.code).toBe('E_MISSING_DEPENDENCY')
    // Before the fix: "someCodec needs the optional package 'cachex-fixture-broken': install it with `npm install cachex-fixture-broken` …"
    expect(error.message).not.toMatch(/install it with/)
    expect(error.message).toBe(
      "someCodec needs the optional package 'cachex-fixture-broken', which is installed but failed to load: Cannot find native binding (cachex-fixture-broken)",
    )
    expect((error.cause as Error).message).toBe(
      'Cannot find native binding (cachex-fixture-broken)',
    )
  })

  it('installed but a module it requires is missing: failed to load, naming that module', () => {
    const error = failure('cachex-fixture-inner')
    expect(error).toBeInstanceOf(MissingDependencyError)
    expect(error.message).toMatch(
      /^someCodec needs the optional package 'cachex-fixture-inner', which is installed but failed to load: Cannot find module 'cachex-fixture-nowhere'/,
    )
    expect((error.cause as { code?: string }).code).toBe('MODULE_NOT_FOUND')
  })

  it("the cause's message is bounded in the message; the cause is kept whole", () => {
    const error = failure('cachex-fixture-long')
    expect(error.message).toMatch(/failed to load: x{200}…$/)
    expect(error.message.length).toBeLessThan(400)
    expect((error.cause as Error).message).toHaveLength(5000)
  })

  it('node --no-addons, a real native package (lz4-napi): failed to load, not "install it"', async () => {
    const compressors = fileURLToPath(new URL('../../compressors/package.json', import.meta.url))
    const script = join(elsewhere, 'no-addons.mts')
    writeFileSync(
      script,
      `import { requireOptional } from ${JSON.stringify(pathToFileURL(optionalSource).href)}
try {
  requireOptional('lz4-napi', 'lz4Compressor', ${JSON.stringify(pathToFileURL(compressors).href)})
  console.log('loaded')
} catch (e) {
  console.log(e.name + ': ' + e.message)
}
`,
    )
    const output = await runChild(script, elsewhere, ['--no-addons'])
    // Before the fix: "lz4Compressor needs the optional package 'lz4-napi': install it with `npm install lz4-napi` …"
    expect(output).toMatch(
      /^MissingDependencyError: lz4Compressor needs the optional package 'lz4-napi', which is installed but failed to load: /,
    )
  }, 90_000)
})

describe('an installed package that throws what cannot be read', () => {
  for (const name of [
    'cachex-fixture-null-proto',
    'cachex-fixture-message-getter',
    'cachex-fixture-code-getter',
    'cachex-fixture-throws-5',
  ]) {
    it(`${name}: a MissingDependencyError saying it failed to load, the thrown value its cause`, () => {
      let caught: unknown
      try {
        requireOptional(name, 'the test', anchor)
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(MissingDependencyError)
      expect((caught as Error).message).toMatch(/is installed but failed to load/)
    })
  }
})
