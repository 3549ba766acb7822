// createAdminHandler reads its options from their own properties only: a property another library
// put on Object.prototype (prototype pollution) used to turn off the Host check against DNS
// rebinding (`allowedHosts = true`), make the admin read-only, move it under another base path,
// or hand the audit trail to the polluter. The pollution happens in a child process
// (_options-own-properties-child.ts), never in the test worker.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

it('options inherited from Object.prototype change nothing of the admin', async () => {
  const child = fileURLToPath(new URL('./_options-own-properties-child.ts', import.meta.url))
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=@cachex/source', '--import', 'tsx', child],
    // Generous, for a busy machine: it only proves the child ends.
    { cwd: fileURLToPath(new URL('.', import.meta.url)), timeout: 60_000 },
  )
  expect(JSON.parse(stdout.trim().split('\n').at(-1) as string)).toEqual({
    foreign: 403,
    read: 200,
    readOnly: false,
    removed: 200,
    audited: false,
  })
})
