// A slot-map rediscovery whose first seed accepts the connection and never answers its handshake
// (a frozen node: SIGSTOPped, its kernel still accepting), or refuses it: the rediscovery gives
// that seed the bound of a `CLUSTER SLOTS` ask (at most 1 s), not the connect timeout, and moves
// on to the next seed. Before the fix, the connect to it held the rediscovery (and every one
// after it) for `socketConnectTimeout`: 20 s here.
import { createServer, type Server, type Socket } from 'node:net'
import { freePort } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { ConnectionError } from '../src/index.ts'
import { type ClusterEnv, cmd, setupCluster } from './_cluster-proxies.ts'
import { roundTrips } from './helpers.ts'

let env: ClusterEnv
beforeAll(async () => {
  env = await setupCluster(0)
}, 120_000)
afterAll(async () => {
  await env?.stop()
})

/** A TCP server on `port` that accepts connections and never writes a byte. */
async function silentServer(port: number): Promise<{ server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  return { server, sockets }
}

/** Whether a set+get roundtrip works within `ms`. */
async function works(cache: ReturnType<ClusterEnv['newCache']>, ms: number): Promise<boolean> {
  return (await roundTrips(cache, 'frozen-seed:works', ms, 100)).ok
}

for (const kind of ['accepts and never answers', 'refuses the connection'] as const) {
  it(`a first seed that ${kind} holds no rediscovery for the connect timeout`, async () => {
    const port = await freePort()
    // No slot assigned at start: cachex's map is not built, and is rediscovered from the seeds,
    // in order — the silent one first.
    env.tamper = (args) => (cmd(args) === 'CLUSTER SLOTS' ? '*0\r\n' : undefined)
    const cache = env.newCache({
      location: [`redis://127.0.0.1:${port}`, ...env.seeds],
      socketConnectTimeout: 20,
      socketTimeout: 30,
    })
    let silent: Awaited<ReturnType<typeof silentServer>> | undefined
    try {
      const first = await cache.set('frozen-seed:first', 1).then(
        () => undefined,
        (error: unknown) => error,
      )
      expect(first).toBeInstanceOf(ConnectionError)
      // Listening only now: node-redis's own discovery (at connect) must not wait on it.
      if (kind === 'accepts and never answers') silent = await silentServer(port)
      env.tamper = undefined // the cluster is formed now
      const started = performance.now()
      const ok = await works(cache, 8_000)
      const took = Math.round(performance.now() - started)
      // 20 s (the connect timeout) or more before the fix; about 1 s per rediscovery after it.
      expect(ok, `works within 8 s of the cluster being formed (took ${took} ms)`).toBe(true)
      expect(env.crashes.map(String)).toEqual([])
    } finally {
      env.tamper = undefined
      await cache.close()
      for (const socket of silent?.sockets ?? []) socket.destroy()
      silent?.server.close()
    }
  }, 90_000)
}
