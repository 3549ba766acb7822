import { Socket } from 'node:net'

/** A RESP2 reply: simple and bulk strings as strings, integers, arrays, nil as `null`. */
export type Reply = string | number | null | Error | Reply[]

/** Where `call` sends its command. */
export interface Target {
  port: number
  host?: string
  /** Sent with `AUTH` first. */
  password?: string
  /** ACL user, with `password`. */
  username?: string
  /** Sent with `SELECT` (after `AUTH`) when not 0. */
  db?: number
}

/**
 * Sends one command to a Redis server (or sentinel) on a fresh connection and resolves its reply;
 * an error reply rejects. The helpers' own client, so that test-utils needs no Redis library.
 */
export function call(target: Target, args: string[], ms = 5_000): Promise<Reply> {
  const commands: string[][] = []
  if (target.password !== undefined) {
    commands.push(
      target.username === undefined
        ? ['AUTH', target.password]
        : ['AUTH', target.username, target.password],
    )
  }
  if (target.db !== undefined && target.db !== 0) commands.push(['SELECT', String(target.db)])
  commands.push(args)
  return new Promise((resolve, reject) => {
    const socket = new Socket()
    let buffer = Buffer.alloc(0)
    const replies: Reply[] = []
    const done = (error: Error | undefined, reply?: Reply) => {
      clearTimeout(timer)
      socket.destroy()
      if (error !== undefined) reject(error)
      else resolve(reply as Reply)
    }
    const timer = setTimeout(
      () => done(new Error(`no reply to ${args[0]} from port ${target.port} within ${ms} ms`)),
      ms,
    )
    socket.once('error', (error) => done(error))
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      for (;;) {
        let parsed: ReturnType<typeof parse>
        try {
          parsed = parse(buffer, 0)
        } catch (error) {
          done(error as Error)
          return
        }
        if (parsed === undefined) return
        buffer = buffer.subarray(parsed.end)
        replies.push(parsed.reply)
        if (parsed.reply instanceof Error) {
          done(new Error(`${args.join(' ')} on port ${target.port}: ${parsed.reply.message}`))
          return
        }
        if (replies.length === commands.length) {
          done(undefined, parsed.reply)
          return
        }
      }
    })
    socket.connect(target.port, target.host ?? '127.0.0.1', () => {
      socket.write(commands.map(encode).join(''))
    })
  })
}

/** `INFO section` as a map of its `field:value` lines. */
export async function info(target: Target, section: string): Promise<Record<string, string>> {
  const text = String(await call(target, ['INFO', section]))
  const out: Record<string, string> = {}
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon > 0) out[line.slice(0, colon)] = line.slice(colon + 1).trim()
  }
  return out
}

/** A flat `[field, value, …]` reply as an object. */
export function pairs(reply: Reply): Record<string, string> {
  const out: Record<string, string> = {}
  if (!Array.isArray(reply)) return out
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1])
  return out
}

/** Calls `check` every 100 ms until it resolves `true`; rejects with `what` after `ms`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  ms = 20_000,
): Promise<void> {
  const until = Date.now() + ms
  let last: unknown
  while (Date.now() < until) {
    try {
      if (await check()) return
    } catch (error) {
      last = error
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${what} within ${ms} ms${last === undefined ? '' : `: ${String(last)}`}`)
}

function encode(args: string[]): string {
  let out = `*${args.length}\r\n`
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`
  return out
}

function parse(buffer: Buffer, start: number): { reply: Reply; end: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', start)
  if (lineEnd < 0) return undefined
  const type = String.fromCharCode(buffer[start] as number)
  const line = buffer.toString('utf8', start + 1, lineEnd)
  const next = lineEnd + 2
  switch (type) {
    case '+':
      return { reply: line, end: next }
    case '-':
      return { reply: new Error(line), end: next }
    case ':':
      return { reply: Number(line), end: next }
    case '$': {
      const length = Number(line)
      if (length < 0) return { reply: null, end: next }
      if (buffer.length < next + length + 2) return undefined
      return { reply: buffer.toString('utf8', next, next + length), end: next + length + 2 }
    }
    case '*': {
      const count = Number(line)
      if (count < 0) return { reply: null, end: next }
      const items: Reply[] = []
      let at = next
      for (let i = 0; i < count; i++) {
        const item = parse(buffer, at)
        if (item === undefined) return undefined
        items.push(item.reply)
        at = item.end
      }
      return { reply: items, end: at }
    }
    default:
      throw new Error(`unexpected RESP type '${type}'`)
  }
}
