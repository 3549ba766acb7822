// The memory:// backend runs cachex's Lua scripts natively, found by the SHA1 of their source: a
// script edited in core, lock or admin without its copy in memory/_script-sources.ts fails here, not
// with NOSCRIPT at run time.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { memory, standalone } from '@cachex/connections'
import { type Connection, ResponseError } from '@cachex/core'
import { standaloneServer } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SOURCES } from '../src/memory/_script-sources.ts'
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
  for (const m of text.matchAll(/defineScript\(`([^`]*)`\)/g)) found.push(expand(m[1] as string))
  for (const m of text.matchAll(/\['EVAL', (\w+),/g)) {
    const lua = constants.get(m[1] as string)
    if (lua !== undefined) found.push(expand(lua))
  }
  return found
}

describe('memory:// and the scripts of core, lock and admin', () => {
  it('runs every Lua script cachex sends', () => {
    const files = [
      ...sources(join(root, 'core/src')),
      ...sources(join(root, 'lock/src')),
      ...sources(join(root, 'admin/src')),
    ]
    const scripts = files.flatMap((file) => luaIn(readFileSync(file, 'utf8')))
    // 6 in core's value store and coalescers, 2 of the stampede lock, 4 of the lock, 2 of the
    // semaphore, 1 of the admin's compare-and-set.
    expect(scripts.length).toBe(15)
    const known = knownScripts()
    const missing = scripts.filter(
      (lua) => !known.has(createHash('sha1').update(lua).digest('hex')),
    )
    expect(missing).toEqual([])
  })
})

describe('memory:// and the read-only script forms', () => {
  let server: { url: string; stop(): Promise<void> }
  let real: Connection
  let mem: Connection

  beforeAll(async () => {
    server = await standaloneServer()
    real = standalone({ location: server.url })
    mem = memory({ location: 'memory://' })
  })

  afterAll(async () => {
    await Promise.all([real?.close(), mem?.close()])
    await server?.stop()
  })

  async function reply(connection: Connection, args: string[]): Promise<unknown> {
    try {
      return await connection.command(args)
    } catch (error) {
      if (!(error instanceof ResponseError)) throw error
      return { error: error.message }
    }
  }

  it("EVAL_RO and EVALSHA_RO run the ttls' script as Redis does", async () => {
    const pttl = SOURCES.PTTL_KEYS
    const sha = createHash('sha1').update(pttl).digest('hex')
    const answers: unknown[] = []
    for (const connection of [real, mem]) {
      await connection.command(['SET', 'a', '1', 'PX', '600000'])
      await connection.command(['SET', 'b', '1'])
      await connection.command(['DEL', 'c'])
      // (memory:// knows cachex's scripts from the start: no NOSCRIPT to compare.)
      const [a, ...rest] = (await reply(connection, ['EVAL_RO', pttl, '3', 'a', 'b', 'c'])) as [
        number,
        ...number[],
      ]
      const again = await reply(connection, ['EVALSHA_RO', sha, '1', 'b'])
      answers.push([a > 590_000 && a <= 600_000, rest, again])
    }
    expect(answers[1]).toEqual(answers[0])
    expect(answers[0]).toEqual([true, [-1, -2], [-1]])
  })

  it('EVAL_RO refuses a script that writes, and it writes nothing', async () => {
    for (const connection of [real, mem]) {
      await connection.command(['SET', 'n', '1'])
      const refused = await reply(connection, ['EVAL_RO', SOURCES.INCR, '1', 'n', '5'])
      expect(refused).toEqual({
        error: expect.stringMatching(/^ERR Write commands are not allowed from read-only scripts/),
      })
      expect(String(await connection.command(['GET', 'n']))).toBe('1')
    }
  })
})
