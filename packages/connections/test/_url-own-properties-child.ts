// Run by url-own-properties.test.ts in a process of its own (never in the test worker): one case
// of an Object.prototype that another library polluted, then what cachex made of the options.
// argv: the server's URL (a sentinel location for `sentinel`), the case's name, and for `sentinel`
// the sentinels as JSON. Prints one line of JSON.
import type { Connection } from '@cachex/core'
import { memory, parseRedisUrl, replica, sentinel, standalone } from '../src/index.ts'

const [url = '', which = '', sentinels = '[]'] = process.argv.slice(2)
const proto = Object.prototype as Record<string, unknown>
const out: Record<string, unknown> = {}

/** What `run` gives, or the error's name and message. */
async function attempt(name: string, run: () => unknown): Promise<void> {
  try {
    out[name] = await run()
  } catch (error) {
    out[name] = `${(error as Error).name}: ${String((error as Error).message).slice(0, 200)}`
  }
}

/** A SET through `open()`'s connection, then its close: `'OK'`, or the error. */
async function set(open: () => Connection, key: string): Promise<void> {
  let connection: Connection | undefined
  await attempt('set', async () => {
    connection = open()
    return String(await connection.command(['SET', key, 'v']))
  })
  await connection?.close()
}

const cases: Record<string, () => Promise<void>> = {
  async db() {
    proto.db = '3'
    await attempt('tcp', () => parseRedisUrl(url).database)
    await attempt('unix', () => parseRedisUrl('unix:///tmp/cachex.sock').database)
    await set(() => standalone({ location: url }), 'own:db')
  },
  async password() {
    proto.password = 'x'
    await attempt('parsed', () => parseRedisUrl(url).password ?? 'none')
    await set(() => standalone({ location: url }), 'own:password')
  },
  async username() {
    proto.username = 'u'
    await attempt('parsed', () => parseRedisUrl(url).username ?? 'none')
    await set(() => standalone({ location: url }), 'own:username')
  },
  async clientOptions() {
    proto.clientOptions = { database: 5 }
    await set(() => standalone({ location: url }), 'own:clientOptions')
  },
  async socket() {
    proto.socket = { path: '/nonexistent/cachex.sock' }
    await set(() => standalone({ location: url, clientOptions: {} }), 'own:socket')
  },
  async replica() {
    proto.password = 'x'
    await set(() => replica({ location: url }), 'own:replica')
  },
  async sentinel() {
    proto.sentinelOptions = { waitForPrimary: 'yes', password: 'x' }
    await set(() => sentinel({ location: url, sentinels: JSON.parse(sentinels) }), 'own:sentinel')
  },
  async memoryOptions() {
    proto.memoryOptions = { maxBytes: 1 }
    const connection = memory({ location: 'memory://' })
    await attempt('set', async () => String(await connection.command(['SET', 'k', 'v'])))
    await attempt('get', async () => String(await connection.command(['GET', 'k'])))
    await connection.close()
  },
}

await cases[which]?.()
process.stdout.write(`${JSON.stringify(out)}\n`)
process.exit(0)
