// A fake Redis Sentinel on node:net: answers the SENTINEL queries with whatever the test says,
// and publishes notifications to the clients that PSUBSCRIBEd. RESP2 or RESP3 (after HELLO 3).
import { type AddressInfo, createServer, type Socket } from 'node:net'
import { parseCommand } from './_resp-proxy.ts'

export type Value = string | number | null | Value[] | Map<string, Value> | Buffer

export function encode(v: Value, resp3: boolean): string {
  if (v === null) return resp3 ? '_\r\n' : '$-1\r\n'
  if (typeof v === 'number') return `:${v}\r\n`
  if (typeof v === 'string') return `$${Buffer.byteLength(v)}\r\n${v}\r\n`
  if (Buffer.isBuffer(v)) return `$${v.length}\r\n${v.toString('latin1')}\r\n`
  if (v instanceof Map) {
    if (!resp3) return encode([...v].flat() as Value[], false)
    return `%${v.size}\r\n${[...v].map(([k, x]) => encode(k, true) + encode(x, true)).join('')}`
  }
  return `*${v.length}\r\n${v.map((x) => encode(x, resp3)).join('')}`
}

/** A SENTINEL MASTER reply: flat field list. */
export function masterFields(
  name: string,
  host: string,
  port: number | string,
  extra: Record<string, string> = {},
): Value {
  const f: Record<string, string> = {
    name,
    ip: host,
    port: String(port),
    runid: 'x',
    flags: 'master',
    'config-epoch': '0',
    'failover-timeout': '5000',
    ...extra,
  }
  return Object.entries(f).flat()
}

export function nodeFields(host: string, port: number | string, flags = 'slave'): Value {
  return ['name', `${host}:${port}`, 'ip', host, 'port', String(port), 'flags', flags]
}

export interface FakeSentinel {
  port: number
  host: string
  /** Answers, by lower-case `sentinel <sub>`; a function gets the args. */
  answers: Record<string, Value | ((args: string[]) => Value | string)>
  log: string[][]
  clients: Set<Socket>
  /** Publishes a pmessage to every client subscribed to a pattern matching `channel` (any). */
  publish(channel: string, message: string): number
  close(): Promise<void>
}

/** One command: an inline one (`PING\r\n`), or a RESP array of bulk strings. */
function parse(buf: Buffer, pos: number): { args: string[]; end: number } | undefined {
  if (buf[pos] === 0x2a) return parseCommand(buf, pos)
  const eol = buf.indexOf('\r\n', pos)
  if (eol === -1) return undefined
  return { args: buf.toString('latin1', pos, eol).split(' '), end: eol + 2 }
}

export async function startFakeSentinel(): Promise<FakeSentinel> {
  const clients = new Set<Socket>()
  const subs = new Map<Socket, { resp3: boolean; patterns: string[] }>()
  const fake: FakeSentinel = {
    port: 0,
    host: '127.0.0.1',
    answers: {},
    log: [],
    clients,
    publish(channel, message) {
      let n = 0
      for (const [socket, s] of subs) {
        if (socket.destroyed) continue
        for (const pattern of s.patterns) {
          const head = s.resp3 ? '>4\r\n' : '*4\r\n'
          socket.write(
            head +
              encode('pmessage', false) +
              encode(pattern, false) +
              encode(channel, false) +
              encode(message, false),
          )
          n++
          break
        }
      }
      return n
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of clients) s.destroy()
      }),
  }
  const server = createServer((socket) => {
    clients.add(socket)
    let resp3 = false
    let buf = Buffer.alloc(0)
    socket.on('error', () => {})
    socket.on('close', () => {
      clients.delete(socket)
      subs.delete(socket)
    })
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk])
      let pos = 0
      for (;;) {
        const c = parse(buf, pos)
        if (c === undefined) break
        pos = c.end
        const args = c.args
        fake.log.push(args)
        const name = (args[0] ?? '').toLowerCase()
        if (name === 'hello') {
          if (args[1] === '3') resp3 = true
          socket.write(
            encode(
              new Map<string, Value>([
                ['server', 'redis'],
                ['version', '7.2.0'],
                ['proto', resp3 ? 3 : 2],
                ['id', 1],
                ['mode', 'sentinel'],
                ['role', 'sentinel'],
                ['modules', []],
              ]),
              resp3,
            ),
          )
        } else if (name === 'psubscribe') {
          const patterns = args.slice(1)
          subs.set(socket, { resp3, patterns })
          patterns.forEach((p, i) => {
            socket.write(
              (resp3 ? '>3\r\n' : '*3\r\n') +
                encode('psubscribe', false) +
                encode(p, false) +
                `:${i + 1}\r\n`,
            )
          })
        } else if (name === 'ping') {
          socket.write('+PONG\r\n')
        } else if (name === 'sentinel') {
          const sub = (args[1] ?? '').toLowerCase()
          const a = fake.answers[sub]
          if (a === undefined) socket.write(`-ERR no answer for ${sub}\r\n`)
          else {
            const v = typeof a === 'function' ? a(args) : a
            socket.write(
              typeof v === 'string' && v.startsWith('RAW:')
                ? v.slice(4)
                : encode(v as Value, resp3),
            )
          }
        } else {
          socket.write('+OK\r\n')
        }
      }
      buf = buf.subarray(pos)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  fake.port = (server.address() as AddressInfo).port
  return fake
}
