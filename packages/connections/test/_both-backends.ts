// A real redis-server and `memory://` side by side, for tests that send a command to both and
// expect the same reply: replies compared as text (bulk strings), errors by message.
import { memory, standalone } from '@cachex/connections'
import { type Connection, ResponseError } from '@cachex/core'
import { standaloneServer } from '@cachex/test-utils'
import { afterAll, beforeAll, beforeEach, expect } from 'vitest'

/** The two backends of a test file (`bothBackends`). */
export interface Backends {
  /** The redis-server's URL. */
  readonly url: string
  /** The `memory://` connection. */
  readonly mem: Connection
  /** Sends `args` to both, expects the same reply, and returns Redis's. */
  both(...args: string[]): Promise<unknown>
}

/**
 * Starts a redis-server and a `memory://` store for the test file (stopped after it), both
 * flushed before each test.
 */
export function bothBackends(): Backends {
  let server: { url: string; stop(): Promise<void> } | undefined
  let real: Connection | undefined
  let mem: Connection | undefined
  beforeAll(async () => {
    server = await standaloneServer()
    real = standalone({ location: server.url })
    mem = memory({ location: 'memory://' })
  })
  afterAll(async () => {
    await Promise.all([real?.close(), mem?.close()])
    await server?.stop()
  })
  beforeEach(async () => {
    await Promise.all([real?.flush(), mem?.flush()])
  })
  return {
    get url() {
      return (server as { url: string }).url
    },
    get mem() {
      return mem as Connection
    },
    async both(...args) {
      const [want, got] = await Promise.all([
        send(real as Connection, args),
        send(mem as Connection, args),
      ])
      expect({ args, reply: got }).toEqual({ args, reply: want })
      return want
    },
  }
}

/** A reply as text (bulk strings), or `ERR: message` for an error reply. */
function comparable(reply: unknown): unknown {
  if (reply instanceof ResponseError) return `ERR: ${reply.message}`
  if (Buffer.isBuffer(reply)) return reply.toString('latin1')
  if (Array.isArray(reply)) return reply.map(comparable)
  return reply
}

/** `args`' reply on `connection`, as `comparable` gives it (an error reply too). */
export async function send(connection: Connection, args: string[]): Promise<unknown> {
  try {
    return comparable(await connection.command(args))
  } catch (error) {
    if (!(error instanceof ResponseError)) throw error
    return comparable(error)
  }
}
