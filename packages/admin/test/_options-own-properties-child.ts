// Run by options-own-properties.test.ts in a process of its own: createAdminHandler with its
// defaults, in an app whose Object.prototype another library polluted with the admin's option
// names. Prints, as one line of JSON, the status of a request naming a foreign Host (the
// DNS-rebinding check), that of a key read under the default base path, whether the key reads
// as read-only, and whether the polluted `audit` was called.
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createCache } from '@cachex/redis'
import { createAdminHandler } from '../src/index.ts'

let audited = false
Object.assign(Object.prototype, {
  allowedHosts: true,
  readOnly: true,
  basePath: '/elsewhere',
  audit: () => {
    audited = true
  },
  label: 'evil',
})
const token = 'x'.repeat(20)
const cache = createCache({ location: 'memory://own-properties', keyPrefix: 'p' })
await cache.set('k', 1)
const admin = createAdminHandler({ caches: { default: cache }, auth: { token } })
const server = createServer(admin)
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const { port } = server.address() as AddressInfo

/** The status and body of a request to `path` naming `host`. */
function call(method: string, path: string, host: string): Promise<[number, string]> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: { Host: host, Authorization: `Bearer ${token}` },
      },
      (res) => {
        let body = ''
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString()
        })
        res.on('end', () => resolve([res.statusCode ?? 0, body]))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

const [foreign] = await call('GET', '/api/caches/default/keys?pattern=*', 'attacker.example')
const [read, body] = await call('GET', '/api/caches/default/key?key=k', `127.0.0.1:${port}`)
const [removed] = await call('DELETE', '/api/caches/default/key?key=k', `127.0.0.1:${port}`)
const readOnly = read === 200 ? (JSON.parse(body) as { readOnly: unknown }).readOnly : body
for (const name of Object.keys(Object.prototype)) delete (Object.prototype as never)[name]
process.stdout.write(`${JSON.stringify({ foreign, read, readOnly, removed, audited })}\n`)
admin.close()
server.close()
await cache.close()
process.exit(0)
