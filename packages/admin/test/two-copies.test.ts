// A Cache made by another copy of @cachex/core than the admin's (ESM and CommonJS builds loaded
// side by side, as `next dev` does): the admin still reads it. It used to answer every cache
// route with a 500 ("cacheInternals() takes a Cache"), the context being kept under a symbol
// each copy made its own.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

it('the admin lists the keys of a Cache made by another copy of @cachex/core', async () => {
  const child = fileURLToPath(new URL('./_two-copies-child.ts', import.meta.url))
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=@cachex/source', '--import', 'tsx', child],
    // Generous, for a busy machine: it only proves the child ends.
    { cwd: fileURLToPath(new URL('.', import.meta.url)), timeout: 60_000 },
  )
  const { status, body } = JSON.parse(stdout.trim().split('\n').at(-1) as string) as {
    status: number
    body: string
  }
  expect(body).not.toMatch(/takes a Cache/)
  expect(status).toBe(200)
  expect((JSON.parse(body) as { keys: Array<{ key: string }> }).keys.map((k) => k.key)).toEqual([
    'k',
  ])
})
