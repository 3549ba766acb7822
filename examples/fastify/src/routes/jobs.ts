import { type NightlyRun, runNightlyJob } from '@cachex/example-shared/backend'
import { ConnectionError, LockNotOwnedError } from '@cachex/redis'
import type { FastifyPluginAsync } from 'fastify'

/** `/jobs`: work that must not run twice at once, even across app instances. */
const jobs: FastifyPluginAsync = async (fastify) => {
  // Whoever gets the lock runs the job, the others get 409. The lock expires after 10 s by itself,
  // should this process die while holding it.
  fastify.post('/nightly', async (request, reply) => {
    const lock = fastify.cache.lock('nightly', { timeout: 10 })
    if (!(await lock.acquire({ blocking: false }))) {
      return reply.code(409).send({ error: 'the nightly job is already running' })
    }
    let result: NightlyRun
    try {
      result = await runNightlyJob()
    } finally {
      // Released before answering, so a client that saw the answer can run the job again. A
      // release Redis did not answer (a ConnectionError; TimeoutError is one) must not replace the
      // job's outcome: a 500 after a job that ran makes the client retry, and run the job twice
      // once the lock expired. Logged instead; the lock expires by its `timeout`. Nor must a lock
      // lost while the job ran (LockNotOwnedError: it expired, or Redis restarted empty).
      await lock.release().catch((error: unknown) => {
        if (error instanceof LockNotOwnedError) {
          request.log.error({ err: error }, 'the nightly lock was lost while the job ran')
          return
        }
        if (!(error instanceof ConnectionError)) throw error
        request.log.error({ err: error }, 'could not release the nightly lock; it expires in 10 s')
      })
    }
    return result
  })
}

export default jobs
