import { cache } from '@/lib/cache'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

// Invalidation of every item at once (SCAN + UNLINK of `item:*`).
export async function DELETE(): Promise<Response> {
  return Response.json({ deleted: await cache.deletePattern('item:*') })
}
