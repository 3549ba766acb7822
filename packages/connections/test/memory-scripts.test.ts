// The memory:// backend runs cachex's Lua scripts natively, found by the SHA1 of their source: a
// script edited in core, lock or admin without its copy in memory/_script-sources.ts fails here, not
// with NOSCRIPT at run time.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { knownScripts } from '../src/memory/scripts.ts'

const root = new URL('../../', import.meta.url).pathname

/** Every `.ts` file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/**
 * The Lua of `defineScript(\`…\`)` and of the sources sent with `EVAL` (`['EVAL', NAME, …]`),
 * with the file's constants put in for `${NAME}`, as the module evaluates them.
 */
function luaIn(text: string): string[] {
  const constants = new Map<string, string>()
  for (const m of text.matchAll(/^const (\w+) = `([^`]*)`$/gm))
    constants.set(m[1] as string, m[2] as string)
  const expand = (lua: string) =>
    lua.replace(/\$\{(\w+)\}/g, (whole, name: string) => constants.get(name) ?? whole)
  const found: string[] = []
  // In any quotes: one in '…' was once missed, and memory:// refused it at run time.
  for (const m of text.matchAll(/defineScript\((['"`])((?:(?!\1)[^\\])*)\1\)/g)) {
    found.push(expand(m[2] as string))
  }
  // And every other constant of Lua (`redis.call`) not put into another script: sent with `EVAL`,
  // by name or through a helper (`ifStillHeld(…, RELEASE, …)`).
  for (const [name, lua] of constants) {
    if (lua.includes('redis.call') && !text.includes(`\${${name}}`)) found.push(expand(lua))
  }
  return [...new Set(found)]
}

describe('memory:// and the scripts of core, lock and admin', () => {
  it('runs every Lua script cachex sends', () => {
    const files = [
      ...sources(join(root, 'core/src')),
      ...sources(join(root, 'lock/src')),
      ...sources(join(root, 'admin/src')),
    ]
    const scripts = files.flatMap((file) => luaIn(readFileSync(file, 'utf8')))
    // 7 in core's value store and coalescers (one the no-op asking whether scripts may run), 3 of
    // getOrSet (its lock, its refresh), 4 of the lock, 2 of the semaphore, 2 of the admin
    // (compare-and-set, a container page's bounded read).
    expect(scripts.length).toBe(18)
    const known = knownScripts()
    const missing = scripts.filter(
      (lua) => !known.has(createHash('sha1').update(lua).digest('hex')),
    )
    expect(missing).toEqual([])
  })
})
