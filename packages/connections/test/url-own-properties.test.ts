// Options read through Object.prototype: a library that set `Object.prototype.db = '3'` (or
// `.password`, `.clientOptions`…) must not move a connection to another database, send another
// password, or get its location refused. Each case runs in a child process, so the pollution
// never touches this worker.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { type RedisServer, redisCall, startRedis, startSentinels } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const child = fileURLToPath(new URL('./_url-own-properties-child.ts', import.meta.url))
let server: RedisServer

beforeAll(async () => {
  server = await startRedis()
})

afterAll(async () => {
  await server?.stop()
})

/** Runs one case of the child against the server: what it printed. */
async function run(which: string, ...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--conditions=@cachex/source',
      '--import',
      'tsx',
      child,
      args[0] ?? server.url,
      which,
      ...args.slice(1),
    ],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 60_000 },
  )
  return JSON.parse(stdout.trim().split('\n').at(-1) as string)
}

describe('an Object.prototype polluted by another library', () => {
  it('.db = "3": a URL without a database names database 0, and writes go there', async () => {
    expect(await run('db')).toEqual({ tcp: 0, unix: 0, set: 'OK' })
    expect(await redisCall(server.url, ['EXISTS', 'own:db'])).toBe(1)
  })

  it('.password = "x": no password is read from the URL, none is sent', async () => {
    expect(await run('password')).toEqual({ parsed: 'none', set: 'OK' })
  })

  it('.username = "u": no user name is read from the URL, the location is not refused', async () => {
    expect(await run('username')).toEqual({ parsed: 'none', set: 'OK' })
  })

  it('.clientOptions: options without clientOptions take none', async () => {
    expect(await run('clientOptions')).toEqual({ set: 'OK' })
    expect(await redisCall(server.url, ['EXISTS', 'own:clientOptions'])).toBe(1)
  })

  it('.socket: clientOptions without a socket take none', async () => {
    expect(await run('socket')).toEqual({ set: 'OK' })
  })

  it('.password = "x": the replica factory sends no password either', async () => {
    expect(await run('replica')).toEqual({ set: 'OK' })
  })

  it('.sentinelOptions: the sentinel factory without sentinelOptions takes none', async () => {
    const deployment = await startSentinels({ replicas: 0, sentinels: 1, downAfterMs: 60_000 })
    try {
      const out = await run('sentinel', deployment.location, JSON.stringify(deployment.addresses))
      expect(out).toEqual({ set: 'OK' })
    } finally {
      await deployment.stop()
    }
  })

  it('.memoryOptions: a memory:// store keeps its default limits', async () => {
    expect(await run('memoryOptions')).toEqual({ set: 'OK', get: 'v' })
  })
})
