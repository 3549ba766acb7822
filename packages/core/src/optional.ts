import { createRequire as nodeModuleCreateRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { MissingDependencyError } from './errors.ts'

const loaded = new Map<string, unknown>()

/** How much of the load error's message a "failed to load" message quotes (the cause keeps it all). */
const CAUSE_CHARS = 200

/**
 * Loads an optional peer dependency once, synchronously, for the codec that needs it, resolving
 * it from `from` — the caller's `import.meta.url`, so that the package declaring the peer finds
 * it under strict layouts such as pnpm's.
 *
 * Bundled apps: esbuild's CommonJS output (its default for `--platform=node`) turns
 * `import.meta` into `{}`, so `from` arrives `undefined`; and webpack bakes in the path the file
 * had at build time. So when `from` is not a usable file URL or absolute path, or the package is
 * not found from there, it is resolved from `process.cwd()`, then from the main script's
 * directory (`process.argv[1]`) — where an app's own `node_modules` usually is.
 *
 * Throws a `MissingDependencyError` (`E_MISSING_DEPENDENCY`, the load error as its `cause`):
 * saying what to install when the package itself is found nowhere; saying that it is installed
 * but failed to load, and why, when loading it threw anything else — a native binding missing
 * or for another platform (`npm install --omit=optional`), addons disabled (`node --no-addons`,
 * the permission model without `--allow-addons`), a module it requires missing.
 */
export function requireOptional<T>(packageName: string, neededBy: string, from: string): T {
  if (loaded.has(packageName)) return loaded.get(packageName) as T
  const createRequire = nodeCreateRequire()
  let notFound: unknown
  for (const anchor of anchors(from)) {
    let load: NodeJS.Require
    try {
      load = createRequire(anchor)
    } catch {
      continue // not a file URL or absolute path
    }
    try {
      const mod = load(packageName) as T
      loaded.set(packageName, mod)
      return mod
    } catch (error) {
      if (!isNotFound(error, packageName)) {
        throw new MissingDependencyError(
          `${neededBy} needs the optional package '${packageName}', which is installed but failed to load: ${summary(error)}`,
          { cause: error },
        )
      }
      notFound ??= error
    }
  }
  throw new MissingDependencyError(
    `${neededBy} needs the optional package '${packageName}': install it with \`npm install ${packageName}\` (or pnpm add / yarn add)`,
    { cause: notFound },
  )
}

/**
 * Node's `createRequire`, got in a form bundlers leave alone: webpack rewrites a call to a
 * `createRequire` imported from `node:module` into `undefined(…)` when its argument is not
 * `import.meta.url`. `process.getBuiltinModule` exists from Node 20.16; before, the import (a
 * named one: a namespace import of `node:module` makes rolldown's CommonJS build of this package
 * require its own `internal.cjs` in a cycle), which webpack may still rewrite there.
 */
function nodeCreateRequire(): typeof nodeModuleCreateRequire {
  return process.getBuiltinModule?.('node:module')?.createRequire ?? nodeModuleCreateRequire
}

/** Where to resolve from, in order: `from` when usable, the working directory, the main script's. */
function anchors(from: unknown): Array<string | URL> {
  const list: Array<string | URL> = []
  if ((typeof from === 'string' && from !== '') || from instanceof URL) list.push(from)
  // createRequire takes a file's path: the file need not exist.
  try {
    list.push(join(process.cwd(), 'noop.js'))
  } catch {
    // the working directory was removed
  }
  const main = process.argv[1]
  if (typeof main === 'string' && main !== '') list.push(join(dirname(resolve(main)), 'noop.js'))
  return list
}

/**
 * Whether `error` says that `packageName` itself was not found — not a module it requires, nor
 * a file of it (its `main` missing): those mean it is installed but broken.
 */
function isNotFound(error: unknown, packageName: string): boolean {
  const code = read(error, 'code')
  if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') return false
  const message = read(error, 'message')
  return typeof message === 'string' && firstLine(message).includes(`'${packageName}'`)
}

/**
 * The first line of the load error's message, bounded to CAUSE_CHARS characters; for a thrown
 * value that is no error, its text, or what it is when that cannot be read (an object without a
 * prototype, a getter that throws).
 */
function summary(error: unknown): string {
  const message = read(error, 'message')
  let text: string
  if (typeof message === 'string') text = message
  else if (typeof error !== 'object' || error === null) text = String(error)
  else text = 'an object thrown, not an Error'
  const line = firstLine(text)
  return line.length > CAUSE_CHARS ? `${line.slice(0, CAUSE_CHARS)}…` : line
}

/** `value[name]`, or `undefined` where reading it throws (a getter) or `value` is no object. */
function read(value: unknown, name: 'code' | 'message'): unknown {
  if (typeof value !== 'object' || value === null) return undefined
  try {
    return (value as Record<string, unknown>)[name]
  } catch {
    return undefined
  }
}

/** `text` up to its first line break. */
function firstLine(text: string): string {
  const end = text.indexOf('\n')
  return end === -1 ? text : text.slice(0, end)
}
