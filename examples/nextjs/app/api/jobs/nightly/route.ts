import { type NightlyRun, runNightlyJob } from '@cachex/example-shared/backend'
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
    // Released before answering, so a client that saw the answer can run the job again.
    await lock.release()
  }
  return Response.json(result)
}
