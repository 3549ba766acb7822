import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { run, runSmoke, spawnApp } from '@cachex/example-shared'

const dir = fileURLToPath(new URL('..', import.meta.url))
const next = join(dir, 'node_modules/next/dist/bin/next')
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }

// Next.js bundles @cachex/redis and @cachex/admin from their `dist` build, as it would from npm:
// the source export condition is for node and tsx, and Turbopack has no setting for extra
// conditions.
for (const name of ['redis', 'admin']) {
  if (!existsSync(join(dir, `node_modules/@cachex/${name}/dist/index.mjs`))) {
    console.error(
      `[nextjs] @cachex/${name} is not built: run \`pnpm build\` first (\`pnpm test:examples\` does)`,
    )
    process.exit(1)
  }
}

// `next build`, then Redis and `next start`; checks it over HTTP, stops both.
await runSmoke({
  name: 'nextjs',
  basePath: '/api',
  adminPath: '/api/admin',
  prepare: () => run(process.execPath, [next, 'build'], { cwd: dir, env, timeoutMs: 600_000 }),
  start: (ctx) =>
    spawnApp(
      process.execPath,
      [next, 'start', '--port', String(ctx.port), '--hostname', '127.0.0.1'],
      {
        cwd: dir,
        env: { ...ctx.env, NEXT_TELEMETRY_DISABLED: '1' },
      },
    ),
  // `next start` closes its server on SIGTERM, then exits 143 (128 + SIGTERM) on purpose.
  exitCodes: [0, 143],
  // SIGTERM with no request in flight: `next start` owns its HTTP server, so the app cannot close
  // the keep-alive connection of a request in flight once answered, and the exit waits for it.
  inFlightOnStop: false,
  timeoutMs: 300_000,
})
