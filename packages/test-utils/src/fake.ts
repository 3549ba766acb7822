// A stand-in for a server that misbehaves in a way no real redis-server can be made to (a proxy's
// bug): it speaks just enough RESP3 for a client to connect, and answers each command as asked.
import { type AddressInfo, createServer, type Socket } from 'node:net'

/** A fake server listening on a loopback port. */
export interface FakeRedis {
  /** `redis://127.0.0.1:<port>`. */
  url: string
  /** Stops listening and drops the connections. */
  close(): Promise<void>
}

/**
 * Starts a fake server: `HELLO` gets a RESP3 greeting, every other command the raw RESP that
 * `answer(name)` returns for its name (upper case), or `+OK` when it returns `undefined`.
 */
export async function fakeRedis(answer: (name: string) => string | undefined): Promise<FakeRedis> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    socket.on('data', (chunk) => {
      for (const command of chunk.toString('latin1').split(/(?=\*\d+\r\n\$)/)) {
        const name = command.split('\r\n')[2]?.toUpperCase()
        if (name === undefined) continue
        if (name === 'HELLO') socket.write('%2\r\n+server\r\n+redis\r\n+proto\r\n:3\r\n')
        else socket.write(answer(name) ?? '+OK\r\n')
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      }),
  }
}
