import { dataNodeArgs, launch, type RedisServer } from './_server.ts'

/** Options of `startRedis`. */
export interface StartRedisOptions {
  /** Extra `redis-server` arguments, such as `['--requirepass', 'secret']`. */
  args?: string[]
  /** Put in the URL as the password. */
  password?: string
}

/** Starts `redis-server` on a free loopback port, keeping nothing on disk. */
export function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`
  return launch({
    argv: (port, dir) => [...dataNodeArgs(port, dir), ...(options.args ?? [])],
    url: (port) => `redis://${auth}127.0.0.1:${port}`,
  })
}
