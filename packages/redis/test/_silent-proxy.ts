// A TCP proxy to a redis-server whose connections a test can make silent: nothing passed either
// way and no close, as when the server lost a connection but no close reached the client (a NAT
// entry expired, a laptop slept, a serverless freeze).
import { connect, createServer, type Server, type Socket } from 'node:net'

/** One client connection through the proxy. */
export interface ProxiedPair {
  client: Socket
  upstream: Socket
  /** Silent: nothing passes any more. */
  silent: boolean
  /** It sent `CLIENT TRACKING` (a local tier's tracking connection). */
  tracking: boolean
}

/** What `silentProxy` gives a test. */
export interface SilentProxy {
  url: string
  pairs: ProxiedPair[]
  /** Makes `pair` silent now; the server side is closed (the server forgets the connection). */
  mute(pair: ProxiedPair): void
  close(): Promise<void>
}

/**
 * A proxy to the redis-server on `port`; a connection goes silent from the data `silence` picks
 * (its `index` among the connections made, the bytes the client sent).
 */
export async function silentProxy(
  port: number,
  silence: (index: number, data: Buffer) => boolean = () => false,
): Promise<SilentProxy> {
  const pairs: ProxiedPair[] = []
  const proxy: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1')
    const pair: ProxiedPair = { client, upstream, silent: false, tracking: false }
    const index = pairs.push(pair) - 1
    client.on('data', (data: Buffer) => {
      if (data.toString('latin1').toUpperCase().includes('TRACKING')) pair.tracking = true
      if (!pair.silent && silence(index, data)) pair.silent = true
      if (!pair.silent) upstream.write(data)
    })
    upstream.on('data', (data: Buffer) => {
      if (!pair.silent) client.write(data)
    })
    client.on('error', () => undefined)
    upstream.on('error', () => undefined)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => {
      if (!pair.silent) client.destroy()
    })
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  return {
    url: `redis://127.0.0.1:${(proxy.address() as { port: number }).port}/0`,
    pairs,
    mute(pair) {
      pair.silent = true
      pair.upstream.destroy()
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy()
        pair.upstream.destroy()
      }
      await new Promise((resolve) => proxy.close(resolve))
    },
  }
}
