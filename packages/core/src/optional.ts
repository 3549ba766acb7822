import { createRequire } from 'node:module'
import { MissingDependencyError } from './errors.ts'

const loaded = new Map<string, unknown>()

/**
 * Loads an optional peer dependency once, synchronously, for the codec that needs it, resolving
 * it from `from` — the caller's `import.meta.url`, so that the package declaring the peer finds
 * it under strict layouts such as pnpm's. When it is missing, throws a `MissingDependencyError`
 * (`E_MISSING_DEPENDENCY`) that says exactly what to install.
 */
export function requireOptional<T>(packageName: string, neededBy: string, from: string): T {
  if (loaded.has(packageName)) return loaded.get(packageName) as T
  let mod: T
  try {
    mod = createRequire(from)(packageName) as T
  } catch (error) {
    throw new MissingDependencyError(
      `${neededBy} needs the optional package '${packageName}': install it with \`npm install ${packageName}\` (or pnpm add / yarn add)`,
      { cause: error },
    )
  }
  loaded.set(packageName, mod)
  return mod
}
