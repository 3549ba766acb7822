import { cache } from '@/lib/cache'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

// An atomic counter: `add` creates it once (never expiring), `incr` is one INCRBY.
export async function POST(): Promise<Response> {
  await cache.add('hits', 0, null)
  // Past 2^53 the count is a bigint (exact): answer it as a string, which Number() would round.
  const hits = await cache.incr('hits')
  return Response.json({ hits: typeof hits === 'bigint' ? hits.toString() : hits })
}
