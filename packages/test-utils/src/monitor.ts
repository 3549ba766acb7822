import { Socket } from 'node:net'

/** The commands a server ran while a `monitor` watched, each as its arguments. */
export interface Monitor {
  /** Every command seen so far, oldest first, each as `['SET', 'key', 'value', 'PX', '1001']`. */
  readonly commands: string[][]
  /** Resolves once the server has run a command for which `match` is true; rejects after `ms`. */
  waitFor(match: (command: string[]) => boolean, ms?: number): Promise<string[]>
  /** Closes the watching connection. */
  stop(): void
}

/**
 * Watches every command a server runs (`MONITOR`), to assert on exactly what a client sent — the
 * arguments, not their effect (a TTL read back has already shrunk). Resolves once watching.
 */
export function monitor(port: number, host = '127.0.0.1'): Promise<Monitor> {
  const commands: string[][] = []
  const waiters: Array<{ match: (c: string[]) => boolean; resolve: (c: string[]) => void }> = []
  const socket = new Socket()
  let pending = ''
  return new Promise((resolve, reject) => {
    socket.once('error', reject)
    socket.connect(port, host, () => socket.write('MONITOR\r\n'))
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      pending += chunk
      for (let end = pending.indexOf('\r\n'); end !== -1; end = pending.indexOf('\r\n')) {
        const line = pending.slice(0, end)
        pending = pending.slice(end + 2)
        if (line === '+OK') {
          resolve(watcher)
          continue
        }
        const command = parseMonitorLine(line)
        if (command === undefined) continue
        commands.push(command)
        for (const waiter of waiters.splice(0)) {
          if (waiter.match(command)) waiter.resolve(command)
          else waiters.push(waiter)
        }
      }
    })
    const watcher: Monitor = {
      commands,
      waitFor(match, ms = 10_000) {
        const seen = commands.find(match)
        if (seen !== undefined) return Promise.resolve(seen)
        return new Promise((found, fail) => {
          const timer = setTimeout(() => fail(new Error(`no matching command within ${ms} ms`)), ms)
          waiters.push({
            match,
            resolve: (command) => {
              clearTimeout(timer)
              found(command)
            },
          })
        })
      },
      stop: () => socket.destroy(),
    }
  })
}

/** `+1700000000.123456 [0 127.0.0.1:5000] "SET" "k" "v\x00"` → `['SET', 'k', 'v\x00']`. */
function parseMonitorLine(line: string): string[] | undefined {
  const start = line.indexOf('] ')
  if (!line.startsWith('+') || start === -1) return undefined
  const args: string[] = []
  for (const match of line.slice(start + 2).matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    args.push(
      (match[1] as string).replace(/\\x([0-9a-f]{2})|\\(.)/g, (_, hex: string, ch: string) =>
        hex === undefined
          ? ({ n: '\n', r: '\r', t: '\t' }[ch] ?? ch)
          : String.fromCharCode(parseInt(hex, 16)),
      ),
    )
  }
  return args
}
