// Two copies of the packages in one process — the ESM build imported, the CommonJS build
// required (the dual-package hazard) — share the process-wide state the docs promise: the
// `memory://<name>` stores and the `configureCaches()` registry. The child runs the BUILT
// packages (`pnpm build` in packages/connections and packages/redis first).
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const child = fileURLToPath(new URL('./_two-copies-state-child.ts', import.meta.url))

it('memory://<name> stores and the configureCaches() registry are one per process, whichever copy uses them', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', child], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    timeout: 60_000,
  })
  expect(JSON.parse(stdout.trim().split('\n').at(-1) as string)).toEqual({
    twoCopies: true,
    memoryEsmToCjs: 1,
    memoryCjsToEsm: 2,
    memoryAfterOneClosed: 1,
    memoryAfterBothClosed: 'missing',
    registrySet: true,
    registryGet: 2,
    sameCache: true,
    aliases: ['default'],
    close: 'closed',
    afterClose: 'ClosedError',
  })
})
