import { cache } from '@/lib/cache'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

// An atomic counter: `add` creates it once (never expiring), `incr` is one INCRBY.
export async function POST(): Promise<Response> {
  await cache.add('hits', 0, null)
  return Response.json({ hits: Number(await cache.incr('hits')) })
}
