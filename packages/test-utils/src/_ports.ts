// Ports for the servers tests start. The kernel's own pick (`listen(0)`) comes from its ephemeral
// range, which every outgoing connection and every other worker's pick also draw from: in 400
// picks here 13 came back, so a port a test freed to restart a killed node on could be handed to
// another file's new server meanwhile. Ports are picked at random below that range instead, and
// never twice in one process. A vitest worker draws from its own slice of that range: another
// worker's pick took the bus port of a cluster node killed to be restarted (CI: the restart
// exited, "Address already in use"), which one process's memory of its own ports cannot prevent.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

const HOST = '127.0.0.1'
/** The lowest port picked: above the ports services usually listen on. */
const LOWEST = 10_000
/** Ports this process handed out: a killed server's port stays its own for its restart. */
const handedOut = new Set<number>()

/** The ports below the kernel's ephemeral range (Linux), `undefined` where it cannot be read. */
function belowEphemeral(): [number, number] | undefined {
  try {
    const low = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'latin1').split(/\s+/)[0],
    )
    return low - 1 - LOWEST >= 1000 ? [LOWEST, low - 1] : undefined
  } catch {
    return undefined
  }
}

/** Slices of the range, one per vitest worker (`VITEST_POOL_ID` is 1 up to `maxWorkers`). */
const SLICES = 8

/**
 * This process's part of `range`: the slice of its vitest worker (workers past `SLICES` share),
 * the whole range outside vitest.
 */
function slice(range: [number, number] | undefined): [number, number] | undefined {
  const pool = Number(process.env.VITEST_POOL_ID)
  if (range === undefined || !Number.isInteger(pool) || pool < 1) return range
  const [low, high] = range
  const size = Math.floor((high - low + 1) / SLICES)
  const first = low + ((pool - 1) % SLICES) * size
  return [first, first + size - 1]
}

const RANGE = slice(belowEphemeral())

/** Listens on `port` (0: the kernel picks) and closes again: the port, or `0` when it was taken. */
function tryPort(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', (error: NodeJS.ErrnoException) =>
      port !== 0 && (error.code === 'EADDRINUSE' || error.code === 'EACCES')
        ? resolve(0)
        : reject(error),
    )
    server.listen(port, HOST, () => {
      const address = server.address()
      const bound = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(bound))
    })
  })
}

/**
 * A TCP port that is free on 127.0.0.1 right now: picked at random below the kernel's ephemeral
 * range, in this vitest worker's slice of it, and never handed out twice by this process (where
 * the range cannot be read, the kernel's pick).
 */
export async function freePort(): Promise<number> {
  if (RANGE !== undefined) {
    const [low, high] = RANGE
    for (let attempt = 0; attempt < 100; attempt++) {
      const port = low + Math.floor(Math.random() * (high - low + 1))
      if (handedOut.has(port)) continue
      if ((await tryPort(port)) === port) {
        handedOut.add(port)
        return port
      }
    }
  }
  return tryPort(0)
}
