// `memory://`'s `maxBytes` bounds the heap the store takes, about: each key and each element of a
// collection is counted with what the store holds for it in V8's heap besides its data. Counted
// as 64 and 24 bytes, 100,000 small keys took 2.4× their count of heap (3.5× with an expiry), so
// the default 256 MiB let a store take a gigabyte. Measured in a child process (see
// _memory-heap-child.ts), after a gc.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const child = fileURLToPath(new URL('./_memory-heap-child.ts', import.meta.url))
const stripTypes = fileURLToPath(new URL('./_strip-types.mjs', import.meta.url))

function run(kind: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--conditions=@cachex/source', '--import', stripTypes, child, kind],
      // Generous, for a busy machine: it only proves the child ends.
      { cwd: fileURLToPath(new URL('.', import.meta.url)), timeout: 90_000 },
      (_error, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith('{'))
        resolve(line ?? `${stdout}\n${stderr}`.slice(-2000))
      },
    )
  })
}

describe('memory:// counts about the heap its items take', () => {
  it.each(['keys', 'expiring', 'fields'])('100,000 small %s', async (kind) => {
    const line = await run(kind)
    const { heap, counted } = JSON.parse(line) as { heap: number; counted: number }
    // Measured: 0.97× (keys), 1.36× (keys with an expiry), 1.17× (hash fields).
    expect(heap / counted).toBeLessThan(1.75)
    expect(heap / counted).toBeGreaterThan(0.5)
  })
})
