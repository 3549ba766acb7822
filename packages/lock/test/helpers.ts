import { memory, standalone } from '@cachex/connections'
import type { Connection } from '@cachex/core'
import { startRedis, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll } from 'vitest'

/** Where a parametrized suite runs: a real `redis-server`, or the in-process `memory://`. */
export type Backend = 'redis' | 'memory'

/** Both backends, for `describe.each(BACKENDS)`: one suite body, run against each. */
export const BACKENDS: readonly Backend[] = ['redis', 'memory']

/** A server of `backend`, and how to open a connection to it. */
export interface BackendServer {
  /** A new connection to the server (on `memory://`, to its store: all of them share its keys). */
  connect(): Connection
  stop(): Promise<void>
}

/**
 * A fresh `redis-server`, or a `memory://<name>` store of its own: every connection `connect()`
 * opens shares it, as connections to one server share its keys.
 */
export async function backendServer(backend: Backend): Promise<BackendServer> {
  if (backend === 'redis') {
    const server = await startRedis()
    return {
      connect: () => standalone({ location: server.url }),
      stop: () => server.stop(),
    }
  }
  const location = `memory://${uniquePrefix('lock-suite')}`
  return { connect: () => memory({ location }), stop: async () => undefined }
}

/**
 * In the calling `describe`: a server of `backend` started before its tests, with one connection
 * to it handed to `opened`, both closed after them.
 */
export function useBackend(
  backend: Backend,
  opened: (server: BackendServer, connection: Connection) => void,
): void {
  let server: BackendServer | undefined
  let connection: Connection | undefined
  beforeAll(async () => {
    server = await backendServer(backend)
    connection = server.connect()
    opened(server, connection)
  })
  afterAll(async () => {
    await connection?.close()
    await server?.stop()
  })
}
