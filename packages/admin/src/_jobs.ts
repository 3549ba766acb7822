// `deletePattern` as a job the browser polls: a dry run counts the keys a pattern matches, then
// the real run walks them again with SCAN and UNLINKs them chunk by chunk, reporting how far it
// got. A chunk is bounded in keys and in the bytes of their names: it shares the cache's
// connection, whose maxInFlightBytes (32 MiB by default) would refuse a chunk of long names —
// and the application's own commands meanwhile. Jobs can be cancelled; finished ones are kept
// for a while, and only a few run at once. The SCAN COUNT adapts to each call's time
// (`adaptiveScan`), so that no call holds Redis long over keys with long names. A job whose
// server changed during its walk (a failover, a reconnection) walks again from the start.
import { randomBytes } from 'node:crypto'
import { setImmediate as yieldToEvents } from 'node:timers/promises'
import type { Connection } from '@cachex/core'
import { serverOf } from '@cachex/core/internal'
import type { JobView } from './_api-types.ts'
import type { AdminCache } from './_caches.ts'
import { byNameBytes } from './_chunks.ts'
import { HttpError, scrub } from './_http.ts'
import { adaptiveScan, serverChangedSince } from './_scan.ts'

/** Jobs running at once at most. */
const MAX_RUNNING = 4
/** Jobs kept (running and finished) at most. */
const MAX_JOBS = 100
/** A finished job is forgotten after this long. */
const KEEP_MS = 10 * 60_000
/** Keys per SCAN call at most (the COUNT starts at 1 and grows while calls are fast). */
const SCAN_COUNT = 1000
/** Keys unlinked concurrently at most. */
const UNLINK_CHUNK = 200
/**
 * Bytes of key names unlinked concurrently at most (a longer name goes alone): well under the
 * connection's maxInFlightBytes, which the application's commands share.
 */
const UNLINK_BYTES = 1024 * 1024
/** Times a job whose server changed (a failover, a reconnection) walks again at most. */
const RESTARTS = 3

interface Job extends JobView {
  cancelled: boolean
  finished: number
  who: string
}

/** The `deletePattern` jobs of one handler. */
export class Jobs {
  readonly #jobs = new Map<string, Job>()

  /** Starts a job; `onEnd` runs once when it ends, however it ends. */
  start(
    entry: AdminCache,
    kind: 'count' | 'delete',
    pattern: string,
    version: number,
    expected: number | null,
    who: string,
    onEnd: (job: JobView) => void,
  ): JobView {
    this.#expire()
    const running = [...this.#jobs.values()].filter((j) => j.state === 'running').length
    if (running >= MAX_RUNNING) {
      throw new HttpError(
        429,
        `${MAX_RUNNING} pattern jobs are running already: wait for one`,
        'busy',
      )
    }
    const job: Job = {
      id: randomBytes(12).toString('base64url'),
      kind,
      cache: entry.alias,
      pattern,
      state: 'running',
      matched: 0,
      deleted: 0,
      expected,
      cancelled: false,
      finished: 0,
      who,
    }
    this.#jobs.set(job.id, job)
    const redisPattern = entry.cache.makePattern(pattern, version)
    void this.#run(entry, job, redisPattern).then(() => onEnd(view(job)))
    return view(job)
  }

  async #run(entry: AdminCache, job: Job, redisPattern: string): Promise<void> {
    const connection = entry.cache.connection
    try {
      for (let restarts = 0; ; restarts++) {
        const generation = serverOf(connection)()
        try {
          await this.#walk(connection, job, redisPattern)
          break
        } catch (error) {
          // Its server changed (a failover, a reconnection): the walk starts over there, a
          // count from 0 (deleting again is harmless; `deleted` counts on).
          if (job.cancelled || restarts >= RESTARTS) throw error
          if (!serverChangedSince(connection, generation, error)) throw error
          job.matched = 0
        }
      }
      job.state = job.cancelled ? 'cancelled' : 'done'
    } catch (error) {
      job.state = 'failed'
      // The error is sent to the browser as a job's state, not as an error reply: scrubbed here.
      job.error = scrub(error instanceof Error ? error.message : String(error))
    }
    job.finished = Date.now()
  }

  /** One walk of the job: counts the keys it finds, and deletes them for a `delete` job. */
  async #walk(connection: Connection, job: Job, redisPattern: string): Promise<void> {
    for await (const batch of adaptiveScan(connection, redisPattern, SCAN_COUNT)) {
      if (job.cancelled) break
      job.matched += batch.length
      if (job.kind === 'delete') {
        for (const chunk of byNameBytes(batch, UNLINK_CHUNK, UNLINK_BYTES)) {
          if (job.cancelled) break
          // Each key as SCAN gave it: a name that is not UTF-8 stays its exact bytes, so the
          // key deleted is the key matched (decoded, it would name another key, or none).
          const replies = await Promise.allSettled(
            chunk.map((key) => connection.command(['UNLINK', key], { key })),
          )
          // Every UNLINK that ran is counted before a failed one ends the job: the job (and
          // the audit entry) says what was deleted.
          for (const reply of replies) {
            if (reply.status === 'fulfilled') job.deleted += Number(reply.value)
          }
          const failed = replies.find(
            (reply): reply is PromiseRejectedResult => reply.status === 'rejected',
          )
          if (failed !== undefined) throw failed.reason
        }
      }
      // Let requests (and the progress polls) in between batches.
      await yieldToEvents()
    }
  }

  get(id: string): JobView {
    this.#expire()
    const job = this.#jobs.get(id)
    if (job === undefined) throw new HttpError(404, 'there is no such job', 'not_found')
    return view(job)
  }

  cancel(id: string): JobView {
    const job = this.#jobs.get(id)
    if (job === undefined) throw new HttpError(404, 'there is no such job', 'not_found')
    if (job.state === 'running') job.cancelled = true
    return view(job)
  }

  #expire(): void {
    const before = Date.now() - KEEP_MS
    for (const [id, job] of this.#jobs) {
      if (job.state !== 'running' && job.finished < before) this.#jobs.delete(id)
    }
    for (const [id, job] of this.#jobs) {
      if (this.#jobs.size < MAX_JOBS) break
      if (job.state !== 'running') this.#jobs.delete(id)
    }
  }

  close(): void {
    for (const job of this.#jobs.values()) job.cancelled = true
  }
}

function view(job: Job): JobView {
  const { cancelled: _, finished: __, who: ___, ...rest } = job
  return { ...rest }
}
