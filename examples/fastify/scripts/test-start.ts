import { fileURLToPath } from 'node:url'
import { runSmoke, spawnApp } from '@cachex/example-shared'

// Starts Redis and the app (from source, no build), checks it over HTTP, stops both.
await runSmoke({
  name: 'fastify',
  adminPath: '/admin',
  start: ({ env }) =>
    spawnApp(
      process.execPath,
      ['--conditions=@cachex/source', '--import', 'tsx', 'src/server.ts'],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        env,
      },
    ),
})
