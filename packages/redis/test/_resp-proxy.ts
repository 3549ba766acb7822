// A RESP proxy for tests of a server that answers wrongly (replies that cannot be read, replies
// of a shape their command never gives): it passes every command to a real redis-server and lets
// a test rewrite selected replies.
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll } from 'vitest'

/** Parses one RESP value starting at `pos`; returns the end offset, or -1 if incomplete. */
export function frameEnd(buf: Buffer, pos: number): number {
  if (pos >= buf.length) return -1
  const type = String.fromCharCode(buf[pos] ?? 0)
  const eol = buf.indexOf('\r\n', pos)
  if (eol === -1) return -1
  const line = buf.toString('latin1', pos + 1, eol)
  let p = eol + 2
  switch (type) {
    case '+':
    case '-':
    case ':':
    case ',':
    case '#':
    case '_':
    case '(':
      return p
    case '$':
    case '=':
    case '!': {
      const n = Number(line)
      if (n < 0) return p
      if (buf.length < p + n + 2) return -1
      return p + n + 2
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      let n = Number(line)
      if (n < 0) return p
      if (type === '%' || type === '|') n *= 2
      for (let i = 0; i < n; i++) {
        p = frameEnd(buf, p)
        if (p === -1) return -1
      }
      if (type === '|') return frameEnd(buf, p)
      return p
    }
    default:
      throw new Error(`bad type ${type}`)
  }
}

/** One command sent as a RESP array of bulk strings; `undefined` if incomplete. */
export function parseCommand(
  buf: Buffer,
  pos: number,
): { args: string[]; end: number } | undefined {
  const eol = buf.indexOf('\r\n', pos)
  if (eol === -1) return undefined
  const n = Number(buf.toString('latin1', pos + 1, eol))
  let p = eol + 2
  const args: string[] = []
  for (let i = 0; i < n; i++) {
    const e = buf.indexOf('\r\n', p)
    if (e === -1) return undefined
    const len = Number(buf.toString('latin1', p + 1, e))
    if (buf.length < e + 2 + len + 2) return undefined
    args.push(buf.toString('latin1', e + 2, e + 2 + len))
    p = e + 2 + len + 2
  }
  return { args, end: p }
}

/**
 * What to do with one reply: `undefined` passes it through; a Buffer/string replaces it; a
 * function gets the client socket to do anything (write in chunks, destroy, ...).
 */
export type Tamper = (
  args: string[],
  reply: Buffer,
) => undefined | string | Buffer | ((client: Socket) => void)

/**
 * A tamper that may hold a reply: the promise it returns (a rewrite, or `undefined` to pass the
 * reply on) is awaited before the reply, and every later one of its socket, is sent; a rejection
 * passes the reply on as it is.
 */
export type Hold = (
  args: string[],
  reply: Buffer,
) => undefined | string | Buffer | Promise<undefined | string | Buffer>

export interface RespProxy {
  url: string
  port: number
  /** Every command seen, in order. */
  log: string[][]
  tamper: Tamper | undefined
  /**
   * Replaces `tamper` while set: replies go through it one at a time, in order. Once a socket has
   * had a reply go this way, its later replies all do (in order, passed on as they are if `hold`
   * is unset by then).
   */
  hold?: Hold | undefined
  /** Stops the proxy and closes its sockets. */
  close(): Promise<void>
  sockets: Set<Socket>
}

/** A proxy to the redis-server at `target` (a `redis://` URL), on a free loopback port. */
export async function startProxy(target: string): Promise<RespProxy> {
  const { hostname, port } = new URL(target)
  const sockets = new Set<Socket>()
  const proxy: RespProxy = {
    url: '',
    port: 0,
    log: [],
    tamper: undefined,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      }),
  }
  const server = createServer((client) => {
    sockets.add(client)
    const upstream = connect(Number(port), hostname)
    sockets.add(upstream)
    const pending: string[][] = []
    let inBuf = Buffer.alloc(0)
    let outBuf = Buffer.alloc(0)
    /** The replies of this socket in `hold`'s hands, once one went there. */
    let held: Promise<void> | undefined
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.on('close', () => {
      sockets.delete(client)
      upstream.destroy()
    })
    upstream.on('close', () => {
      sockets.delete(upstream)
      client.destroy()
    })
    client.on('data', (chunk: Buffer) => {
      inBuf = Buffer.concat([inBuf, chunk])
      let pos = 0
      for (;;) {
        const c = parseCommand(inBuf, pos)
        if (c === undefined) break
        pending.push(c.args)
        proxy.log.push(c.args)
        pos = c.end
      }
      inBuf = inBuf.subarray(pos)
      upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      outBuf = Buffer.concat([outBuf, chunk])
      let pos = 0
      for (;;) {
        const end = frameEnd(outBuf, pos)
        if (end === -1) break
        const reply = outBuf.subarray(pos, end)
        pos = end
        if (proxy.hold !== undefined || held !== undefined) {
          held = holdReply(held ?? Promise.resolve(), proxy, client, pending, Buffer.from(reply))
          continue
        }
        if (reply[0] === 0x3e /* > push */) {
          if (!client.destroyed) client.write(reply)
          continue
        }
        const args = pending.shift() ?? []
        const t = proxy.tamper?.(args, Buffer.from(reply))
        if (client.destroyed) continue
        if (t === undefined) client.write(reply)
        else if (typeof t === 'function') t(client)
        else client.write(t)
      }
      outBuf = outBuf.subarray(pos)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  proxy.port = (server.address() as AddressInfo).port
  proxy.url = `redis://127.0.0.1:${proxy.port}`
  return proxy
}

/** Sends `reply` to `client` after `queue`, through `proxy.hold` (unless a push). */
function holdReply(
  queue: Promise<void>,
  proxy: RespProxy,
  client: Socket,
  pending: string[][],
  reply: Buffer,
): Promise<void> {
  const args = reply[0] === 0x3e /* > push */ ? undefined : (pending.shift() ?? [])
  return queue.then(async () => {
    let t: undefined | string | Buffer
    try {
      t = args === undefined ? undefined : await proxy.hold?.(args, reply)
    } catch {
      t = undefined
    }
    if (!client.destroyed) client.write(t === undefined ? reply : t)
  })
}

/** A test file's redis-server behind a RESP proxy, and what the process threw unhandled. */
export interface ProxiedRedis {
  redis: RedisServer
  proxy: RespProxy
  /** Uncaught exceptions and unhandled rejections while the file's tests ran. */
  crashes: unknown[]
}

/**
 * Starts a redis-server and a proxy in front of it before the file's tests (stopped after them),
 * and records the process's crashes meanwhile. Call at a test file's top level.
 */
export function proxiedRedis(): ProxiedRedis {
  const fixture = { crashes: [] as unknown[] } as ProxiedRedis
  const onCrash = (error: unknown) => fixture.crashes.push(error)
  beforeAll(async () => {
    process.on('uncaughtException', onCrash)
    process.on('unhandledRejection', onCrash)
    fixture.redis = await startRedis()
    fixture.proxy = await startProxy(fixture.redis.url)
  })
  afterAll(async () => {
    process.off('uncaughtException', onCrash)
    process.off('unhandledRejection', onCrash)
    await fixture.proxy?.close()
    await fixture.redis?.stop()
  })
  return fixture
}
