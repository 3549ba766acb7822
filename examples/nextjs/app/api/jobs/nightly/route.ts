import { type NightlyRun, runNightlyJob } from '@cachex/example-shared/backend'
import { ConnectionError, LockNotOwnedError } from '@cachex/redis'
import { cache } from '@/lib/cache'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

// A job that must not run twice at once: whoever gets the lock runs it, the others get 409.
// The lock expires after 10 s by itself, should this process die while holding it.
export async function POST(): Promise<Response> {
  const lock = cache.lock('nightly', { timeout: 10 })
  if (!(await lock.acquire({ blocking: false }))) {
    return Response.json({ error: 'the nightly job is already running' }, { status: 409 })
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
        console.error('the nightly lock was lost while the job ran:', error.message)
        return
      }
      if (!(error instanceof ConnectionError)) throw error
      console.error('could not release the nightly lock; it expires in 10 s:', error)
    })
  }
  return Response.json(result)
}
