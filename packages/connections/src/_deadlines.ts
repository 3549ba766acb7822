import { TimeoutError } from '@cachex/core'

interface Entry {
  expires: number
  settled: boolean
  reject: (error: Error) => void
  command: string
  next: Entry | undefined
}

/**
 * Bounds every call with one timer per connection instead of one per command (node-redis's own
 * per-command `AbortSignal.timeout` costs about 3× throughput on small pipelined commands).
 *
 * Every tracked call gets the same timeout, so entries expire in the order they were added: a
 * linked list ordered by deadline. A ticker running `resolution` ms apart rejects the expired ones
 * at the head; settled entries are dropped from the head as they finish, which keeps the list
 * short on one connection where replies arrive in order. A call therefore settles between
 * `timeoutMs` and `timeoutMs + resolution` after it started, whatever the server does.
 */
export class Deadlines {
  readonly timeoutMs: number
  readonly #resolution: number
  #head: Entry | undefined
  #tail: Entry | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs
    this.#resolution = Math.min(1000, Math.max(5, Math.floor(timeoutMs / 10)))
  }

  /** `promise`, rejected with a `TimeoutError` when it has not settled within `timeoutMs`. */
  track<T>(promise: Promise<T>, command: string, mapError: (error: unknown) => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Entry = {
        expires: performance.now() + this.timeoutMs,
        settled: false,
        reject,
        command,
        next: undefined,
      }
      if (this.#tail === undefined) this.#head = entry
      else this.#tail.next = entry
      this.#tail = entry
      this.#timer ??= setInterval(() => this.#tick(), this.#resolution).unref()
      promise.then(
        (value) => {
          entry.settled = true
          this.#dropSettled()
          resolve(value)
        },
        (error) => {
          entry.settled = true
          this.#dropSettled()
          reject(mapError(error))
        },
      )
    })
  }

  /** Rejects every pending call now (used when the connection is closed or destroyed). */
  rejectAll(error: Error): void {
    for (let entry = this.#head; entry !== undefined; entry = entry.next) {
      if (!entry.settled) {
        entry.settled = true
        entry.reject(error)
      }
    }
    this.#head = this.#tail = undefined
    this.#stop()
  }

  #dropSettled(): void {
    let head = this.#head
    while (head?.settled) head = head.next
    this.#head = head
    if (head === undefined) this.#tail = undefined
  }

  #tick(): void {
    const now = performance.now()
    let head = this.#head
    while (head !== undefined && (head.settled || head.expires <= now)) {
      if (!head.settled) {
        head.settled = true
        head.reject(
          new TimeoutError(
            `${head.command} did not complete within ${this.timeoutMs} ms (socketTimeout)`,
          ),
        )
      }
      head = head.next
    }
    this.#head = head
    if (head === undefined) {
      this.#tail = undefined
      this.#stop()
    }
  }

  #stop(): void {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }
}

/**
 * `reply` bounded by `deadlines` (when there are any), its failure mapped by `mapError` either
 * way: what every topology does with every command.
 */
export function bounded(
  deadlines: Deadlines | undefined,
  reply: Promise<unknown>,
  command: string,
  mapError: (error: unknown) => Error,
): Promise<unknown> {
  if (deadlines === undefined) {
    return reply.catch((error: unknown) => {
      throw mapError(error)
    })
  }
  return deadlines.track(reply, command, mapError)
}
