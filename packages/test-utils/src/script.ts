import { type ChildProcess, spawn } from 'node:child_process'

/** A TypeScript script running in a child `node` process, read line by line. */
export interface ScriptChild {
  process: ChildProcess
  /** Lines printed so far. */
  lines: string[]
  /** Resolves with the first line starting with `prefix`; rejects if the child exits first. */
  line(prefix: string): Promise<string>
  /** The exit code. */
  exited: Promise<number | null>
}

/**
 * Runs `script` with `args` in a child `node` process (through tsx, on the packages' sources),
 * from `cwd`: stdin is a pipe, stdout is read as lines, stderr is the test's.
 */
export function startScript(script: string, args: string[], cwd: string): ScriptChild {
  const child = spawn(
    process.execPath,
    ['--conditions=@cachex/source', '--import', 'tsx', script, ...args],
    { cwd, stdio: ['pipe', 'pipe', 'inherit'] },
  )
  const lines: string[] = []
  const listeners: Array<() => void> = []
  let buffer = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString()
    let at = buffer.indexOf('\n')
    while (at >= 0) {
      lines.push(buffer.slice(0, at))
      buffer = buffer.slice(at + 1)
      at = buffer.indexOf('\n')
    }
    for (const listener of listeners) listener()
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return {
    process: child,
    lines,
    exited,
    line: (prefix) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find((l) => l.startsWith(prefix))
          if (found !== undefined) resolve(found)
        }
        listeners.push(check)
        check()
        void exited.then(() => {
          check()
          reject(new Error(`child ${child.pid} exited without printing '${prefix}'`))
        })
      }),
  }
}
